package dev.weightsonly.internal.paged;

/** An {@code int[]} of a fixed length, in pages (see the package's description for why), initially all zero. */
public final class IntPages {

    private final int[][] pages;
    private final int length;

    /**
     * @param length the number of elements, at least 0
     */
    public IntPages(int length) {
        this.length = length;
        pages = new int[Pages.count(length)][];
        for (int p = 0; p < pages.length; p++) {
            pages[p] = new int[Pages.length(p, length)];
        }
    }

    public int length() {
        return length;
    }

    public int get(int i) {
        return pages[i >>> Pages.SHIFT][i & Pages.MASK];
    }

    public void set(int i, int value) {
        pages[i >>> Pages.SHIFT][i & Pages.MASK] = value;
    }
}
