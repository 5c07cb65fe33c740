package dev.weightsonly.python;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Set;

/**
 * A hashable Python value as a dict key or set item: equal exactly when Python's {@code ==} says so, hashed
 * with the process's secret ({@link PyHash}). So {@code 1}, {@code 1.0}, {@code True} and
 * {@code complex(1, 0)} are one key, as are {@code 0.0} and {@code -0.0}, {@code 2**64} and
 * {@code 2.0**64}, and tuples and frozensets whose items are; a NaN equals only itself (the same object,
 * as CPython's identity test before {@code ==}); str and bytes never equal each other.
 *
 * <p>{@link #original()} is the value as it was given, which a dict keeps for the first of equal keys.
 *
 * <p>Two keys found equal are linked ({@code same}), so that comparing them again, or comparing values that
 * share them many times (a pickle can nest {@code t = (t0, t0)} sixty deep, and an equal copy built of
 * {@code 1.0} where {@code t0} holds {@code 1}), takes one step: each pair of distinct parts is compared
 * in full once. Links always point from the key with the greater identity hash to the smaller, so that no
 * interleaving of threads can make a cycle.
 */
final class PyKey {

    private enum Form { SCALAR, IDENTITY, TUPLE, FROZENSET }

    private final Object original;
    private final Form form;
    private final long hash;
    // SCALAR: the normalized value (Long, BigInteger, Double, PyComplex, String, PyBytes, PyNone or another
    // object with value equality); IDENTITY: the object; TUPLE: PyKey[]; FROZENSET: Set<PyKey>.
    private final Object norm;
    private volatile PyKey same;

    private PyKey(Object original, Form form, long hash, Object norm) {
        this.original = original;
        this.form = form;
        this.hash = hash;
        this.norm = norm;
    }

    /** The value as given. */
    Object original() {
        return original;
    }

    /** The key of a hashable value ({@link PyValues#isHashable}); the caller has checked it is one. */
    static PyKey of(Object value) {
        return switch (value) {
            case PyTuple t -> t.key();
            case PySet s -> s.key();
            case TupleValue t -> {
                PyKey k = PyHash.tupleOf(t).key();
                yield new PyKey(value, Form.TUPLE, k.hash, k.norm);
            }
            case Boolean b -> integer(value, b ? 1 : 0);
            case Long l -> integer(value, l);
            case BigInteger b -> b.bitLength() < 64 ? integer(value, b.longValue())
                    : new PyKey(value, Form.SCALAR, PyHash.ofBigInteger(b), b);
            case Double d -> real(value, d);
            case PyComplex c -> c.imag() == 0 ? real(value, c.real())
                    : Double.isNaN(c.real()) || Double.isNaN(c.imag()) ? identity(value)
                    : scalar(value, PyHash.COMPLEX, new PyComplex(c.real() == 0 ? 0.0 : c.real(), c.imag()));
            case String s -> new PyKey(value, Form.SCALAR, PyHash.ofString(s), s);
            case PyBytes b -> new PyKey(value, Form.SCALAR, PyHash.ofBytes(b), b);
            case PyNone n -> new PyKey(value, Form.SCALAR, PyHash.of(PyHash.NONE, 0), n);
            // tensors, storages, dtypes, allowed objects: identity or a fixed set of values
            default -> new PyKey(value, Form.SCALAR, PyHash.of(PyHash.OTHER, value.hashCode()), value);
        };
    }

    private static PyKey integer(Object original, long v) {
        // An int key keeps its own Long as the normalized value rather than a second box of it (a dict keyed by
        // parameter index, as an optimizer state is, holds one per parameter).
        return new PyKey(original, Form.SCALAR, PyHash.of(PyHash.INT, v), original instanceof Long l ? l : v);
    }

    private static PyKey identity(Object original) {
        return new PyKey(original, Form.IDENTITY, PyHash.ofIdentity(original), original);
    }

    private static PyKey scalar(Object original, long tag, PyComplex c) {
        return new PyKey(original, Form.SCALAR,
                PyHash.of(tag, Double.doubleToLongBits(c.real()), Double.doubleToLongBits(c.imag())), c);
    }

    /** A float as Python compares it with ints: an integral value is that int. */
    private static PyKey real(Object original, double d) {
        if (Double.isNaN(d)) {
            return identity(original);
        }
        if (d == Math.rint(d) && !Double.isInfinite(d)) {
            if (d >= -0x1p63 && d < 0x1p63) {
                return integer(original, (long) d); // -0.0 too
            }
            BigInteger b = new BigDecimal(d).toBigIntegerExact();
            return new PyKey(original, Form.SCALAR, PyHash.ofBigInteger(b), b);
        }
        return new PyKey(original, Form.SCALAR, PyHash.of(PyHash.FLOAT, Double.doubleToLongBits(d)), d);
    }

    /** The key of a tuple of the given item keys. */
    static PyKey tuple(PyTuple original, PyKey[] items) {
        PyHash h = PyHash.start(PyHash.TUPLE).word(items.length);
        for (PyKey k : items) {
            h.word(k.hash);
        }
        return new PyKey(original, Form.TUPLE, h.finish(), items);
    }

    /** The key of a frozenset of the given (pairwise unequal) item keys. */
    static PyKey frozenset(PySet original, Set<PyKey> items) {
        // Order-independent: a sum and an exclusive or of secret hashes, which a file cannot steer.
        long sum = 0;
        long xor = 0;
        for (PyKey k : items) {
            sum += k.hash;
            xor ^= Long.rotateLeft(k.hash, 23) * 0x9E3779B97F4A7C15L;
        }
        return new PyKey(original, Form.FROZENSET, PyHash.start(PyHash.FROZENSET).word(items.size()).word(sum)
                .word(xor).finish(), items);
    }

    long hash() {
        return hash;
    }

    @Override
    public int hashCode() {
        return PyHash.fold(hash);
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof PyKey other) || other.hash != hash) {
            return false;
        }
        PyKey a = root();
        PyKey b = other.root();
        if (a == b) {
            return true;
        }
        if (a.form != b.form || !a.sameValue(b)) {
            return false;
        }
        link(a, b);
        return true;
    }

    private boolean sameValue(PyKey other) {
        return switch (form) {
            case SCALAR -> norm == other.norm || norm.equals(other.norm);
            case IDENTITY -> norm == other.norm;
            case TUPLE -> {
                PyKey[] a = (PyKey[]) norm;
                PyKey[] b = (PyKey[]) other.norm;
                if (a.length != b.length) {
                    yield false;
                }
                for (int i = 0; i < a.length; i++) {
                    if (!a[i].equals(b[i])) {
                        yield false;
                    }
                }
                yield true;
            }
            case FROZENSET -> {
                @SuppressWarnings("unchecked")
                Set<PyKey> a = (Set<PyKey>) norm;
                @SuppressWarnings("unchecked")
                Set<PyKey> b = (Set<PyKey>) other.norm;
                if (a.size() != b.size()) {
                    yield false;
                }
                for (PyKey k : a) {
                    if (!b.contains(k)) {
                        yield false;
                    }
                }
                yield true;
            }
        };
    }

    private PyKey root() {
        PyKey r = this;
        for (PyKey s = r.same; s != null; s = r.same) {
            r = s;
        }
        if (r != this && same != r) {
            same = r; // still from a greater identity hash to a smaller one
        }
        return r;
    }

    private static void link(PyKey a, PyKey b) {
        int ia = System.identityHashCode(a);
        int ib = System.identityHashCode(b);
        if (ia < ib) {
            b.same = a;
        } else if (ib < ia) {
            a.same = b;
        }
    }
}
