package dev.weightsonly.internal.paged;

import java.util.Arrays;

/**
 * An {@code Object[]} that only grows, in pages (see the package's description for why), initially all null. A
 * page is made when an element of it is first set, as long as the elements set so far need (doubling up to the
 * full page), so a small memo stays small and a length that is mostly unused costs only its page table; growing
 * the length adds room to that table and copies no full page.
 *
 * @param <T> the elements' type
 */
public final class ObjectPages<T> {

    private Object[][] pages;
    private int length;

    /**
     * @param length the initial number of elements, at least 0
     */
    public ObjectPages(int length) {
        this.length = length;
        pages = new Object[Pages.count(length)][];
    }

    public int length() {
        return length;
    }

    /** Makes the length {@code length}, which must be at least the current one; the new elements are null. */
    public void grow(int length) {
        if (length < this.length) {
            throw new IllegalArgumentException("shrink from " + this.length + " to " + length);
        }
        int count = Pages.count(length);
        if (count > pages.length) {
            pages = Arrays.copyOf(pages, count);
        }
        this.length = length;
    }

    /** The element at {@code i} (below {@link #length()}), or null if it was never set. */
    @SuppressWarnings("unchecked")
    public T get(int i) {
        if (i >= length) {
            throw new ArrayIndexOutOfBoundsException("index " + i + " out of bounds for length " + length);
        }
        Object[] page = pages[i >>> Pages.SHIFT];
        int at = i & Pages.MASK;
        return page == null || at >= page.length ? null : (T) page[at];
    }

    public void set(int i, T value) {
        if (i >= length) {
            throw new ArrayIndexOutOfBoundsException("index " + i + " out of bounds for length " + length);
        }
        Object[] page = pages[i >>> Pages.SHIFT];
        int at = i & Pages.MASK;
        if (page == null || at >= page.length) {
            int size = Math.max(16, page == null ? 0 : 2 * page.length);
            while (size <= at) {
                size *= 2;
            }
            page = Arrays.copyOf(page == null ? new Object[0] : page, Math.min(Pages.SIZE, size));
            pages[i >>> Pages.SHIFT] = page;
        }
        page[at] = value;
    }
}
