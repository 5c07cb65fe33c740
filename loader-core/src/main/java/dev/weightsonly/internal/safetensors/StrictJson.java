package dev.weightsonly.internal.safetensors;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * A strict, pull-style JSON reader (RFC 8259) over UTF-8 bytes, small enough to audit, so that the library
 * needs no JSON dependency. The caller asks for what its schema expects ({@link #beginObject()},
 * {@link #nextName()}, {@link #string()}, {@link #unsignedLong()}, ...) and {@link #skipValue()}s what it
 * ignores; a skipped value is fully checked but never built, so a large ignored field costs no memory.
 *
 * <p>Strict means: only the four JSON whitespace characters; no comments, trailing commas, leading zeros,
 * {@code NaN}, single quotes or unescaped control characters; {@code \\u} escapes must pair surrogates
 * correctly; a key may appear only once per object (serde_json would keep the last one, which lets two
 * readers of one file disagree on what it holds); nothing but whitespace after the value.
 *
 * <p>Bounded: containers nest at most {@code maxDepth} deep (the reference reader, serde_json, stops at 128
 * levels, which is 127 nested containers); the input itself is bounded by the caller. Every error is a
 * {@link SyntaxError} with the byte offset where the input went wrong.
 *
 * <p>The input must already be valid UTF-8 ({@link #firstInvalidUtf8(byte[])}): the reader relies on it
 * to decode strings without re-checking.
 */
final class StrictJson {

    /** A JSON value's kind, as {@link #peek()} sees its first byte. */
    enum Kind {
        OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL
    }

    /** The input is not JSON, or not the JSON the caller asked for. */
    static final class SyntaxError extends Exception {
        private static final long serialVersionUID = 1L;
        private final String reason;
        private final int offset;

        SyntaxError(String reason, int offset) {
            super(reason + " at header byte " + offset);
            this.reason = reason;
            this.offset = offset;
        }

        /** What is wrong, without where. */
        String reason() {
            return reason;
        }

        int offset() {
            return offset;
        }
    }

    /** One open container: an object remembers its keys, to refuse duplicates. */
    private static final class Frame {
        final boolean object;
        final Set<String> keys;
        boolean first = true;

        Frame(boolean object) {
            this.object = object;
            this.keys = object ? new HashSet<>() : null;
        }
    }

    private final byte[] in;
    private final int maxDepth;
    private final ArrayDeque<Frame> open = new ArrayDeque<>();
    private int pos;

    StrictJson(byte[] utf8, int maxDepth) {
        this.in = utf8;
        this.maxDepth = maxDepth;
    }

    /** The offset of the next unread byte. */
    int position() {
        return pos;
    }

    // ---- structure ------------------------------------------------------------------------------------

    void beginObject() throws SyntaxError {
        expectStart('{', "an object");
        push(true);
    }

    /**
     * The next member name of the innermost object, positioned before its value; null (and the object
     * closed) at its closing brace.
     */
    String nextName() throws SyntaxError {
        Frame f = top(true);
        skipWhitespace();
        if (peekByte() == '}') {
            pos++;
            open.pop();
            return null;
        }
        if (!f.first) {
            expect(',');
            skipWhitespace();
            if (peekByte() == '}') {
                throw error("trailing comma before '}'");
            }
        }
        f.first = false;
        if (peekByte() != '"') {
            throw error("expected a string key");
        }
        int at = pos;
        String key = readString();
        if (!f.keys.add(key)) {
            throw new SyntaxError("duplicate key '" + abbreviate(key) + "'", at);
        }
        skipWhitespace();
        expect(':');
        return key;
    }

    void beginArray() throws SyntaxError {
        expectStart('[', "an array");
        push(false);
    }

    /** True when the innermost array has another element (positioned at it); false, and the array closed, at {@code ]}. */
    boolean nextElement() throws SyntaxError {
        Frame f = top(false);
        skipWhitespace();
        if (peekByte() == ']') {
            pos++;
            open.pop();
            return false;
        }
        if (!f.first) {
            expect(',');
            skipWhitespace();
            if (peekByte() == ']') {
                throw error("trailing comma before ']'");
            }
        }
        f.first = false;
        return true;
    }

    /** The kind of the next value, without consuming it. */
    Kind peek() throws SyntaxError {
        skipWhitespace();
        return switch (peekByte()) {
            case '{' -> Kind.OBJECT;
            case '[' -> Kind.ARRAY;
            case '"' -> Kind.STRING;
            case 't' -> Kind.TRUE;
            case 'f' -> Kind.FALSE;
            case 'n' -> Kind.NULL;
            case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> Kind.NUMBER;
            case -1 -> throw error("unexpected end of input, expected a value");
            default -> throw error("expected a value, found " + describeByte());
        };
    }

    /** After the top-level value: only whitespace may follow. */
    void finish() throws SyntaxError {
        skipWhitespace();
        if (pos != in.length) {
            throw error("trailing characters after the JSON value");
        }
    }

    // ---- scalars --------------------------------------------------------------------------------------

    String string() throws SyntaxError {
        skipWhitespace();
        if (peekByte() != '"') {
            throw error("expected a string, found " + describeByte());
        }
        return readString();
    }

    void nullValue() throws SyntaxError {
        skipWhitespace();
        literal("null");
    }

    /**
     * A JSON integer that is a Rust {@code usize} on a 64-bit machine: digits only (no sign, fraction or
     * exponent), at most 2^64 - 1. Returned as the unsigned bits of a {@code long}.
     */
    long unsignedLong() throws SyntaxError {
        skipWhitespace();
        int start = pos;
        scanNumber();
        int end = pos;
        boolean plainDigits = true;
        for (int i = start; i < end; i++) {
            if (in[i] < '0' || in[i] > '9') {
                plainDigits = false;
                break;
            }
        }
        String token = new String(in, start, end - start, StandardCharsets.US_ASCII);
        if (!plainDigits) {
            throw new SyntaxError("expected a non-negative integer, found " + abbreviate(token), start);
        }
        long value = 0;
        for (int i = start; i < end; i++) {
            int digit = in[i] - '0';
            // value * 10 + digit must stay below 2^64
            if (Long.compareUnsigned(value, Long.divideUnsigned(-1L - digit, 10)) > 0) {
                throw new SyntaxError("integer " + abbreviate(token) + " is larger than 2^64 - 1", start);
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /** Reads and checks the next value of any kind without building it. */
    void skipValue() throws SyntaxError {
        switch (peek()) {
            case OBJECT -> {
                beginObject();
                while (nextName() != null) {
                    skipValue();
                }
            }
            case ARRAY -> {
                beginArray();
                while (nextElement()) {
                    skipValue();
                }
            }
            case STRING -> readString();
            case NUMBER -> {
                int start = pos;
                scanNumber();
                // serde_json reads an ignored number as an f64 and refuses one beyond its range
                String token = new String(in, start, pos - start, StandardCharsets.US_ASCII);
                if (Double.isInfinite(Double.parseDouble(token))) {
                    throw new SyntaxError("number out of range", start);
                }
            }
            case TRUE -> literal("true");
            case FALSE -> literal("false");
            case NULL -> literal("null");
        }
    }

    // ---- lexing ---------------------------------------------------------------------------------------

    private void push(boolean object) throws SyntaxError {
        if (open.size() >= maxDepth) {
            throw error("containers nested more than " + maxDepth + " deep");
        }
        open.push(new Frame(object));
    }

    private Frame top(boolean object) {
        Frame f = open.peek();
        if (f == null || f.object != object) {
            throw new IllegalStateException("not inside " + (object ? "an object" : "an array"));
        }
        return f;
    }

    private void expectStart(char c, String what) throws SyntaxError {
        skipWhitespace();
        if (peekByte() != c) {
            throw error("expected " + what + ", found " + describeByte());
        }
        pos++;
    }

    private void expect(char c) throws SyntaxError {
        if (peekByte() != c) {
            throw error("expected '" + c + "', found " + describeByte());
        }
        pos++;
    }

    private void literal(String word) throws SyntaxError {
        for (int i = 0; i < word.length(); i++) {
            if (peekByte() != word.charAt(i)) {
                throw error("invalid literal, expected " + word);
            }
            pos++;
        }
    }

    private void skipWhitespace() {
        while (pos < in.length) {
            byte b = in[pos];
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private int peekByte() {
        return pos < in.length ? in[pos] : -1;
    }

    /** Checks the number grammar {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?} and moves past it. */
    private void scanNumber() throws SyntaxError {
        if (peekByte() == '-') {
            pos++;
        }
        if (peekByte() == '0') {
            pos++;
            if (isDigit(peekByte())) {
                throw error("leading zero in a number");
            }
        } else if (isDigit(peekByte())) {
            while (isDigit(peekByte())) {
                pos++;
            }
        } else {
            throw error("invalid number");
        }
        if (peekByte() == '.') {
            pos++;
            if (!isDigit(peekByte())) {
                throw error("expected a digit after the decimal point");
            }
            while (isDigit(peekByte())) {
                pos++;
            }
        }
        if (peekByte() == 'e' || peekByte() == 'E') {
            pos++;
            if (peekByte() == '+' || peekByte() == '-') {
                pos++;
            }
            if (!isDigit(peekByte())) {
                throw error("expected a digit in the exponent");
            }
            while (isDigit(peekByte())) {
                pos++;
            }
        }
    }

    private static boolean isDigit(int b) {
        return b >= '0' && b <= '9';
    }

    /** Reads a string starting at its opening quote. */
    private String readString() throws SyntaxError {
        pos++; // opening quote
        StringBuilder out = null;
        int runStart = pos;
        while (true) {
            if (pos >= in.length) {
                throw error("unterminated string");
            }
            byte b = in[pos];
            if (b == '"') {
                String tail = new String(in, runStart, pos - runStart, StandardCharsets.UTF_8);
                pos++;
                return out == null ? tail : out.append(tail).toString();
            }
            if (b >= 0 && b < 0x20) {
                throw error("control character U+00" + String.format("%02X", b) + " in a string (it must be escaped)");
            }
            if (b != '\\') {
                pos++;
                continue;
            }
            if (out == null) {
                out = new StringBuilder();
            }
            out.append(new String(in, runStart, pos - runStart, StandardCharsets.UTF_8));
            int escapeAt = pos;
            pos++;
            int e = peekByte();
            pos++;
            switch (e) {
                case '"' -> out.append('"');
                case '\\' -> out.append('\\');
                case '/' -> out.append('/');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    int unit = hex4();
                    if (Character.isLowSurrogate((char) unit)) {
                        throw new SyntaxError("lone trailing surrogate \\u" + String.format("%04X", unit)
                                + " in a string", escapeAt);
                    }
                    if (Character.isHighSurrogate((char) unit)) {
                        if (peekByte() != '\\' || pos + 1 >= in.length || in[pos + 1] != 'u') {
                            throw new SyntaxError("lone leading surrogate \\u" + String.format("%04X", unit)
                                    + " in a string", escapeAt);
                        }
                        pos += 2;
                        int low = hex4();
                        if (!Character.isLowSurrogate((char) low)) {
                            throw new SyntaxError("lone leading surrogate \\u" + String.format("%04X", unit)
                                    + " in a string", escapeAt);
                        }
                        out.append((char) unit).append((char) low);
                    } else {
                        out.append((char) unit);
                    }
                }
                default -> throw new SyntaxError("invalid escape in a string", escapeAt);
            }
            runStart = pos;
        }
    }

    private int hex4() throws SyntaxError {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int c = peekByte();
            int digit = Character.digit(c < 0 ? -1 : c, 16);
            if (c < 0 || c > 0x7F || digit < 0) {
                throw error("invalid \\u escape");
            }
            value = value * 16 + digit;
            pos++;
        }
        return value;
    }

    private SyntaxError error(String message) {
        return new SyntaxError(message, pos);
    }

    private String describeByte() {
        int b = peekByte();
        if (b == -1) {
            return "the end of the input";
        }
        if (b >= 0x21 && b < 0x7F) {
            return "'" + (char) b + "'";
        }
        return String.format("byte 0x%02X", b & 0xFF);
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    // ---- UTF-8 ----------------------------------------------------------------------------------------

    /**
     * The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong forms, no
     * surrogates, nothing above U+10FFFF), or -1 if all of it is well-formed.
     */
    static int firstInvalidUtf8(byte[] bytes) {
        int i = 0;
        int n = bytes.length;
        while (i < n) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                i++;
                continue;
            }
            int need;
            int min;
            int max = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                min = 0x80;
            } else if (b == 0xE0) {
                need = 2;
                min = 0xA0; // no overlong 3-byte forms
            } else if (b == 0xED) {
                need = 2;
                min = 0x80;
                max = 0x9F; // no surrogates
            } else if (b >= 0xE1 && b <= 0xEF) {
                need = 2;
                min = 0x80;
            } else if (b == 0xF0) {
                need = 3;
                min = 0x90; // no overlong 4-byte forms
            } else if (b >= 0xF1 && b <= 0xF3) {
                need = 3;
                min = 0x80;
            } else if (b == 0xF4) {
                need = 3;
                min = 0x80;
                max = 0x8F; // nothing above U+10FFFF
            } else {
                return i;
            }
            if (i + need >= n) {
                return i; // truncated sequence
            }
            int second = bytes[i + 1] & 0xFF;
            if (second < min || second > max) {
                return i;
            }
            for (int k = 2; k <= need; k++) {
                int c = bytes[i + k] & 0xFF;
                if (c < 0x80 || c > 0xBF) {
                    return i;
                }
            }
            i += need + 1;
        }
        return -1;
    }
}
