package dev.weightsonly.tensors;

import java.io.Serial;

/**
 * A tensor view's claimed geometry (offset, shape, strides) does not fit its dtype or its storage.
 * Checkpoint data are untrusted, so this is an expected outcome of loading a malformed or hostile
 * file; the message says what was claimed and what was found.
 */
public final class InvalidViewException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception with a message describing the claim and the finding.
     *
     * @param message what the view claimed (offset, shape, strides, dtype) and why its storage or dtype cannot
     *     hold it
     */
    public InvalidViewException(String message) {
        super(message);
    }
}
