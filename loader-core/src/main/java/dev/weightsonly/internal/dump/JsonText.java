package dev.weightsonly.internal.dump;

/**
 * JSON string literals (RFC 8259), as the canonical dump, the safetensors writer and the tool's JSON output
 * write them: {@code "} and {@code \} escaped, control characters as {@code \n}, {@code \r}, {@code \t},
 * {@code \b}, {@code \f} or {@code \}{@code u00XX}, a lone surrogate (which no UTF-8 text can hold) as
 * {@code \}{@code uXXXX}, everything else as it is.
 */
public final class JsonText {

    private JsonText() {
    }

    /**
     * {@code s} as a JSON string literal, quotes included.
     *
     * @param s any string, lone surrogates included
     * @return the literal, which any JSON parser reads back as {@code s}
     */
    public static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2);
        quote(s, out);
        return out.toString();
    }

    /**
     * Appends {@code s} as a JSON string literal, quotes included, to {@code out}, for writers that build a
     * whole document in one builder.
     *
     * @param s any string, lone surrogates included
     * @param out where the literal is appended
     */
    public static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    boolean loneSurrogate = Character.isSurrogate(c) && !(Character.isHighSurrogate(c)
                            && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))
                            && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || loneSurrogate) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
