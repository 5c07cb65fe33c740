package dev.weightsonly.internal.pickle;

import java.math.BigInteger;
import java.util.regex.Pattern;

/**
 * Parsers for the operands of protocol 0 text opcodes (INT, LONG, FLOAT, STRING, UNICODE), each as
 * strict as Python's and returning null on input Python would reject.
 */
final class TextOperands {

    private TextOperands() {
    }

    private static final Pattern DECIMAL = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern FLOAT = Pattern.compile(
            "[+-]?(?:(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
            Pattern.CASE_INSENSITIVE);

    /** Python {@code int(text)} for the decimal forms pickle writes; null if not one. */
    static BigInteger integer(String text) {
        String t = text.strip();
        if (!DECIMAL.matcher(t).matches()) {
            return null;
        }
        return new BigInteger(t);
    }

    /** Python {@code float(text)}; null if Python would refuse it. */
    static Double floating(String text) {
        String t = text.strip();
        if (!FLOAT.matcher(t).matches()) {
            return null;
        }
        String lower = t.toLowerCase(java.util.Locale.ROOT);
        boolean negative = lower.startsWith("-");
        String body = lower.startsWith("-") || lower.startsWith("+") ? lower.substring(1) : lower;
        if (body.equals("nan")) {
            return Double.NaN;
        }
        if (body.equals("inf") || body.equals("infinity")) {
            return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return Double.parseDouble(t);
    }

    /** Python's {@code codecs.escape_decode} of a STRING operand (quotes already removed); null on error. */
    static byte[] escapeDecode(byte[] in) {
        byte[] out = new byte[in.length];
        int n = 0;
        int i = 0;
        while (i < in.length) {
            byte c = in[i++];
            if (c != '\\') {
                out[n++] = c;
                continue;
            }
            if (i >= in.length) {
                return null; // "Trailing \ in string"
            }
            byte e = in[i++];
            switch (e) {
                case '\n' -> { }
                case '\\' -> out[n++] = '\\';
                case '\'' -> out[n++] = '\'';
                case '"' -> out[n++] = '"';
                case 'b' -> out[n++] = '\b';
                case 'f' -> out[n++] = '\f';
                case 't' -> out[n++] = '\t';
                case 'n' -> out[n++] = '\n';
                case 'r' -> out[n++] = '\r';
                case 'v' -> out[n++] = 0x0B;
                case 'a' -> out[n++] = 0x07;
                case 'x' -> {
                    if (i + 2 > in.length) {
                        return null;
                    }
                    int hi = Character.digit(in[i], 16);
                    int lo = Character.digit(in[i + 1], 16);
                    if (hi < 0 || lo < 0) {
                        return null;
                    }
                    out[n++] = (byte) (hi * 16 + lo);
                    i += 2;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i < in.length && in[i] >= '0' && in[i] <= '7'; k++) {
                            v = v * 8 + (in[i++] - '0');
                        }
                        out[n++] = (byte) v;
                    } else {
                        out[n++] = '\\';
                        out[n++] = e;
                    }
                }
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Python's {@code raw_unicode_escape} decoding of a UNICODE operand; null on error. */
    static String rawUnicodeEscape(byte[] in) {
        StringBuilder sb = new StringBuilder(in.length);
        int i = 0;
        while (i < in.length) {
            if (in[i] != '\\') {
                sb.append((char) (in[i++] & 0xFF));
                continue;
            }
            int start = i;
            while (i < in.length && in[i] == '\\') {
                sb.append('\\');
                i++;
            }
            // Only an odd run of backslashes escapes the u or U that follows it.
            if (((i - start) & 1) == 0 || i >= in.length || (in[i] != 'u' && in[i] != 'U')) {
                continue;
            }
            sb.setLength(sb.length() - 1);
            int count = in[i] == 'u' ? 4 : 8;
            i++;
            int cp = 0;
            for (; count > 0; count--, i++) {
                if (i >= in.length) {
                    return null;
                }
                int d = Character.digit(in[i], 16);
                if (d < 0) {
                    return null;
                }
                cp = (cp << 4) | d;
            }
            if (cp < 0 || cp > 0x10FFFF) {
                return null;
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }
}
