package dev.weightsonly.internal.pickle;

import dev.weightsonly.python.PyComplex;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's {@code complex(str)}: {@code '1+2j'}, {@code '(-1.5e3-2J)'}, {@code 'j'}, {@code '1_000'}, Unicode
 * digits and spaces, as CPython's {@code complex_from_string} reads them (forms {@code <float>},
 * {@code <float>j}, {@code <float><signed float>j}, {@code <float><sign>j}, {@code <sign>j} and {@code j}, in
 * optional parentheses, with surrounding spaces).
 */
final class PyComplexText {

    // the longest float at a position, as PyOS_string_to_double finds it: an exponent only with its digits
    private static final Pattern FLOAT = Pattern.compile(
            "[+-]?(?:(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(infinity|inf|nan))", Pattern.CASE_INSENSITIVE);

    private PyComplexText() {
    }

    /** The complex number {@code text} spells, or null where Python raises ValueError. */
    static PyComplex parse(String text) {
        String s = ascii(text);
        if (s == null || (s = underscores(s)) == null) {
            return null;
        }
        int[] at = {0};
        int n = s.length();
        skipSpaces(s, at);
        boolean bracket = at[0] < n && s.charAt(at[0]) == '(';
        if (bracket) {
            at[0]++;
            skipSpaces(s, at);
        }
        double x = 0;
        double y = 0;
        Double z = number(s, at);
        if (z != null) {
            if (at[0] < n && (s.charAt(at[0]) == '+' || s.charAt(at[0]) == '-')) {
                x = z; // <float><signed float>j or <float><sign>j
                Double imag = number(s, at);
                y = imag != null ? imag : s.charAt(at[0]++) == '+' ? 1.0 : -1.0;
                if (!j(s, at)) {
                    return null;
                }
            } else if (j(s, at)) {
                y = z;
            } else {
                x = z;
            }
        } else {
            if (at[0] < n && (s.charAt(at[0]) == '+' || s.charAt(at[0]) == '-')) {
                y = s.charAt(at[0]++) == '+' ? 1.0 : -1.0;
            } else {
                y = 1.0;
            }
            if (!j(s, at)) {
                return null;
            }
        }
        skipSpaces(s, at);
        if (bracket) {
            if (at[0] >= n || s.charAt(at[0]) != ')') {
                return null;
            }
            at[0]++;
            skipSpaces(s, at);
        }
        return at[0] == n ? new PyComplex(x, y) : null;
    }

    private static boolean j(String s, int[] at) {
        if (at[0] < s.length() && (s.charAt(at[0]) == 'j' || s.charAt(at[0]) == 'J')) {
            at[0]++;
            return true;
        }
        return false;
    }

    /** C's isspace, which the parser itself uses (Unicode spaces are already turned into ' '). */
    private static void skipSpaces(String s, int[] at) {
        while (at[0] < s.length() && (s.charAt(at[0]) == ' ' || s.charAt(at[0]) >= '\t' && s.charAt(at[0]) <= '\r')) {
            at[0]++;
        }
    }

    /** The float starting at {@code at[0]}, moving past it; null (not moving) if none starts there. */
    private static Double number(String s, int[] at) {
        Matcher m = FLOAT.matcher(s).region(at[0], s.length());
        if (!m.lookingAt()) {
            return null;
        }
        at[0] = m.end();
        String t = m.group();
        if (m.group(1) != null) {
            boolean negative = t.charAt(0) == '-';
            if (m.group(1).equalsIgnoreCase("nan")) {
                return Double.NaN;
            }
            return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return Double.parseDouble(t); // correctly rounded, overflowing to an infinity as Python's parser does
    }

    /**
     * CPython's {@code _PyUnicode_TransformDecimalAndSpaceToASCII}: ASCII stays, Unicode spaces become ' ',
     * Unicode decimal digits their ASCII digit; anything else makes the string malformed (null).
     */
    private static String ascii(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 127) {
                if (cp == 0) {
                    return null; // an embedded NUL ends the C string early
                }
                sb.append((char) cp);
            } else if (isPythonSpace(cp)) {
                sb.append(' ');
            } else if (Character.getType(cp) == Character.DECIMAL_DIGIT_NUMBER) {
                sb.append((char) ('0' + Character.digit(cp, 10)));
            } else {
                return null;
            }
        }
        return sb.toString();
    }

    /** Python's {@code str.isspace} for a non-ASCII code point. */
    private static boolean isPythonSpace(int cp) {
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || cp >= 0x2000 && cp <= 0x200A || cp == 0x2028
                || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** PEP 515: an underscore only between two digits, and then removed; null otherwise. */
    private static String underscores(String s) {
        if (s.indexOf('_') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        char prev = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '_') {
                if (prev < '0' || prev > '9') {
                    return null;
                }
            } else {
                if (prev == '_' && (c < '0' || c > '9')) {
                    return null;
                }
                sb.append(c);
            }
            prev = c;
        }
        return prev == '_' ? null : sb.toString();
    }
}
