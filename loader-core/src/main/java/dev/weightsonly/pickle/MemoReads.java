package dev.weightsonly.pickle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

/**
 * Which memo slots a pickle ever reads back (BINGET, LONG_BINGET), found by one pass over its opcodes before
 * it runs. {@code torch.save} memoizes every value it writes, but reads back only what is shared (a global,
 * the string {@code 'cpu'}, a storage used by two views), so a memo that kept every value would keep every
 * intermediate tuple of a checkpoint alive until the end of the load: for an optimizer state of 300,000
 * tensors, hundreds of megabytes that the garbage collector copies again and again. The unpickler keeps the
 * values of the slots listed here, and of the others only that they were written.
 *
 * <p>The pass only measures opcodes; it builds nothing and trusts nothing. When it cannot be sure (a text
 * GET, an opcode it does not know, data that ends before STOP, more far slots read than it tracks), it
 * answers "every slot", and the unpickler keeps everything as before (and reports the problem where it
 * meets it).
 */
final class MemoReads {

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_FAR_SLOTS = 100_000;

    /** Every slot is read (or the pass could not tell). */
    static final MemoReads ALL = new MemoReads(null, null);

    private final BitSet near;
    private final Set<Long> far;

    private MemoReads(BitSet near, Set<Long> far) {
        this.near = near;
        this.far = far;
    }

    /** Whether the pickle may read slot {@code index} back. */
    boolean isRead(long index) {
        if (near == null) {
            return true;
        }
        return index < near.size() && near.get((int) index) || far.contains(index);
    }

    /** The slots the pickle in {@code [start, end)} of {@code data} reads, up to its first STOP. */
    static MemoReads of(MemorySegment data, long start, long end) {
        // Slots below the pickle's length (a real pickle has fewer slots than bytes), up to 2^27 of them, in a
        // bit set of at most 16 MiB; a few others in a set.
        int nearLimit = (int) Math.min(1 << 27, end - start);
        BitSet near = new BitSet();
        Set<Long> far = new HashSet<>();
        long pos = start;
        while (pos < end) {
            int op = data.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
            long index = -1;
            long skip;
            switch (op) {
                case 0x2E -> {                                                  // STOP
                    return new MemoReads(near, far);
                }
                case 0x28, 0x30, 0x31, 0x32, 0x4E, 0x52, 0x61, 0x62, 0x64, 0x7D, 0x65, 0x6C, 0x5D,
                        0x6F, 0x73, 0x74, 0x29, 0x75, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8F, 0x90, 0x91, 0x92,
                        0x93, 0x94, 0x98, 0x51 -> skip = 0;
                case 0x4B, 0x71, 0x80 -> skip = 1;                              // BININT1, BINPUT, PROTO
                case 0x4D -> skip = 2;                                          // BININT2
                case 0x4A, 0x72 -> skip = 4;                                    // BININT, LONG_BINPUT
                case 0x47, 0x95 -> skip = 8;                                    // BINFLOAT, FRAME
                case 0x68 -> {                                                  // BINGET
                    if (pos >= end) {
                        return ALL;
                    }
                    index = data.get(ValueLayout.JAVA_BYTE, pos) & 0xFF;
                    skip = 1;
                }
                case 0x6A -> {                                                  // LONG_BINGET
                    if (end - pos < 4) {
                        return ALL;
                    }
                    index = data.get(I32, pos) & 0xFFFF_FFFFL;
                    skip = 4;
                }
                case 0x55, 0x43, 0x8C, 0x8A -> {                                // u8 length
                    if (pos >= end) {
                        return ALL;
                    }
                    skip = 1 + (data.get(ValueLayout.JAVA_BYTE, pos) & 0xFF);
                }
                case 0x58, 0x42 -> {                                            // u32 length
                    if (end - pos < 4) {
                        return ALL;
                    }
                    skip = 4 + (data.get(I32, pos) & 0xFFFF_FFFFL);
                }
                case 0x54, 0x8B -> {                                            // signed 32-bit length
                    if (end - pos < 4 || data.get(I32, pos) < 0) {
                        return ALL;
                    }
                    skip = 4L + data.get(I32, pos);
                }
                case 0x8D, 0x8E, 0x96 -> {                                      // u64 length
                    if (end - pos < 8 || data.get(I64, pos) < 0 || data.get(I64, pos) > end - pos - 8) {
                        return ALL;
                    }
                    skip = 8 + data.get(I64, pos);
                }
                case 0x46, 0x49, 0x4C, 0x53, 0x56, 0x50, 0x70 -> {              // one line
                    skip = lineLength(data, pos, end);
                }
                case 0x63, 0x69 -> {                                            // GLOBAL, INST: two lines
                    long first = lineLength(data, pos, end);
                    long second = first < 0 ? -1 : lineLength(data, pos + first, end);
                    skip = second < 0 ? -1 : first + second;
                }
                default -> {
                    return ALL; // GET (text), EXT1/2/4, NEXT_BUFFER, or not an opcode
                }
            }
            if (skip < 0 || skip > end - pos) {
                return ALL;
            }
            if (index >= 0) {
                if (index < nearLimit) {
                    near.set((int) index);
                } else if (far.add(index) && far.size() > MAX_FAR_SLOTS) {
                    return ALL;
                }
            }
            pos += skip;
        }
        return ALL;
    }

    /** Bytes up to and including the next newline, or -1 if there is none. */
    private static long lineLength(MemorySegment data, long pos, long end) {
        for (long i = pos; i < end; i++) {
            if (data.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                return i - pos + 1;
            }
        }
        return -1;
    }
}
