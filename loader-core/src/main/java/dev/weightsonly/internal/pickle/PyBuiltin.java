package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * The Python data constructors that torch's allowlist names: each builds one kind of value from checked
 * arguments. Python would accept far more (for example {@code bytearray(10**12)} allocates a terabyte);
 * these accept only the argument forms that {@code pickle} and {@code torch.save} produce.
 */
public enum PyBuiltin implements PyCallable, PyClass {

    ORDERED_DICT("collections.OrderedDict"),
    COUNTER("collections.Counter"),
    SET("builtins.set"),
    BYTEARRAY("builtins.bytearray"),
    COMPLEX("builtins.complex"),
    CODECS_ENCODE("_codecs.encode");

    private static final PythonAccess.Ops PY = PythonAccess.ops();

    private final String qualifiedName;

    PyBuiltin(String qualifiedName) {
        this.qualifiedName = qualifiedName;
    }

    @Override
    public String qualifiedName() {
        return qualifiedName;
    }

    @Override
    public Object newObject(PyTuple args, CallSite site) throws CheckpointException {
        // cls.__new__(cls) of a dict type is an empty dict; SETITEMS and BUILD fill it.
        return switch (this) {
            case ORDERED_DICT -> PY.newDict(PyDict.Kind.ORDERED_DICT);
            case COUNTER -> PY.newDict(PyDict.Kind.COUNTER);
            case SET -> PY.newSet(false);
            default -> throw site.unsafe("Can only create new object for nn.Parameter or classes allowlisted via"
                    + " `add_safe_globals` but got " + qualifiedName);
        };
    }

    @Override
    public Object call(PyTuple args, CallSite site) throws CheckpointException {
        return switch (this) {
            case ORDERED_DICT -> dictFrom(PyDict.Kind.ORDERED_DICT, args, site);
            case COUNTER -> dictFrom(PyDict.Kind.COUNTER, args, site);
            case SET -> setFrom(args, site);
            case BYTEARRAY -> byteArrayFrom(args, site);
            case COMPLEX -> complexFrom(args, site);
            case CODECS_ENCODE -> encode(args, site);
        };
    }

    private PyDict dictFrom(PyDict.Kind kind, PyTuple args, CallSite site) throws CheckpointException {
        PyDict dict = PY.newDict(kind);
        if (args.size() == 0) {
            return dict;
        }
        if (args.size() != 1) {
            throw site.malformed(qualifiedName + " takes at most 1 argument, got " + args.size());
        }
        Object source = args.get(0);
        if (source instanceof PyDict d) {
            for (Map.Entry<Object, Object> e : d.entrySet()) {
                PY.putItem(dict, e.getKey(), e.getValue());
            }
        } else if (source instanceof PyList l && kind == PyDict.Kind.COUNTER) {
            // Counter(iterable) counts the elements: Counter(['a', 'b', 'a']) is {'a': 2, 'b': 1}
            for (Object element : l) {
                requireHashable(element, site);
                Object count = dict.get(element);
                PY.putItem(dict, element, count == null ? 1L : (Long) count + 1);
            }
        } else if (source instanceof PyList l) {
            for (Object pair : l) {
                if (!(pair instanceof PyTuple t) || t.size() != 2) {
                    throw site.malformed(qualifiedName + " expects (key, value) pairs, got " + PyValues.typeName(pair));
                }
                requireHashable(t.get(0), site);
                PY.putItem(dict, t.get(0), t.get(1));
            }
        } else {
            throw site.malformed(qualifiedName + " expects a dict or a list of pairs, got "
                    + PyValues.typeName(source));
        }
        return dict;
    }

    private PySet setFrom(PyTuple args, CallSite site) throws CheckpointException {
        PySet set = PY.newSet(false);
        if (args.size() == 0) {
            return set;
        }
        if (args.size() != 1) {
            throw site.malformed("set expected at most 1 argument, got " + args.size());
        }
        Iterable<?> items = switch (args.get(0)) {
            case PyList l -> l;
            case PyTuple t -> t.items();
            case PySet s -> s;
            default -> throw site.malformed("set expects a list, tuple or set, got " + PyValues.typeName(args.get(0)));
        };
        for (Object item : items) {
            requireHashable(item, site);
            PY.addItem(set, item);
        }
        return set;
    }

    private PyBytes byteArrayFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() == 0) {
            return PY.wrapBytes(new byte[0], true);
        }
        if (args.size() == 1 && args.get(0) instanceof PyBytes b) {
            return PY.wrapBytes(b.toByteArray(), true);
        }
        // bytearray(n) would allocate n bytes chosen by the file: refused.
        throw site.malformed("bytearray expects one bytes argument, got " + describe(args));
    }

    private PyComplex complexFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 2) {
            throw site.malformed("complex takes at most 2 arguments, got " + args.size());
        }
        double re = args.size() > 0 ? real(args.get(0), site) : 0.0;
        double im = args.size() > 1 ? real(args.get(1), site) : 0.0;
        return new PyComplex(re, im);
    }

    private static double real(Object value, CallSite site) throws CheckpointException {
        return switch (value) {
            case Double d -> d;
            case Long l -> l.doubleValue();
            case Boolean b -> b ? 1.0 : 0.0;
            case BigInteger b -> {
                double d = b.doubleValue();
                if (Double.isInfinite(d)) {
                    throw site.malformed("int too large to convert to float");
                }
                yield d;
            }
            default -> throw site.malformed("complex expects numbers, got " + PyValues.typeName(value));
        };
    }

    private PyBytes encode(PyTuple args, CallSite site) throws CheckpointException {
        // _codecs.encode(obj, encoding='utf-8', errors='strict'), as Python (found by differential fuzzing:
        // loader-core/src/test/resources/difffuzz)
        if (args.size() < 1 || args.size() > 3 || !(args.get(0) instanceof String text)
                || args.size() > 1 && !(args.get(1) instanceof String)) {
            throw site.malformed("_codecs.encode expects (str, encoding), got " + describe(args));
        }
        String codec = args.size() > 1 ? (String) args.get(1) : "utf-8";
        if (args.size() > 2 && !"strict".equals(args.get(2))) {
            throw site.unsupported("_codecs.encode with errors=" + PyValues.shortRepr(args.get(2))
                    + " (only 'strict' is supported)");
        }
        String normalized = codec.toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (normalized) {
            case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1" -> {
                byte[] out = new byte[text.length()];
                for (int i = 0; i < text.length(); i++) {
                    char c = text.charAt(i);
                    if (c > 0xFF) {
                        throw site.malformed("_codecs.encode: character U+" + Integer.toHexString(c)
                                + " cannot be encoded as latin1");
                    }
                    out[i] = (byte) c;
                }
                yield PY.wrapBytes(out, false);
            }
            case "utf-8", "utf8" -> {
                // strict, as Python: String.getBytes would silently write '?' for a lone surrogate
                try {
                    ByteBuffer utf8 = StandardCharsets.UTF_8.newEncoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .encode(CharBuffer.wrap(text));
                    byte[] out = new byte[utf8.remaining()];
                    utf8.get(out);
                    yield PY.wrapBytes(out, false);
                } catch (CharacterCodingException e) {
                    throw site.malformed("_codecs.encode: a lone surrogate cannot be encoded as utf-8");
                }
            }
            case "ascii" -> {
                for (int i = 0; i < text.length(); i++) {
                    if (text.charAt(i) > 0x7F) {
                        throw site.malformed("_codecs.encode: non-ASCII character in ascii text");
                    }
                }
                yield PY.wrapBytes(text.getBytes(StandardCharsets.US_ASCII), false);
            }
            default -> throw site.unsupported("_codecs.encode with encoding " + PyValues.shortRepr(codec)
                    + " (only latin1, utf-8 and ascii are data encodings)");
        };
    }

    static void requireHashable(Object key, CallSite site) throws CheckpointException {
        if (!PyValues.isHashable(key)) {
            throw site.malformed("unhashable type: '" + PyValues.typeName(key) + "'");
        }
    }

    private static String describe(PyTuple args) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < args.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(PyValues.typeName(args.get(i)));
        }
        return sb.append(')').toString();
    }
}
