package dev.weightsonly.python;

import java.math.BigInteger;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The {@code toString()} of the Python value types: Python's {@code repr}, bounded, so that a value prints
 * usefully in a log or a debugger whatever the file made of it. {@code {'epoch': 10, 'lr': 0.001, 'betas': (0.9,
 * 0.999), 'model': OrderedDict({'w': Tensor[float32, shape=[2], ...]})}}: str in quotes with control characters
 * escaped (a file's text cannot forge log lines), floats as Python prints them, None, True, OrderedDict and
 * Counter by name, an object of an allowed class as {@code module.Name(args, field=value)}.
 *
 * <p>Bounds: the text stops near {@link #MAX_CHARS} characters ({@code ...} marks where, and every bracket
 * opened is closed), containers nest at most {@link #MAX_DEPTH} deep before printing as {@code [...]}, one str or
 * other leaf prints at most {@link #MAX_LEAF} characters, and a container that holds itself prints as Python
 * prints it, {@code [...]}. So the work is bounded too: a few hundred values at most, however large or
 * self-referential the value.
 */
final class PyRepr {

    static final int MAX_CHARS = 500;
    static final int MAX_DEPTH = 6;
    static final int MAX_LEAF = 80;
    /** Ints beyond this many bits print as their size: their digits cost quadratic time. */
    private static final int MAX_INT_BITS = 4096;

    private final StringBuilder out = new StringBuilder();
    /** The containers being printed, around the current value: a value among them is a cycle. */
    private final Set<Object> open = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean full;

    private PyRepr() {
    }

    /** The bounded repr of any Java form of a Python value. */
    static String of(Object value) {
        PyRepr repr = new PyRepr();
        repr.value(value, 0);
        return repr.out.toString();
    }

    private void value(Object value, int depth) {
        switch (value) {
            case PyDict d -> {
                String name = d.kind() == PyDict.Kind.DICT ? "" : d.kind().pythonName().substring("collections.".length());
                if (d.isEmpty()) {
                    out.append(name.isEmpty() ? "{}" : name + "()");
                } else {
                    out.append(name).append(name.isEmpty() ? "" : "(");
                    items(d, depth, "{", "}", d.entrySet().iterator(), true);
                    if (!name.isEmpty()) {
                        out.append(')');
                    }
                }
            }
            case PyList l -> items(l, depth, "[", "]", l.iterator(), false);
            case PyTuple t -> {
                items(t, depth, "(", t.size() == 1 ? ",)" : ")", t.items().iterator(), false);
            }
            case PySet s -> {
                String name = s.isFrozen() ? "frozenset" : "set";
                if (s.isEmpty()) {
                    out.append(name).append("()");
                } else {
                    if (s.isFrozen()) {
                        out.append(name).append('(');
                    }
                    items(s, depth, "{", "}", s.iterator(), false);
                    if (s.isFrozen()) {
                        out.append(')');
                    }
                }
            }
            case PyObject o -> object(o, depth);
            default -> out.append(leaf(value));
        }
    }

    /**
     * The items of {@code container} between {@code start} and {@code end}, as far as the budget goes; entries of
     * a map print as {@code key: value}.
     */
    private void items(Object container, int depth, String start, String end, Iterator<?> items, boolean entries) {
        if (depth >= MAX_DEPTH || !open.add(container)) {
            out.append(start).append("...").append(end);
            return;
        }
        out.append(start);
        boolean first = true;
        while (items.hasNext() && !full) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            if (out.length() >= MAX_CHARS) {
                out.append("...");
                full = true;
                break;
            }
            Object item = items.next();
            if (entries) {
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) item;
                value(e.getKey(), depth + 1);
                out.append(": ");
                value(e.getValue(), depth + 1);
            } else {
                value(item, depth + 1);
            }
        }
        out.append(end);
        open.remove(container);
    }

    /** {@code module.Name(arg, ..., field=value, ...)}, or {@code module.Name(args..., state=...)}. */
    private void object(PyObject o, int depth) {
        out.append(o.className());
        if (depth >= MAX_DEPTH || !open.add(o)) {
            out.append("(...)");
            return;
        }
        out.append('(');
        boolean first = true;
        for (Object arg : o.args().items()) {
            first = separate(first);
            if (full) {
                break;
            }
            value(arg, depth + 1);
        }
        Map<String, Object> fields = o.fields();
        if (!fields.isEmpty()) {
            for (Map.Entry<String, Object> field : fields.entrySet()) {
                first = separate(first);
                if (full) {
                    break;
                }
                out.append(clip(field.getKey())).append('=');
                value(field.getValue(), depth + 1);
            }
        } else if (o.state() != PyNone.NONE && !full) {
            separate(first);
            if (!full) {
                out.append("state=");
                value(o.state(), depth + 1);
            }
        }
        out.append(')');
        open.remove(o);
    }

    /** The comma before an item but the first; marks the text full when the budget is spent. */
    private boolean separate(boolean first) {
        if (full) {
            return false;
        }
        if (!first) {
            out.append(", ");
        }
        if (out.length() >= MAX_CHARS) {
            out.append("...");
            full = true;
        }
        return false;
    }

    private static String leaf(Object value) {
        return switch (value) {
            case null -> "null";
            case String s -> quote(s);
            case PyBytes b -> bytes(b);
            case PyComplex c -> complex(c);
            case Boolean b -> b ? "True" : "False";
            case Double d -> real(d);
            case BigInteger b when b.bitLength() > MAX_INT_BITS -> "<int of " + b.bitLength() + " bits>";
            default -> clip(String.valueOf(value));
        };
    }

    private static String real(double d) {
        return Double.isNaN(d) ? "nan" : Double.isInfinite(d) ? (d > 0 ? "inf" : "-inf") : PyValues.floatRepr(d);
    }

    /** Python's repr of a complex: {@code (1.5-2j)}, {@code 2j} for a real part of +0, parts without {@code .0}. */
    private static String complex(PyComplex c) {
        String imag = part(c.imag()) + "j";
        if (c.real() == 0 && Double.doubleToRawLongBits(c.real()) == 0) {
            return imag;
        }
        return "(" + part(c.real()) + (imag.startsWith("-") ? "" : "+") + imag + ")";
    }

    private static String part(double d) {
        String text = real(d);
        return text.endsWith(".0") ? text.substring(0, text.length() - 2) : text;
    }

    /** Python's repr of bytes ({@code b'\x00hi'}) or a bytearray, at most {@link #MAX_LEAF} bytes of it. */
    private static String bytes(PyBytes b) {
        byte[] data = b.bytes();
        char quote = contains(data, '\'') && !contains(data, '"') ? '"' : '\'';
        StringBuilder q = new StringBuilder(b.isByteArray() ? "bytearray(b" : "b").append(quote);
        int n = Math.min(data.length, MAX_LEAF);
        for (int i = 0; i < n; i++) {
            int c = data[i] & 0xFF;
            escape(q, c, quote, c >= 0x20 && c < 0x7F);
        }
        q.append(data.length > n ? "..." : "").append(quote);
        return b.isByteArray() ? q.append(')').toString() : q.toString();
    }

    private static boolean contains(byte[] data, char c) {
        for (byte x : data) {
            if (x == c) {
                return true;
            }
        }
        return false;
    }

    /**
     * A str as Python's repr quotes it (in double quotes when it holds a single quote and no double one), at most
     * {@link #MAX_LEAF} characters of it, with what Python escapes escaped: backslash, the quote, and every
     * character that does not print (controls, format characters such as the right-to-left override,
     * separators but the space, lone surrogates, private and unassigned ones).
     */
    private static String quote(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder q = new StringBuilder().append(quote);
        int end = s.offsetByCodePoints(0, s.codePointCount(0, Math.min(s.length(), MAX_LEAF)));
        for (int i = 0; i < end; ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            escape(q, c, quote, printable(c));
        }
        return q.append(end < s.length() ? "..." : "").append(quote).toString();
    }

    /**
     * Appends character (or byte) {@code c} as Python's repr writes it inside {@code quote}s: backslash, the quote,
     * tab, newline and return escaped, a {@code plain} one as itself, any other as a backslash escape of its code
     * in hexadecimal (x and 2 digits, u and 4, or U and 8).
     */
    private static void escape(StringBuilder q, int c, char quote, boolean plain) {
        switch (c) {
            case '\\' -> q.append("\\\\");
            case '\n' -> q.append("\\n");
            case '\r' -> q.append("\\r");
            case '\t' -> q.append("\\t");
            default -> {
                if (c == quote) {
                    q.append('\\').append(quote);
                } else if (plain) {
                    q.appendCodePoint(c);
                } else {
                    q.append(c <= 0xFF ? String.format("\\x%02x", c)
                            : c <= 0xFFFF ? String.format("\\u%04x", c) : String.format("\\U%08x", c));
                }
            }
        }
    }

    /** Python's {@code str.isprintable()} of one character. */
    private static boolean printable(int c) {
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            case Character.SPACE_SEPARATOR -> c == ' ';
            default -> true;
        };
    }

    /** At most {@link #MAX_LEAF} characters of a leaf's own text. */
    private static String clip(String text) {
        return text.length() > MAX_LEAF ? text.substring(0, MAX_LEAF) + "..." : text;
    }
}
