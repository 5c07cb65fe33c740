package dev.weightsonly;

/**
 * The checkpoint exceeds one of the {@link LoadLimits}. The limits exist so that a hostile file cannot
 * exhaust memory or time; a genuine checkpoint that trips one can be loaded with a raised limit.
 */
public final class LimitExceededException extends CheckpointException {

    private static final long serialVersionUID = 1L;

    /** The limit's name; see {@link #limitName()}. */
    private final String limitName;
    /** The limit's value; see {@link #limit()}. */
    private final long limit;

    LimitExceededException(Location where, String limitName, long limit, String detail) {
        super(where, detail + " (limit " + limitName + " = " + limit + "; raise it with LoadLimits.builder()."
                + limitName + "(...) if you trust this file)");
        this.limitName = limitName;
        this.limit = limit;
    }

    /**
     * Which limit was exceeded, so that a caller can raise that one ({@code LoadLimits.builder().maxTensors(...)}).
     *
     * @return the name of the {@link LoadLimits} accessor that holds it, such as {@code "maxTensors"}
     */
    public String limitName() {
        return limitName;
    }

    /**
     * The value of the limit in force when the load was refused.
     *
     * @return the limit, in the unit of its {@link LoadLimits} component
     */
    public long limit() {
        return limit;
    }
}
