package dev.weightsonly.python;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;

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
     * A short, bounded rendering for messages; never walks containers, so a hostile value cannot make a message
     * huge or slow.
     *
     * @param value a Python value in its Java form, or null
     * @return at most about 80 characters
     */
    public static String shortRepr(Object value) {
        return switch (value) {
            case String s -> s.length() > 60 ? "'" + s.substring(0, 60) + "...'" : "'" + s + "'";
            case PyTuple t -> "tuple of " + t.size();
            // not its toString: that renders the arguments, which can hold objects nested without bound
            case PyObject o -> o.className() + "(...)";
            case null -> "null";
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
