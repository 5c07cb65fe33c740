package dev.weightsonly.internal.paged;

/** A {@code long[]} of a fixed length, in pages (see the package's description for why), initially all zero. */
public final class LongPages {

    private final long[][] pages;
    private final int length;

    /**
     * @param length the number of elements, at least 0
     */
    public LongPages(int length) {
        this.length = length;
        pages = new long[Pages.count(length)][];
        for (int p = 0; p < pages.length; p++) {
            pages[p] = new long[Pages.length(p, length)];
        }
    }

    public int length() {
        return length;
    }

    public long get(int i) {
        return pages[i >>> Pages.SHIFT][i & Pages.MASK];
    }

    public void set(int i, long value) {
        pages[i >>> Pages.SHIFT][i & Pages.MASK] = value;
    }
}
