package dev.weightsonly;

/**
 * The checkpoint exceeds one of the {@link LoadLimits}. The limits exist so that a hostile file cannot
 * exhaust memory or time; a genuine checkpoint that trips one can be loaded with a raised limit.
 */
public final class LimitExceededException extends CheckpointException {

    private static final long serialVersionUID = 1L;

    private final String limitName;
    private final long limit;

    LimitExceededException(Location where, String limitName, long limit, String detail) {
        super(where, detail + " (limit " + limitName + " = " + limit + "; raise it with LoadLimits.builder()."
                + limitName + "(...) if you trust this file)");
        this.limitName = limitName;
        this.limit = limit;
    }

    /** The name of the limit, as the {@link LoadLimits} accessor that holds it. */
    public String limitName() {
        return limitName;
    }

    /** The value of the limit in force. */
    public long limit() {
        return limit;
    }
}
