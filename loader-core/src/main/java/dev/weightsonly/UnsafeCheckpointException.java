package dev.weightsonly;

/**
 * The file asks for something a weights-only load never does: a global outside the allowlist, a call
 * or construction the allowlist does not permit, a mutation of an object that is not a plain container.
 * This is the answer to a malicious pickle; it can also be a legitimate checkpoint that holds objects of
 * classes that must be allowed explicitly.
 */
public sealed class UnsafeCheckpointException extends CheckpointException permits UnsupportedGlobalException {

    private static final long serialVersionUID = 1L;

    UnsafeCheckpointException(Location where, String detail) {
        super(where, detail);
    }
}
