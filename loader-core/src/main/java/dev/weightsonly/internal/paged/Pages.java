package dev.weightsonly.internal.paged;

/** The page geometry shared by the paged arrays. */
final class Pages {

    /** Elements per page of ints, longs or references: 256 KiB of longs, 128 KiB of ints or references. */
    static final int SHIFT = 15;
    static final int SIZE = 1 << SHIFT;
    static final int MASK = SIZE - 1;

    private Pages() {
    }

    /** How many pages hold {@code length} elements. */
    static int count(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        return (int) ((length + (long) MASK) >>> SHIFT);
    }

    /** The length of page {@code page} of an array of {@code length} elements (the last may be short). */
    static int length(int page, int length) {
        return Math.min(SIZE, length - (page << SHIFT));
    }
}
