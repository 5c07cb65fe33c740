package dev.weightsonly.python;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Map;

/** Facts about the Java forms of Python values, used for checks and messages. */
public final class PyValues {

    private PyValues() {
    }

    /**
     * Whether Python could use the value as a dict key or set item.
     *
     * @param value a Python value in its Java form
     * @return false for a list, dict, set, bytearray or a tuple holding one; true otherwise
     */
    public static boolean isHashable(Object value) {
        // instanceof tests, not a pattern switch: this runs for every item of every tuple a pickle builds, and
        // the switch's type dispatch costs several times more per call in a profile of a 300,000-tensor load.
        if (value instanceof PyTuple t) {
            return t.isHashable();
        }
        if (value instanceof PyList || value instanceof PyDict) {
            return false;
        }
        if (value instanceof PySet s) {
            return s.isFrozen();
        }
        return !(value instanceof PyBytes b) || !b.isByteArray();
    }

    /**
     * The Python type name of a value, as Python error messages print it, so that messages speak of the file's
     * values in Python's terms.
     *
     * @param value a Python value in its Java form, or null
     * @return for example {@code "int"}, {@code "collections.OrderedDict"}, an object's class name; the simple
     *     Java class name for other Java values, {@code "null"} for null
     */
    public static String typeName(Object value) {
        return switch (value) {
            case null -> "null";
            case PyNone n -> "NoneType";
            case Boolean b -> "bool";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Double d -> "float";
            case String s -> "str";
            case PyBytes b -> b.isByteArray() ? "bytearray" : "bytes";
            case PyComplex c -> "complex";
            case PyTuple t -> "tuple";
            case PyList l -> "list";
            case PyDict d -> d.kind().pythonName();
            case PySet s -> s.isFrozen() ? "frozenset" : "set";
            case PyObject o -> o.className();
            case PyGlobal g -> g.qualifiedName();
            default -> value.getClass().getSimpleName();
        };
    }

    /**
     * A short, bounded rendering for messages: a str quoted (its first 60 characters), a tuple or an object by its
     * size or class, scalars as Python prints them ({@code True}, {@code None}, {@code 0.00025}), anything else
     * the first 80 characters of its {@code toString()} (bounded itself for the Python value types).
     *
     * @param value the Java form of a Python value
     * @return the text
     */
    public static String shortRepr(Object value) {
        return switch (value) {
            case String s -> s.length() > 60 ? "'" + s.substring(0, 60) + "...'" : "'" + s + "'";
            case PyTuple t -> "tuple of " + t.size();
            // not its toString: that renders the arguments, which can hold objects nested without bound
            case PyObject o -> o.className() + "(...)";
            case null -> "null";
            case Boolean b -> PyRepr.of(b);
            case Double d -> PyRepr.of(d);
            case PyNone n -> PyRepr.of(n);
            default -> {
                String r = String.valueOf(value);
                yield r.length() > 80 ? r.substring(0, 80) + "..." : r;
            }
        };
    }

    /**
     * An object equal to another's exactly when Python makes the two values one dict key ({@code 1},
     * {@code 1.0} and {@code True}; {@code 0.0} and {@code -0.0}; tuples of such; a NaN only with itself), hashed
     * with the process's secret: for maps that must treat keys as a Python dict does. Null for null.
     *
     * @param value a hashable Python value in its Java form, or null
     * @return the key object, or null for null
     */
    public static Object pythonKey(Object value) {
        return value == null ? null : PyKey.of(value);
    }

    /**
     * A float as Python's {@code repr(float)} writes it: the shortest digits that read back as the same double,
     * positional between 1e-4 and 1e16 ({@code 0.1}, {@code 1000.0}), otherwise scientific with a signed exponent
     * of at least two digits ({@code 1e-05}, {@code 1e+16}, {@code 5e-324}); {@code nan}, {@code inf},
     * {@code -inf}. Not {@link Double#toString}, which writes {@code 1.0E-5}, and {@code 4.9E-324} where the
     * shortest form is {@code 5e-324}.
     *
     * @param v the value
     * @return its Python repr
     */
    public static String floatRepr(double v) {
        if (!Double.isFinite(v)) {
            return Double.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        }
        if (v == 0) {
            return (1 / v < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Math.abs(v));
        return layout(v < 0, shortestDigits(exact, 17, d -> d.doubleValue() == Math.abs(v)));
    }

    /**
     * A float32 in its shortest exact form: the fewest digits that read back as the same float32 (NumPy's digits:
     * {@code 0.1}, not the double's {@code 0.10000000149011612}; {@code 1e-45}, not {@link Float#toString}'s
     * {@code 1.4E-45}), laid out as {@link #floatRepr(double)} lays out a double.
     *
     * @param v the value
     * @return its shortest exact form
     */
    public static String float32Repr(float v) {
        if (!Float.isFinite(v) || v == 0) {
            return floatRepr(v);
        }
        BigDecimal exact = new BigDecimal(Math.abs(v));
        return layout(v < 0, shortestDigits(exact, 9, d -> Float.parseFloat(d.toString()) == Math.abs(v)));
    }

    /** The fewest significant digits of {@code exact}, correctly rounded, that {@code readsBack} accepts. */
    private static BigDecimal shortestDigits(BigDecimal exact, int maxDigits,
            java.util.function.Predicate<BigDecimal> readsBack) {
        for (int n = 1; n < maxDigits; n++) {
            BigDecimal rounded = exact.round(new MathContext(n, RoundingMode.HALF_EVEN));
            if (readsBack.test(rounded)) {
                return rounded.stripTrailingZeros();
            }
        }
        return exact.round(new MathContext(maxDigits, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }

    /** Python's layout of a positive {@code shortest}: positional from 1e-4 to below 1e16, else scientific. */
    private static String layout(boolean negative, BigDecimal shortest) {
        String digits = shortest.unscaledValue().toString();
        int exponent = digits.length() - 1 - shortest.scale(); // value = d.ddd × 10^exponent
        String sign = negative ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = shortest.toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "")
                + Math.abs(exponent);
    }

    /**
     * {@code value} as {@code type}, with the conversions Python makes silently and no others: the value itself
     * when it is a {@code type} (any value for {@code Object.class}); for {@link Double}, a Python int converted
     * to the nearest double, as {@code float(1)}; for {@link Integer}, a Python int that fits an {@code int}. A
     * primitive type reads as its wrapper ({@code long.class} as {@link Long}). Nothing else converts: a bool is
     * not an int here, a str is not a number, and {@link PyNone#NONE} is none of them. The typed getters of
     * {@link PyLookup} and {@code Checkpoint.get} read values through this.
     *
     * @param <T> the type asked for
     * @param value the Java form of a Python value
     * @param type what it must be
     * @param what names the value in the message, for example {@code key 'epoch'}
     * @return the value as {@code type}
     * @throws ClassCastException if it is not one and does not convert; the message names {@code what}, the
     *     value (bounded) and its Python type, for example {@code key 'epoch' is 'ten' (str), not int (Long)}
     */
    @SuppressWarnings("unchecked") // T is type's class, or its wrapper for a primitive type (long.class is Class<Long>)
    public static <T> T as(Object value, Class<T> type, String what) {
        Class<?> boxed = type.isPrimitive() ? wrapper(type) : type;
        if (boxed.isInstance(value)) {
            return (T) value;
        }
        if (boxed == Double.class) {
            if (value instanceof Long l) {
                return (T) Double.valueOf(l);
            }
            if (value instanceof BigInteger b && Double.isFinite(b.doubleValue())) {
                return (T) Double.valueOf(b.doubleValue());
            }
        }
        if (boxed == Integer.class && value instanceof Long l && l == l.intValue()) {
            return (T) Integer.valueOf(l.intValue());
        }
        if (value instanceof Long || value instanceof BigInteger) {
            String java = boxed == Integer.class ? "an int" : boxed == Long.class ? "a long"
                    : boxed == Double.class ? "a double" : null;
            if (java != null) {
                throw new ClassCastException(what + " is the int " + shortRepr(value) + ", too large for " + java);
            }
        }
        throw new ClassCastException(what + " is " + shortRepr(value) + " (" + typeName(value) + "), not "
                + expectedName(boxed));
    }

    /** The wrapper class of a primitive class (void's is Void). */
    private static Class<?> wrapper(Class<?> primitive) {
        return switch (primitive.getName()) {
            case "long" -> Long.class;
            case "int" -> Integer.class;
            case "double" -> Double.class;
            case "boolean" -> Boolean.class;
            case "float" -> Float.class;
            case "short" -> Short.class;
            case "byte" -> Byte.class;
            case "char" -> Character.class;
            default -> Void.class;
        };
    }

    /** The Python names of the types Python values have in Java. */
    private static final Map<Class<?>, String> PYTHON_NAMES = Map.ofEntries(Map.entry(Long.class, "int"),
            Map.entry(Integer.class, "int"), Map.entry(BigInteger.class, "int"), Map.entry(Double.class, "float"),
            Map.entry(Boolean.class, "bool"), Map.entry(String.class, "str"), Map.entry(PyDict.class, "dict"),
            Map.entry(PyList.class, "list"), Map.entry(PyTuple.class, "tuple"), Map.entry(PySet.class, "set"),
            Map.entry(PyBytes.class, "bytes"), Map.entry(PyComplex.class, "complex"), Map.entry(PyNone.class, "None"));

    /** The Python name of what a Java type holds, with the Java name: {@code int (Long)}; else {@code a Tensor}. */
    private static String expectedName(Class<?> type) {
        String python = PYTHON_NAMES.get(type);
        return python == null ? "a " + type.getSimpleName() : python + " (" + type.getSimpleName() + ")";
    }

    /**
     * A key as the dicts hold it: Java's narrower integers ({@link Integer}, {@link Short}, {@link Byte}) as the
     * {@link Long} of a Python int, so that {@code dict.get(0)} finds the key {@code 0}; any other key as given.
     */
    static Object asKey(Object key) {
        return key instanceof Integer || key instanceof Short || key instanceof Byte ? ((Number) key).longValue() : key;
    }

    /**
     * {@code index} into a sequence of {@code size} items, negative counting from the end as in Python.
     *
     * @throws IndexOutOfBoundsException if it is out of range, with Python's message
     */
    static int pythonIndex(Integer index, int size, String what) {
        int i = java.util.Objects.requireNonNull(index, "index");
        if (i < -size || i >= size) {
            throw new IndexOutOfBoundsException(what + " index " + i + " out of range for a " + what + " of " + size);
        }
        return i < 0 ? i + size : i;
    }

    /**
     * A Python int as Java holds it: {@link Long} when it fits, {@link BigInteger} otherwise, so that equal ints
     * always have the same Java form.
     *
     * @param value the integer
     * @return a {@link Long} or {@link BigInteger} of the same value
     */
    public static Object normalizeInt(BigInteger value) {
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }
}
