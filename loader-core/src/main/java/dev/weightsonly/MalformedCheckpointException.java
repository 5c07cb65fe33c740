package dev.weightsonly;

/**
 * The bytes are not a well-formed checkpoint: a truncated or corrupt archive, an invalid pickle, a
 * tensor view outside its storage, a record whose size disagrees with what the pickle declares.
 */
public final class MalformedCheckpointException extends CheckpointException {

    private static final long serialVersionUID = 1L;

    MalformedCheckpointException(Location where, String detail) {
        super(where, detail);
    }
}
