package dev.weightsonly.testing;

import dev.weightsonly.internal.pickle.Opcode;
import dev.weightsonly.internal.pickle.OperandReader;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a pickle into its opcodes (each with its operand), so that tests can splice pickles at opcode
 * boundaries: drop, repeat or move an instruction, or graft one pickle's instructions into another. Only
 * the operand layout of each opcode is read here (the shared table); nothing is interpreted.
 */
public final class PickleOps {

    private PickleOps() {
    }

    /**
     * The opcodes from {@code start} up to and including the first STOP, as [start, end) pairs; stops early
     * (without error) at an unknown opcode or a truncated operand. Operands are read by the unpickler's own
     * reader ({@link OperandReader}, driven by {@link Opcode}'s table).
     */
    public static List<long[]> split(byte[] data, int start) {
        List<long[]> ops = new ArrayList<>();
        OperandReader in = new OperandReader(MemorySegment.ofArray(data), start, data.length);
        while (true) {
            long at = in.position();
            int code = in.nextByte();
            Opcode op = code < 0 ? null : Opcode.of(code);
            if (op == null) {
                break;
            }
            try {
                in.skip(op);
            } catch (OperandReader.Malformed e) {
                break;
            }
            ops.add(new long[] {at, in.position()});
            if (op == Opcode.STOP) {
                break;
            }
        }
        return ops;
    }

    /** The offset just past the pickle that starts at {@code start} (its STOP), or -1 if it has none. */
    public static int end(byte[] data, int start) {
        List<long[]> ops = split(data, start);
        if (ops.isEmpty()) {
            return -1;
        }
        long[] last = ops.get(ops.size() - 1);
        return data[(int) last[0]] == Opcode.STOP.code ? (int) last[1] : -1;
    }

    /** Concatenates slices [start, end) of {@code data}. */
    public static byte[] join(byte[] data, List<long[]> ops) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long[] op : ops) {
            out.write(data, (int) op[0], (int) (op[1] - op[0]));
        }
        return out.toByteArray();
    }
}
