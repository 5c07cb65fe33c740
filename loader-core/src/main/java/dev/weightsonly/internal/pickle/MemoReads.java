package dev.weightsonly.internal.pickle;

import java.util.Arrays;
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
 * <p>The pass reads opcodes through the shared table ({@link Opcode}, {@link OperandReader}); it builds
 * nothing and trusts nothing. When it cannot be sure (a text GET, an opcode it does not know, data that ends
 * before STOP, more far slots read than it tracks), it answers "every slot", and the unpickler keeps everything as before (and reports the problem where it
 * meets it).
 */
final class MemoReads {

    private static final int MAX_FAR_SLOTS = 100_000;

    /** Every slot is read (or the pass could not tell). */
    static final MemoReads ALL = new MemoReads(null, null, 0);

    private final BitSet near;
    // sorted: a binary search per memo put, with no boxing (a load of 300,000 tensors puts millions of slots)
    private final long[] far;
    private final long slots;

    private MemoReads(BitSet near, long[] far, long slots) {
        this.near = near;
        this.far = far;
        this.slots = slots;
    }

    /**
     * How many memo slots the pickle's writes before its STOP need at most, or 0 if the pass could not tell: what
     * the unpickler makes its memo for, rather than doubling it a dozen times. The highest slot a BINPUT or
     * LONG_BINPUT names plus one, or the number of MEMOIZEs if more (each takes the next slot), but never more
     * than the writes themselves (so that an index from the input never sizes the memo: one LONG_BINPUT of slot
     * 2^31 counts 1).
     */
    long slots() {
        return slots;
    }

    /** Whether the pickle may read slot {@code index} back. */
    boolean isRead(long index) {
        if (near == null) {
            return true;
        }
        if (index < near.size() && near.get((int) index)) {
            return true;
        }
        return far.length > 0 && Arrays.binarySearch(far, index) >= 0;
    }

    /** The slots the pickle in {@code [start, end)} of {@code data} reads, up to its first STOP. */
    /** The slots the pickle that {@code in} reads from its position reads, up to its first STOP. */
    static MemoReads of(OperandReader in) {
        // Slots below the pickle's length (a real pickle has fewer slots than bytes), up to 2^27 of them, in a
        // bit set of at most 16 MiB; a few others in a set.
        int nearLimit = (int) Math.min(1 << 27, in.remaining());
        BitSet near = new BitSet();
        Set<Long> far = new HashSet<>();
        long puts = 0;
        long memoizes = 0;
        long highest = 0;
        try {
            while (true) {
                int code = in.nextByte();
                Opcode op = code < 0 ? null : Opcode.of(code);
                if (op == null) {
                    return ALL; // the end before STOP, or not an opcode
                }
                long index;
                switch (op) {
                    case STOP -> {
                        return new MemoReads(near, far.stream().mapToLong(Long::longValue).sorted().toArray(),
                                Math.min(puts, highest));
                    }
                    case BINGET, LONG_BINGET -> index = in.integer(op);
                    case GET, EXT1, EXT2, EXT4, NEXT_BUFFER -> {
                        return ALL;
                    }
                    case BINPUT, LONG_BINPUT -> {
                        puts++;
                        highest = Math.max(highest, in.integer(op) + 1);
                        index = -1;
                    }
                    case MEMOIZE -> {
                        puts++;
                        memoizes++;
                        highest = Math.max(highest, memoizes);
                        index = -1;
                    }
                    default -> {
                        in.skip(op);
                        index = -1;
                    }
                }
                if (index >= 0) {
                    if (index < nearLimit) {
                        near.set((int) index);
                    } else if (far.add(index) && far.size() > MAX_FAR_SLOTS) {
                        return ALL;
                    }
                }
            }
        } catch (OperandReader.Malformed e) {
            return ALL;
        }
    }
}
