package dev.weightsonly.testing;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a pickle into its opcodes (each with its operand), so that tests can splice pickles at opcode
 * boundaries: drop, repeat or move an instruction, or graft one pickle's instructions into another. Only
 * the operand layout of each opcode is known here (pickletools' table); nothing is interpreted.
 */
public final class PickleOps {

    private PickleOps() {
    }

    /**
     * The opcodes from {@code start} up to and including the first STOP, as [start, end) pairs; stops early
     * (without error) at an unknown opcode or a truncated operand.
     */
    public static List<long[]> split(byte[] data, int start) {
        List<long[]> ops = new ArrayList<>();
        int pos = start;
        while (pos < data.length) {
            int op = data[pos] & 0xFF;
            int end = operandEnd(data, pos + 1, op);
            if (end < 0 || end > data.length) {
                break;
            }
            ops.add(new long[] {pos, end});
            pos = end;
            if (op == '.') {
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
        return data[(int) last[0]] == '.' ? (int) last[1] : -1;
    }

    private static int operandEnd(byte[] d, int at, int op) {
        return switch (op) {
            case '(', '.', '0', '1', '2', 'N', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u', 'Q',
                    0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98 -> at;
            case 'K', 'h', 'q', 0x80, 0x82 -> at + 1;
            case 'M', 0x83 -> at + 2;
            case 'J', 'j', 'r', 0x84 -> at + 4;
            case 'G', 0x95 -> at + 8;
            case 'U', 'C', 0x8C, 0x8A -> at < d.length ? at + 1 + (d[at] & 0xFF) : -1;
            case 'X', 'B', 'T', 0x8B -> {
                if (at + 4 > d.length) {
                    yield -1;
                }
                long n = (d[at] & 0xFFL) | (d[at + 1] & 0xFFL) << 8 | (d[at + 2] & 0xFFL) << 16 | (d[at + 3] & 0xFFL) << 24;
                yield n > d.length ? -1 : (int) (at + 4 + n);
            }
            case 0x8D, 0x8E, 0x96 -> {
                if (at + 8 > d.length) {
                    yield -1;
                }
                long n = 0;
                for (int i = 7; i >= 0; i--) {
                    n = n << 8 | (d[at + i] & 0xFF);
                }
                yield n < 0 || n > d.length ? -1 : (int) (at + 8 + n);
            }
            case 'I', 'L', 'F', 'S', 'V', 'g', 'p', 'P' -> line(d, at);
            case 'c', 'i' -> {
                int first = line(d, at);
                yield first < 0 ? -1 : line(d, first);
            }
            default -> -1;
        };
    }

    private static int line(byte[] d, int at) {
        for (int i = at; i < d.length; i++) {
            if (d[i] == '\n') {
                return i + 1;
            }
        }
        return -1;
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
