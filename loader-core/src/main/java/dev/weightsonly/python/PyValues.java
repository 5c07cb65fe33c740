package dev.weightsonly.python;

import java.math.BigInteger;

/** Facts about the Java forms of Python values, used for checks and messages. */
public final class PyValues {

    private PyValues() {
    }

    /** Whether Python could use the value as a dict key or set item. */
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

    /** The Python type name of a value, as Python error messages print it. */
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

    /** A short, bounded rendering for messages; never walks containers. */
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
     */
    public static Object pythonKey(Object value) {
        return value == null ? null : PyKey.of(value);
    }

    /** A Python int as Java holds it: {@link Long} when it fits, {@link BigInteger} otherwise. */
    public static Object normalizeInt(BigInteger value) {
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }
}
