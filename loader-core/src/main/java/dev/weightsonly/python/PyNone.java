package dev.weightsonly.python;

/** Python's {@code None}. A singleton, so that maps and lists can hold it (Java's null cannot mean None). */
public enum PyNone {
    /** The one {@code None}. */
    NONE;

    @Override
    public String toString() {
        return "None";
    }
}
