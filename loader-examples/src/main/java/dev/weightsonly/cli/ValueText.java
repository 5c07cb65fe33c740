package dev.weightsonly.cli;

import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.torch.MetaTensor;
import dev.weightsonly.torch.TorchDevice;
import dev.weightsonly.torch.TorchSize;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.function.DoubleFunction;

/**
 * A value that is not a tensor or a container (an epoch, a learning rate, a name) as Python's {@code repr} writes
 * it, for {@code inspect}'s table: floats in their shortest exact form ({@code 0.001}, {@code 1e-05}), bools as
 * {@code True}, strings quoted. Bounded: the text is cut to a given length before anything is escaped, so a
 * string of a gigabyte costs no more than a short one, and the file's text is escaped for the terminal
 * ({@link TerminalText}).
 */
final class ValueText {

    /** Past this many bits an int is described, not written out (its decimal digits cost quadratic time). */
    private static final int MAX_INT_BITS = 4096;

    private ValueText() {
    }

    /** The value's text, at most {@code max} characters of it (then {@code ...}), escaped for the terminal. */
    static String of(Object value, int max) {
        return switch (value) {
            case PyNone n -> "None";
            case Boolean b -> b ? "True" : "False";
            case Double d -> PyValues.floatRepr(d);
            case Long l -> l.toString();
            case BigInteger b -> b.bitLength() > MAX_INT_BITS ? "<an int of " + b.bitLength() + " bits>"
                    : cut(b.toString(), max);
            case String s -> "'" + cut(s, max) + "'";
            case PyBytes b -> bytes(b, max);
            case PyComplex c -> complex(c.real(), c.imag(), PyValues::floatRepr);
            case TorchSize s -> "torch.Size(" + cut(Arrays.toString(s.dims()), max) + ")";
            case TorchDevice d -> "device(type='" + cut(d.name(), max) + "')";
            case DType t -> "torch." + t.torchName();
            case MetaTensor m -> "tensor(..., device='meta', size=" + cut(Arrays.toString(m.shape()), max)
                    + ", dtype=torch." + m.dtype().torchName() + ")";
            default -> cut(String.valueOf(value), max);
        };
    }

    /**
     * A complex number as Python's {@code repr} writes one: {@code (1.5-2j)}, {@code 1j} when the real part is
     * +0.0; each part in the form {@code part} gives it, without a closing {@code .0}.
     */
    static String complex(double real, double imag, DoubleFunction<String> part) {
        String im = bare(part.apply(imag)) + "j";
        if (real == 0 && 1 / real > 0) {
            return im;
        }
        return "(" + bare(part.apply(real)) + (im.startsWith("-") ? "" : "+") + im + ")";
    }

    private static String bare(String number) {
        return number.endsWith(".0") ? number.substring(0, number.length() - 2) : number;
    }

    /** The first {@code max} characters of {@code text}, escaped, and {@code ...} when there were more. */
    private static String cut(String text, int max) {
        return text.length() <= max ? TerminalText.escape(text) : TerminalText.escape(text.substring(0, max)) + "...";
    }

    /** {@code b'...'} as Python writes bytes: printable ASCII as is, the rest as {@code \xNN}. */
    private static String bytes(PyBytes b, int max) {
        byte[] data = b.toByteArray();
        StringBuilder sb = new StringBuilder(b.isByteArray() ? "bytearray(b'" : "b'");
        int shown = Math.min(data.length, max);
        for (int i = 0; i < shown; i++) {
            int c = data[i] & 0xFF;
            if (c == '\\' || c == '\'') {
                sb.append('\\').append((char) c);
            } else if (c >= 0x20 && c < 0x7F) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.append(data.length > shown ? "..." : "").append(b.isByteArray() ? "')" : "'").toString();
    }
}
