package dev.weightsonly.examples;

import dev.weightsonly.internal.dump.JsonText;

/**
 * The two bits of JSON {@link WeightsService} speaks, without a JSON library: reading a flat array of numbers
 * and writing floats and strings.
 *
 * <p>The reader is strict on purpose. A request body is untrusted input, so it accepts exactly one JSON array of
 * JSON numbers (RFC 8259 grammar, whitespace allowed), stops at the first value past the expected count instead
 * of collecting an unbounded list, and refuses numbers that are not finite as floats; every refusal says what was
 * wrong and at which character.
 */
final class FloatJson {

    private FloatJson() {
    }

    /** A request body that is not what the endpoint takes; the message is meant for the client. */
    static final class BadRequestException extends Exception {
        private static final long serialVersionUID = 1L;

        BadRequestException(String message) {
            super(message);
        }
    }

    /**
     * Parses {@code text} as a JSON array of exactly {@code count} numbers.
     *
     * @throws BadRequestException if it is anything else
     */
    static float[] parseArray(String text, int count) throws BadRequestException {
        float[] values = new float[count];
        int n = 0;
        int at = skipSpace(text, 0);
        at = expect(text, at, '[');
        at = skipSpace(text, at);
        if (at < text.length() && text.charAt(at) == ']') {
            at++;
        } else {
            while (true) {
                int end = numberEnd(text, at);
                if (n == count) {
                    throw new BadRequestException("expected an array of " + count + " numbers, got more");
                }
                float v = (float) Double.parseDouble(text.substring(at, end));
                if (!Float.isFinite(v)) {
                    throw new BadRequestException("value " + n + " (" + text.substring(at, end)
                            + ") is outside the float range");
                }
                values[n++] = v;
                at = skipSpace(text, end);
                if (at < text.length() && text.charAt(at) == ',') {
                    at = skipSpace(text, at + 1);
                    continue;
                }
                at = expect(text, at, ']');
                break;
            }
        }
        if (skipSpace(text, at) != text.length()) {
            throw new BadRequestException("unexpected text after the array at character " + at);
        }
        if (n != count) {
            throw new BadRequestException("expected an array of " + count + " numbers, got " + n);
        }
        return values;
    }

    /** The end of the JSON number starting at {@code at}: {@code -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?}. */
    private static int numberEnd(String text, int at) throws BadRequestException {
        int i = at;
        if (i < text.length() && text.charAt(i) == '-') {
            i++;
        }
        if (i < text.length() && text.charAt(i) == '0') {
            i++;
        } else {
            i = digits(text, i, at);
        }
        if (i < text.length() && text.charAt(i) == '.') {
            i = digits(text, i + 1, at);
        }
        if (i < text.length() && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            i++;
            if (i < text.length() && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            i = digits(text, i, at);
        }
        return i;
    }

    private static int digits(String text, int from, int numberStart) throws BadRequestException {
        int i = from;
        while (i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
            i++;
        }
        if (i == from) {
            throw new BadRequestException("expected a number at character " + numberStart);
        }
        return i;
    }

    private static int skipSpace(String text, int at) {
        int i = at;
        while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t' || text.charAt(i) == '\n'
                || text.charAt(i) == '\r')) {
            i++;
        }
        return i;
    }

    private static int expect(String text, int at, char c) throws BadRequestException {
        if (at >= text.length() || text.charAt(at) != c) {
            throw new BadRequestException("expected '" + c + "' at character " + at
                    + (at >= text.length() ? " (end of input)" : ""));
        }
        return at + 1;
    }

    /**
     * {@code [v0,v1,...]}, each value as {@link Float#toString}: the shortest decimal that reads back as the same
     * float, which is valid JSON for every finite value. Non-finite values have no JSON form.
     *
     * @throws IllegalArgumentException for NaN or an infinity
     */
    static String array(float[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException("value " + i + " is " + values[i] + ", which JSON cannot hold");
            }
            sb.append(i == 0 ? "" : ",").append(values[i]);
        }
        return sb.append(']').toString();
    }

    /** {@code s} as a JSON string literal. */
    static String string(String s) {
        return JsonText.quote(s);
    }
}
