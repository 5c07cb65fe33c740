package dev.weightsonly.djl;

/**
 * A state dict that does not fit a block: a shape that differs from the parameter's, or (in strict mode) missing
 * or unexpected keys. The message lists them as PyTorch's {@code load_state_dict} does. No parameter has been
 * changed when this is thrown.
 */
public final class StateDictMismatchException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient LoadReport report;

    StateDictMismatchException(String message, LoadReport report) {
        super(message);
        this.report = report;
    }

    /**
     * The keys as they were matched (nothing was loaded: {@link LoadReport#loaded()} lists what would have been).
     *
     * @return the report
     */
    public LoadReport report() {
        return report;
    }
}
