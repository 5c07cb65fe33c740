package dev.weightsonly.cli;

/**
 * Text from a file made safe to print on a terminal. Names in a checkpoint (dict keys, safetensors names,
 * global names, zip record names) are chosen by whoever wrote the file, and a terminal obeys the control
 * characters in what it prints: an escape sequence can clear the screen, set the window title, or move the
 * cursor up and overwrite an earlier line (a "DANGEROUS" line of {@code scan}'s report rewritten as
 * "allowed"); a carriage return or a newline can forge a line of the report; a bidi override can reorder the
 * characters of a line as displayed.
 *
 * <p>Every human-readable line the tool prints passes the file's text through {@link #escape}, which writes
 * each such character as a visible escape instead: C0 controls ({@code \n}, {@code \r}, {@code \t} by name,
 * the others as {@code \x1b}), DEL and the C1 controls U+0080 to U+009F ({@code \x7f}, {@code \u009b}),
 * the line and paragraph separators U+2028 and U+2029, and Unicode's bidi controls (U+061C, U+200E, U+200F,
 * U+202A to U+202E, U+2066 to U+2069) as {@code \u202e}. Everything else, other scripts included, is printed
 * as it is. {@code --json} output is JSON, whose own quoting already escapes control characters.
 */
final class TerminalText {

    private TerminalText() {
    }

    /** {@code text} with every control, separator and bidi-control character written as a visible escape. */
    static String escape(String text) {
        String s = String.valueOf(text);
        int i = 0;
        while (i < s.length() && !needsEscape(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!needsEscape(c)) {
                sb.append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c <= 0xFF) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    /** A one-line message: its line breaks become spaces (they separate sentences), then {@link #escape}. */
    static String oneLine(String message) {
        return escape(String.valueOf(message).replace("\r\n", " ").replace('\n', ' '));
    }

    static boolean needsEscape(char c) {
        return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F
                || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
    }
}
