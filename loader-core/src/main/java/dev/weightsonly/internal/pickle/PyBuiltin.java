package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;

/**
 * The Python data constructors that torch's allowlist names, each following Python's rules for its arguments
 * ({@code set('ab')}, {@code Counter(iterable)}, {@code OrderedDict(pairs)}, {@code bytearray(3)},
 * {@code complex('1+2j')}, ...) with every expansion charged to the load's budget or bounded by its limits
 * ({@code bytearray(10**12)} exceeds {@code maxStringBytes} rather than allocating a terabyte).
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
        // NEWOBJ is cls.__new__(cls, *args) (torch 2.6 calls it for every allowed class). The __new__ of a mutable
        // type makes an empty object and ignores its arguments (its __init__, which NEWOBJ never calls, reads
        // them); SETITEMS, ADDITEMS and BUILD may fill it. complex is immutable: its __new__ is the constructor.
        return switch (this) {
            case ORDERED_DICT -> PY.newDict(PyDict.Kind.ORDERED_DICT);
            case COUNTER -> PY.newDict(PyDict.Kind.COUNTER);
            case SET -> PY.newSet(false);
            case BYTEARRAY -> PY.wrapBytes(new byte[0], true);
            case COMPLEX -> complexFrom(args, site);
            case CODECS_ENCODE -> throw site.unsafe("Can only create new object for nn.Parameter or classes"
                    + " allowlisted via `add_safe_globals` but got " + qualifiedName + " (a function)");
        };
    }

    @Override
    public Object call(PyTuple args, CallSite site) throws CheckpointException {
        return switch (this) {
            case ORDERED_DICT -> orderedDictFrom(args, site);
            case COUNTER -> counterFrom(args, site);
            case SET -> setFrom(args, site);
            case BYTEARRAY -> byteArrayFrom(args, site);
            case COMPLEX -> complexFrom(args, site);
            case CODECS_ENCODE -> encode(args, site);
        };
    }

    /**
     * {@code OrderedDict(x)}: the items of a mapping, or else of an iterable of pairs, each pair any iterable of
     * exactly two items ({@code ('a', 1)}, {@code ['a', 1]}, {@code 'ab'}); of equal keys the first stays, with
     * the last value.
     */
    private PyDict orderedDictFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 1) {
            throw site.malformed("expected at most 1 arguments, got " + args.size());
        }
        if (args.size() == 0) {
            return PY.newDict(PyDict.Kind.ORDERED_DICT);
        }
        if (args.get(0) instanceof PyDict d) {
            // shared until changed; the copy is charged with the call's arguments (Unpickler#chargeArguments)
            return PY.copyOf(PyDict.Kind.ORDERED_DICT, d);
        }
        PyDict dict = PY.newDict(PyDict.Kind.ORDERED_DICT);
        PyState.updatePairs(args.get(0), "OrderedDict()", site, (key, value) -> PY.putItem(dict, key, value));
        return dict;
    }

    /**
     * {@code Counter(x)}: empty for None, the items of a mapping, or else the count of each item of an iterable
     * ({@code Counter('abca')} is {@code {'a': 2, 'b': 1, 'c': 1}}; {@code 1}, {@code 1.0} and {@code True} are one
     * item).
     */
    private PyDict counterFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 1) {
            throw site.malformed("Counter.__init__() takes from 1 to 2 positional arguments but " + (args.size() + 1)
                    + " were given");
        }
        if (args.size() == 0 || args.get(0) instanceof PyNone) {
            return PY.newDict(PyDict.Kind.COUNTER);
        }
        if (args.get(0) instanceof PyDict d) {
            // shared until changed; the copy is charged with the call's arguments (Unpickler#chargeArguments)
            return PY.copyOf(PyDict.Kind.COUNTER, d);
        }
        PyDict counter = PY.newDict(PyDict.Kind.COUNTER);
        PyIteration.forEach(args.get(0), true, "Counter()", site, item -> {
            requireHashable(item, site);
            Object count = counter.get(item);
            // counts only ever come from this loop: ints, which a str of at most 2^31 characters cannot overflow
            PY.putItem(counter, item, count == null ? 1L : (Long) count + 1);
        });
        return counter;
    }

    /** {@code set(x)}: the distinct items of any iterable, by Python's key equality. */
    private PySet setFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 1) {
            throw site.malformed("set expected at most 1 argument, got " + args.size());
        }
        PySet set = PY.newSet(false);
        if (args.size() == 1) {
            PyIteration.forEach(args.get(0), false, "set()", site, item -> {
                requireHashable(item, site);
                PY.addItem(set, item);
            });
        }
        return set;
    }

    /**
     * {@code bytearray(x)}, as Python reads its argument: nothing, a str with an encoding (and errors), an int
     * count of zero bytes, bytes or bytearray, or an iterable of ints in {@code range(256)}.
     */
    private PyBytes byteArrayFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 3) {
            throw site.malformed("bytearray() takes at most 3 arguments (" + args.size() + " given)");
        }
        if (args.size() == 0) {
            return PY.wrapBytes(new byte[0], true);
        }
        Object source = args.get(0);
        if (source instanceof String text) {
            if (args.size() == 1) {
                throw site.malformed("string argument without an encoding");
            }
            if (!(args.get(1) instanceof String encoding)) {
                throw site.malformed("bytearray() argument 'encoding' must be str, not "
                        + PyValues.typeName(args.get(1)));
            }
            if (args.size() == 3 && !(args.get(2) instanceof String)) {
                throw site.malformed("bytearray() argument 'errors' must be str, not "
                        + PyValues.typeName(args.get(2)));
            }
            String errors = args.size() == 3 ? (String) args.get(2) : "strict";
            return PY.wrapBytes(PyCodecs.encode(text, encoding, errors, site), true);
        }
        if (args.size() > 1) {
            throw site.malformed(args.get(1) instanceof String && args.size() == 2 ? "encoding without a string argument"
                    : "errors without a string argument");
        }
        return switch (source) {
            case Long _, Boolean _, BigInteger _ -> zeros(source, site);
            case PyBytes b -> PY.wrapBytes(b.toByteArray(), true);
            case Double _, PyComplex _, PyNone _ -> throw site.malformed("cannot convert '"
                    + PyValues.typeName(source) + "' object to bytearray");
            default -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                PyIteration.forEach(source, true, "bytearray()", site, item -> out.write(byteValue(item, site)));
                yield PY.wrapBytes(out.toByteArray(), true);
            }
        };
    }

    /** {@code bytearray(n)}: n zero bytes, n bounded by maxStringBytes and charged as a str of n characters. */
    private static PyBytes zeros(Object count, CallSite site) throws CheckpointException {
        long n = switch (count) {
            case Boolean b -> b ? 1 : 0;
            case Long l -> l;
            default -> throw site.malformed("cannot fit 'int' into an index-sized integer");
        };
        if (n < 0) {
            throw site.malformed("negative count");
        }
        if (n > site.limits().maxStringBytes() || n > Integer.MAX_VALUE - 8) {
            throw site.limit("maxStringBytes", site.limits().maxStringBytes(), "bytearray(" + n + ")");
        }
        site.charge(n / 16); // as a str or bytes of n from the file is charged when a call reads it
        return PY.wrapBytes(new byte[(int) n], true);
    }

    /** An item of the iterable given to {@code bytearray()}: an int in {@code range(256)}. */
    private static int byteValue(Object item, CallSite site) throws CheckpointException {
        long v = switch (item) {
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case BigInteger _ -> -1;
            case String _, Double _, PyComplex _, PyNone _, PyBytes _, PyList _, PyTuple _, PyDict _, PySet _,
                    PyGlobal _ -> throw site.malformed("'" + PyValues.typeName(item)
                    + "' object cannot be interpreted as an integer");
            // a one-element integer tensor is an index in Python (its __index__), which weightsonly does not read
            default -> throw site.unsupported("bytearray() of an iterable holding " + PyValues.typeName(item)
                    + ": Python would read the value of a one-element tensor, which weightsonly does not do");
        };
        if (v < 0 || v > 255) {
            throw site.malformed("byte must be in range(0, 256)");
        }
        return (int) v;
    }

    /**
     * {@code complex(real, imag)} as CPython computes it: a str alone is parsed ({@code '1+2j'}); otherwise each
     * argument is a number or a complex, and the result is {@code real + imag * 1j} (so {@code complex(1j, 1j)}
     * is {@code -1+1j}), signed zeros included.
     */
    private static PyComplex complexFrom(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 2) {
            throw site.malformed("complex() takes at most 2 arguments (" + args.size() + " given)");
        }
        if (args.size() == 0) {
            return new PyComplex(0.0, 0.0);
        }
        Object r = args.get(0);
        if (r instanceof String text) {
            if (args.size() == 2) {
                throw site.malformed("complex() can't take second arg if first is a string");
            }
            PyComplex parsed = PyComplexText.parse(text);
            if (parsed == null) {
                throw site.malformed("complex() arg is a malformed string");
            }
            return parsed;
        }
        if (args.size() == 2 && args.get(1) instanceof String) {
            throw site.malformed("complex() second arg can't be a string");
        }
        boolean realIsComplex = r instanceof PyComplex;
        double crReal = realIsComplex ? ((PyComplex) r).real() : real(r, "first argument", site);
        double crImag = realIsComplex ? ((PyComplex) r).imag() : 0.0;
        if (args.size() == 1) {
            return new PyComplex(crReal, crImag);
        }
        Object i = args.get(1);
        double ciReal;
        if (i instanceof PyComplex c) {
            crReal -= c.imag();
            ciReal = c.real();
        } else {
            ciReal = real(i, "second argument", site);
        }
        if (realIsComplex) {
            ciReal += crImag;
        }
        return new PyComplex(crReal, ciReal);
    }

    /** {@code float(value)} for an argument of complex(). */
    private static double real(Object value, String which, CallSite site) throws CheckpointException {
        return switch (value) {
            case Double d -> d;
            case Long l -> l.doubleValue();
            case Boolean b -> b ? 1.0 : 0.0;
            case BigInteger b -> {
                double d = b.doubleValue(); // correctly rounded, as Python's int.__float__
                if (Double.isInfinite(d)) {
                    throw site.malformed("int too large to convert to float");
                }
                yield d;
            }
            case PyNone _, PyBytes _, PyList _, PyTuple _, PyDict _, PySet _, PyGlobal _ -> throw site.malformed(
                    "complex() " + which + " must be a string or a number, not '" + PyValues.typeName(value) + "'");
            // a one-element tensor converts (its __complex__ or __float__), which weightsonly does not read
            default -> throw site.unsupported("complex() of " + PyValues.typeName(value)
                    + ": Python would convert the value of a one-element tensor, which weightsonly does not do; the"
                    + " file is refused rather than read otherwise");
        };
    }

    /** {@code _codecs.encode(obj, encoding='utf-8', errors='strict')}. */
    private static PyBytes encode(PyTuple args, CallSite site) throws CheckpointException {
        // the encoding may be left out: Python encodes as UTF-8 (found by differential fuzzing:
        // loader-core/src/test/resources/difffuzz)
        if (args.size() < 1 || args.size() > 3 || !(args.get(0) instanceof String text)
                || args.size() > 1 && !(args.get(1) instanceof String)
                || args.size() > 2 && !(args.get(2) instanceof String)) {
            throw site.malformed("_codecs.encode expects (str, encoding, errors), got " + describe(args));
        }
        return PY.wrapBytes(PyCodecs.encode(text, args.size() > 1 ? (String) args.get(1) : "utf-8",
                args.size() > 2 ? (String) args.get(2) : "strict", site), false);
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
