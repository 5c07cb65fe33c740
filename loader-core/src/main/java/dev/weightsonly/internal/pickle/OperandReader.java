package dev.weightsonly.internal.pickle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The one reader of pickle operands, driven by {@link Opcode}'s table: a cursor over {@code [start, end)} of
 * the data that reads an opcode's byte, then its operand as the table lays it out. Whoever walks a pickle (the
 * unpickler, the memo pre-pass, the scanner, the tests' splitter) reads operands here, so all of them end an
 * operand at the same byte. It checks every length against what is left, and allocates nothing.
 */
public final class OperandReader {

    /** An operand that cannot be read: the data ends inside it, or a length is out of range. */
    public static class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        public Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The data ends inside an operand, or before a text operand's newline: a truncated pickle, or one that runs
     * past the bound a reader set ({@link Unpickler#loadPrefix}).
     */
    public static final class Truncated extends Malformed {
        private static final long serialVersionUID = 1L;

        Truncated(String message) {
            super(message);
        }
    }

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@link #lineLength} when no newline comes before the end of the data. */
    public static final long NO_NEWLINE = -1;
    /** {@link #lineLength} when no newline comes within the allowed length. */
    public static final long TOO_LONG = -2;

    private final MemorySegment data;
    private final long start;
    private final long end;
    private long pos;
    // Heap bytes to read instead of the segment (null: read the segment): the array a heap segment views (one page),
    // or a copy of [start, end) in pages of 256 KiB (copying). Reads of an array cost a fraction of checked reads of
    // a mapping (no liveness check of its arena); pages rather than one array, because a pickle of megabytes would
    // be an array G1 allocates as humongous (dev.weightsonly.internal.paged). Byte p of the pages is data offset
    // p + base; reads stay within [start, end), which the pages cover.
    private final byte[][] pages;
    private final int shift;
    private final long mask;
    private final long base;

    /** Pages of a copy ({@link #copying}) are 2^18 bytes: 256 KiB. */
    static final int PAGE_SHIFT = 18;

    /** A reader of {@code data} where it is: in place in the array of a heap segment, else through the segment. */
    public OperandReader(MemorySegment data, long start, long end) {
        this.data = data;
        this.start = start;
        this.end = end;
        this.pos = start;
        if (data.heapBase().orElse(null) instanceof byte[] array) {
            this.pages = new byte[][] {array};
            this.shift = 31; // one page: every offset of an array is below 2^31
            this.mask = (1L << 31) - 1;
            this.base = -data.address(); // a heap segment's address is its offset in the array
        } else {
            this.pages = null;
            this.shift = 0;
            this.mask = 0;
            this.base = 0;
        }
    }

    private OperandReader(MemorySegment data, long start, long end, byte[][] pages, int shift, long mask, long base) {
        this.data = data;
        this.start = start;
        this.end = end;
        this.pos = start;
        this.pages = pages;
        this.shift = shift;
        this.mask = mask;
        this.base = base;
    }

    /**
     * A reader of a heap copy of {@code [start, end)} of {@code data}, made now in pages: one snapshot, so that
     * every pass over it ({@link #atStart()}) reads the same bytes even if a mapped file changes meanwhile.
     */
    public static OperandReader copying(MemorySegment data, long start, long end) {
        return copying(data, start, end, PAGE_SHIFT);
    }

    /** {@link #copying(MemorySegment, long, long)} in pages of {@code 2^pageShift} bytes (1 to 30). */
    static OperandReader copying(MemorySegment data, long start, long end, int pageShift) {
        long length = end - start;
        long page = 1L << pageShift;
        byte[][] pages = new byte[Math.toIntExact((length + page - 1) >>> pageShift)][];
        for (int p = 0; p < pages.length; p++) {
            long from = (long) p << pageShift;
            pages[p] = new byte[(int) Math.min(page, length - from)];
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, start + from, pages[p], 0, pages[p].length);
        }
        return new OperandReader(data, start, end, pages, pageShift, page - 1, start);
    }

    /** Another reader of the same bytes (the same copy, if any), at their start. */
    public OperandReader atStart() {
        return new OperandReader(data, start, end, pages, shift, mask, base);
    }

    /** The byte at {@code at} (within [start, end)). */
    int byteAt(long at) {
        if (pages == null) {
            return data.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
        }
        long p = at - base;
        return pages[(int) (p >>> shift)][(int) (p & mask)] & 0xFF;
    }

    private int u16(long at) {
        return pages == null ? data.get(U16, at) & 0xFFFF : byteAt(at) | byteAt(at + 1) << 8;
    }

    private int i32(long at) {
        return pages == null ? data.get(I32, at) : byteAt(at) | byteAt(at + 1) << 8 | byteAt(at + 2) << 16 | byteAt(at + 3) << 24;
    }

    private long i64(long at) {
        return pages == null ? data.get(I64, at) : (i32(at) & 0xFFFF_FFFFL) | (long) i32(at + 4) << 32;
    }

    /** The {@code n} bytes from {@code at} (within [start, end)), copied. */
    byte[] bytes(long at, long n) {
        if (pages == null) {
            return data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE);
        }
        byte[] out = new byte[Math.toIntExact(n)];
        int done = 0;
        while (done < out.length) {
            long p = at + done - base;
            byte[] page = pages[(int) (p >>> shift)];
            int from = (int) (p & mask);
            int k = Math.min(out.length - done, page.length - from);
            System.arraycopy(page, from, out, done, k);
            done += k;
        }
        return out;
    }

    /**
     * The {@code n} bytes from {@code at} as a string of ISO-8859-1, read in place, if they are ASCII and in one
     * heap page; else null (to be decoded from a copy).
     */
    String asciiInPlace(long at, int n) {
        if (n == 0) {
            return ""; // no page read: at may be the end of the data, one past the last page
        }
        if (pages == null) {
            return null;
        }
        long p = at - base;
        byte[] page = pages[(int) (p >>> shift)];
        int from = (int) (p & mask);
        if (n > page.length - from || !Utf8.isAscii(page, from, n)) {
            return null;
        }
        return new String(page, from, n, StandardCharsets.ISO_8859_1);
    }

    public MemorySegment data() {
        return data;
    }

    public long position() {
        return pos;
    }

    public long end() {
        return end;
    }

    public long remaining() {
        return end - pos;
    }

    /** The next byte (an opcode), or -1 at the end. */
    public int nextByte() {
        return pos < end ? byteAt(pos++) : -1;
    }

    /** Moves back to {@code at}, a position this reader has passed (to read an operand again another way). */
    void rewind(long at) {
        if (at > pos) {
            throw new IllegalArgumentException("rewind forward");
        }
        pos = at;
    }

    /** Reserves {@code n} operand bytes and returns where they start. */
    public long take(long n) throws Malformed {
        if (n < 0 || end - pos < n) {
            throw new Truncated("pickle data was truncated: opcode needs " + n + " more bytes, " + (end - pos)
                    + " remain");
        }
        long at = pos;
        pos += n;
        return at;
    }

    /** The integer operand of {@code op} (UINT1, UINT2, INT4, UINT4 or UINT8). */
    public long integer(Opcode op) throws Malformed {
        return switch (op.operand) {
            case UINT1 -> byteAt(take(1));
            case UINT2 -> u16(take(2));
            case INT4 -> i32(take(4));
            case UINT4 -> i32(take(4)) & 0xFFFF_FFFFL;
            case UINT8 -> nonNegative(i64(take(8)));
            default -> throw new IllegalArgumentException(op + " has no integer operand");
        };
    }

    /** The FLOAT8 operand (BINFLOAT). */
    public double float8() throws Malformed {
        return Double.longBitsToDouble(Long.reverseBytes(i64(take(8))));
    }

    /**
     * The length prefix of {@code op}'s operand (one of the BYTES layouts); the bytes themselves are then
     * {@link #take taken} by the caller, which may first check the length against a limit.
     */
    public long length(Opcode op) throws Malformed {
        return switch (op.operand) {
            case BYTES_UINT1 -> byteAt(take(1));
            case BYTES_UINT4 -> i32(take(4)) & 0xFFFF_FFFFL;
            case BYTES_INT4 -> {
                int v = i32(take(4));
                if (v < 0) {
                    throw new Malformed("negative length " + v);
                }
                yield v;
            }
            case BYTES_UINT8 -> nonNegative(i64(take(8)));
            default -> throw new IllegalArgumentException(op + " has no length-prefixed operand");
        };
    }

    private static long nonNegative(long v) throws Malformed {
        if (v < 0) {
            throw new Malformed("length " + Long.toUnsignedString(v) + " is larger than any input");
        }
        return v;
    }

    /**
     * The length of the line that starts here, without its newline, if the newline comes within {@code max}
     * bytes; else {@link #NO_NEWLINE} (the data ends first) or {@link #TOO_LONG}. Does not move.
     */
    public long lineLength(long max) {
        long scan = end - pos <= max ? end - pos : max + 1; // never pos + max: max may be Long.MAX_VALUE
        for (long i = pos; i < pos + scan; i++) {
            if (byteAt(i) == '\n') {
                return i - pos;
            }
        }
        return scan <= max ? NO_NEWLINE : TOO_LONG;
    }

    /** The bytes of a line of {@code length} bytes ({@link #lineLength}), consuming its newline too. */
    public byte[] line(long length) {
        byte[] line = bytes(pos, length);
        pos += length + 1;
        return line;
    }

    /** A line of at most {@code max} bytes, for readers that need no distinction of why one is missing. */
    public byte[] line(long max, String what) throws Malformed {
        long n = lineLength(max);
        if (n == NO_NEWLINE) {
            throw new Truncated("pickle data was truncated: a text operand has no ending newline");
        }
        if (n == TOO_LONG) {
            throw new Malformed(what + " longer than " + max + " bytes");
        }
        return line(n);
    }

    /** Skips the operand of {@code op}, whatever it holds. */
    public void skip(Opcode op) throws Malformed {
        switch (op.operand) {
            case NOTHING -> { }
            case UINT1, UINT2, INT4, UINT4, UINT8 -> integer(op);
            case FLOAT8 -> take(8);
            case BYTES_UINT1, BYTES_UINT4, BYTES_INT4, BYTES_UINT8 -> take(length(op));
            case LINE -> line(Long.MAX_VALUE, "text operand");
            case TWO_LINES -> {
                line(Long.MAX_VALUE, "text operand");
                line(Long.MAX_VALUE, "text operand");
            }
        }
    }
}
