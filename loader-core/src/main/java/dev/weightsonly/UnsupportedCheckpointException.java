package dev.weightsonly;

/**
 * The file is a checkpoint format or construct that weightsonly recognises but does not load (for
 * example a TorchScript archive, which a weights-only load must refuse, or a tensor kind not supported
 * yet). The message says what the construct is; nothing is ever silently dropped instead.
 */
public final class UnsupportedCheckpointException extends CheckpointException {

    private static final long serialVersionUID = 1L;

    UnsupportedCheckpointException(Location where, String detail) {
        super(where, detail);
    }
}
