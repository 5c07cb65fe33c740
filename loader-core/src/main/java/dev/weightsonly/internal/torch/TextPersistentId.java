package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import java.util.ArrayList;
import java.util.List;

/**
 * The persistent id of a protocol 0 pickle: the PERSID opcode carries {@code str(pid)}, so
 * {@code torch.save(..., pickle_protocol=0)} writes the tuple's repr, such as
 * {@code ('storage', <class 'torch.FloatStorage'>, '0', 'cpu', 6)}. PyTorch cannot read its own output
 * here; weightsonly parses exactly this shape (strings, ints, None and {@code <class '...'>}, the class
 * resolved through the same allowlist as any GLOBAL) and nothing else.
 */
public final class TextPersistentId {

    /** What a {@code <class '...'>} item becomes. */
    private interface Classes {
        Object resolve(String qualifiedName) throws CheckpointException;
    }

    private final String text;
    private final CallSite site;
    private int pos;

    private TextPersistentId(String text, CallSite site) {
        this.text = text;
        this.site = site;
    }

    static PyTuple parse(String text, TorchUnpicklerHost host, CallSite site) throws CheckpointException {
        return parse(text, name -> host.resolveForText(name, site), site);
    }

    /**
     * The classes a text persistent id names, in order, as a load would resolve them (the scanner reports them
     * as globals, since a load resolves each through the allowlist): read with the same grammar, up to the first
     * thing a load would refuse as unreadable.
     *
     * @param text the PERSID operand
     * @return the qualified names of its {@code <class '...'>} items
     */
    public static List<String> classNames(String text) {
        List<String> names = new ArrayList<>();
        try {
            parse(text, name -> {
                names.add(name);
                return name;
            }, null);
        } catch (CheckpointException unreadable) {
            // the names before it are what a load resolves before refusing the text
        }
        return names;
    }

    private static PyTuple parse(String text, Classes classes, CallSite site) throws CheckpointException {
        TextPersistentId p = new TextPersistentId(text, site);
        List<Object> items = new ArrayList<>();
        p.expect('(');
        while (true) {
            p.skipSpaces();
            if (p.peek() == ')') {
                p.pos++;
                break;
            }
            items.add(p.item(classes));
            p.skipSpaces();
            char c = p.next();
            if (c == ')') {
                break;
            }
            if (c != ',') {
                throw p.error();
            }
            if (items.size() > 16) {
                throw p.error();
            }
        }
        if (p.pos != text.length()) {
            throw p.error();
        }
        return PyTuple.of(items.toArray());
    }

    private Object item(Classes classes) throws CheckpointException {
        char c = peek();
        if (c == '\'' || c == '"') {
            return string();
        }
        if (text.startsWith("<class ", pos)) {
            pos += "<class ".length();
            String name = string();
            expect('>');
            return classes.resolve(name);
        }
        if (text.startsWith("None", pos)) {
            pos += 4;
            return dev.weightsonly.python.PyNone.NONE;
        }
        int start = pos;
        if (c == '-') {
            pos++;
        }
        while (pos < text.length() && Character.isDigit(text.charAt(pos)) && pos - start < 20) {
            pos++;
        }
        try {
            return Long.parseLong(text.substring(start, pos));
        } catch (NumberFormatException e) {
            throw error();
        }
    }

    private String string() throws CheckpointException {
        char quote = next();
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = next();
            if (c == quote) {
                return sb.toString();
            }
            if (c == '\\') {
                c = next();
                if (c != '\\' && c != '\'' && c != '"') {
                    throw error();
                }
            }
            sb.append(c);
        }
    }

    private void skipSpaces() {
        while (pos < text.length() && text.charAt(pos) == ' ') {
            pos++;
        }
    }

    private char peek() throws CheckpointException {
        if (pos >= text.length()) {
            throw error();
        }
        return text.charAt(pos);
    }

    private char next() throws CheckpointException {
        char c = peek();
        pos++;
        return c;
    }

    private void expect(char c) throws CheckpointException {
        if (next() != c) {
            throw error();
        }
    }

    private CheckpointException error() {
        String message = "unreadable text persistent id " + PyValues.shortRepr(text)
                + " (expected the repr of ('storage', <class '...'>, key, location, numel))";
        // No site when only the class names are wanted (classNames): the refusal only ends the reading there.
        return site != null ? site.malformed(message) : CheckpointException.Location.of("PERSID").malformed(message);
    }
}
