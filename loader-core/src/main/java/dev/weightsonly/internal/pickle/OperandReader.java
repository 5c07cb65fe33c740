package dev.weightsonly.internal.pickle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

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
    private static final ValueLayout.OfDouble F64_BE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** {@link #lineLength} when no newline comes before the end of the data. */
    public static final long NO_NEWLINE = -1;
    /** {@link #lineLength} when no newline comes within the allowed length. */
    public static final long TOO_LONG = -2;

    private final MemorySegment data;
    private final long end;
    private long pos;
    // The array behind a heap segment of bytes, and where the segment starts in it: single bytes (every opcode,
    // the most common operands) are read from the array, which costs less than a read of the segment. Null for
    // native memory. Reads stay within [start, end), which lies inside the segment, so inside the array.
    private final byte[] array;
    private final long arrayOffset;

    public OperandReader(MemorySegment data, long start, long end) {
        this.data = data;
        this.end = end;
        this.pos = start;
        byte[] heap = data.heapBase().orElse(null) instanceof byte[] b ? b : null;
        this.array = heap;
        this.arrayOffset = heap == null ? 0 : data.address();
    }

    /** The byte at {@code at} (within [start, end)). */
    private int byteAt(long at) {
        return array != null ? array[(int) (arrayOffset + at)] & 0xFF : data.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    /**
     * The heap array behind the data, or null for native memory; with {@link #arrayOffset()}, for readers that
     * decode operand bytes in place.
     */
    byte[] array() {
        return array;
    }

    /** Where the data's offset 0 lies in {@link #array()}. */
    long arrayOffset() {
        return arrayOffset;
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
            case UINT2 -> data.get(U16, take(2)) & 0xFFFF;
            case INT4 -> data.get(I32, take(4));
            case UINT4 -> data.get(I32, take(4)) & 0xFFFF_FFFFL;
            case UINT8 -> nonNegative(data.get(I64, take(8)));
            default -> throw new IllegalArgumentException(op + " has no integer operand");
        };
    }

    /** The FLOAT8 operand (BINFLOAT). */
    public double float8() throws Malformed {
        return data.get(F64_BE, take(8));
    }

    /**
     * The length prefix of {@code op}'s operand (one of the BYTES layouts); the bytes themselves are then
     * {@link #take taken} by the caller, which may first check the length against a limit.
     */
    public long length(Opcode op) throws Malformed {
        return switch (op.operand) {
            case BYTES_UINT1 -> byteAt(take(1));
            case BYTES_UINT4 -> data.get(I32, take(4)) & 0xFFFF_FFFFL;
            case BYTES_INT4 -> {
                int v = data.get(I32, take(4));
                if (v < 0) {
                    throw new Malformed("negative length " + v);
                }
                yield v;
            }
            case BYTES_UINT8 -> nonNegative(data.get(I64, take(8)));
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
            if (data.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                return i - pos;
            }
        }
        return scan <= max ? NO_NEWLINE : TOO_LONG;
    }

    /** The bytes of a line of {@code length} bytes ({@link #lineLength}), consuming its newline too. */
    public byte[] line(long length) {
        byte[] line = data.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
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
