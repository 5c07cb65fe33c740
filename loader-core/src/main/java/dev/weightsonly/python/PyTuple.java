package dev.weightsonly.python;

import dev.weightsonly.internal.pickle.PythonAccess;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A Python tuple: immutable, with value equality, so that it can be a dict key as in Python. Not a
 * {@link List}, so that a tuple never equals a list (they differ in Python too).
 *
 * <p>Nesting depth is fixed at construction (a tuple can only hold values that already exist), which is
 * what keeps {@link #hashCode()} and {@link #equals(Object)} from recursing without bound.
 */
public final class PyTuple implements PyLookup<Integer> {

    static final PyTuple EMPTY = new PyTuple(new Object[0], 1, true);

    static {
        // hands the machinery its access to the package-private constructors and mutators (PythonInternals)
        PythonAccess.BRIDGE.install(new PythonInternals());
    }

    private final Object[] items;
    private final int depth;
    private final boolean hashable;
    // computed once: a pickle can share one tuple many times inside another (t = (t0, t0), ...). Racy but
    // safe: a value computed twice is the same value, and PyKey's fields are final.
    private volatile long hash; // 0 until computed (a hash of 0 is recomputed, with probability 2^-64)
    private PyKey key;

    private PyTuple(Object[] items, int depth, boolean hashable) {
        this.items = items;
        this.depth = depth;
        this.hashable = hashable;
    }

    /**
     * A tuple of the given values, for building values to save.
     *
     * @param items the items in their Java forms; the array is copied
     * @return the tuple; the shared empty tuple for no items
     */
    public static PyTuple of(Object... items) {
        return from(items.clone());
    }

    /** Takes ownership of {@code items}. */
    static PyTuple from(Object[] items) {
        if (items.length == 0) {
            return EMPTY;
        }
        int depth = 1;
        boolean hashable = true;
        // nestingDepth and PyValues.isHashable in one chain of tests on final classes: every tuple of a load
        // passes here (several per tensor), and most items (ints, strs, storages) fail every test at once
        for (Object item : items) {
            if (item instanceof PyTuple t) {
                depth = Math.max(depth, t.depth + 1);
                hashable &= t.hashable;
            } else if (item instanceof PySet set) {
                if (set.isFrozen()) {
                    depth = Math.max(depth, set.depth() + 1);
                } else {
                    hashable = false;
                }
            } else if (item instanceof PyList || item instanceof PyDict
                    || item instanceof PyBytes b && b.isByteArray()) {
                hashable = false;
            }
        }
        return new PyTuple(items, depth, hashable);
    }

    /**
     * The number of items, Python's {@code len(t)}.
     *
     * @return the length
     */
    public int size() {
        return items.length;
    }

    /**
     * One item, Python's {@code t[index]} without negative indexing.
     *
     * @param index the position, 0-based
     * @return the item in its Java form
     * @throws ArrayIndexOutOfBoundsException if {@code index} is not in {@code 0..size()-1}
     */
    public Object get(int index) {
        return items[index];
    }

    /**
     * The item at {@code index} as {@code type}; see {@link PyLookup}. A negative index counts from the end, as in
     * Python ({@code -1} is the last item).
     *
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the item is not a {@code type} and does not convert to one
     */
    @Override
    public <T> T get(Integer index, Class<T> type) {
        return PyValues.as(items[PyValues.pythonIndex(index, items.length, "tuple")], type, "item " + index);
    }

    /**
     * The items, to iterate or stream them.
     *
     * @return an unmodifiable list view of the items, in order
     */
    public List<Object> items() {
        return Collections.unmodifiableList(Arrays.asList(items));
    }

    /**
     * How many tuples deep this tuple nests (1 for a tuple of scalars). Frozensets count as a level too:
     * hashing and comparing descend through both.
     *
     * @return the nesting depth, at least 1
     */
    public int depth() {
        return depth;
    }

    /** The depth of a tuple or frozenset, 0 for anything else (whose hash and equality do not descend). */
    static int nestingDepth(Object value) {
        return switch (value) {
            case PyTuple t -> t.depth;
            case PySet s when s.isFrozen() -> s.depth();
            case null, default -> 0;
        };
    }

    /**
     * Whether Python could hash the tuple, and so use it as a dict key or set item.
     *
     * @return false if it holds a list, dict, set or bytearray at any depth, true otherwise
     */
    public boolean isHashable() {
        return hashable;
    }

    /**
     * Structural, type-exact equality: the same items by Java equality ({@code (1,)} and {@code (True,)}
     * differ here, though Python makes them one dict key: {@link PyDict} and {@link PySet} apply Python's
     * key equality). A NaN float or complex item equals only itself, as in Python.
     */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof PyTuple t) || items.length != t.items.length || exactHash() != t.exactHash()) {
            return false;
        }
        for (int i = 0; i < items.length; i++) {
            if (!exactEquals(items[i], t.items[i])) {
                return false;
            }
        }
        return true;
    }

    /** A hash under the process's secret ({@link PyHash}): Arrays.hashCode would collide on demand. */
    @Override
    public int hashCode() {
        return PyHash.fold(exactHash());
    }

    long exactHash() {
        long h = hash;
        if (h == 0) {
            PyHash sip = PyHash.start(PyHash.TUPLE).word(items.length);
            for (Object item : items) {
                sip.word(exactHash(item));
            }
            h = sip.finish();
            hash = h;
        }
        return h;
    }

    /** Python's key of this tuple (computed once); only for a hashable tuple. */
    PyKey key() {
        PyKey k = key;
        if (k == null) {
            PyKey[] keys = new PyKey[items.length];
            for (int i = 0; i < items.length; i++) {
                keys[i] = PyKey.of(items[i]);
            }
            k = PyKey.tuple(this, keys);
            key = k;
        }
        return k;
    }

    /** Java equality, except that a NaN (float or complex) equals only itself. */
    static boolean exactEquals(Object a, Object b) {
        return a == b || !carriesNaN(a) && a != null && a.equals(b);
    }

    private static boolean carriesNaN(Object v) {
        return v instanceof Double d && d.isNaN()
                || v instanceof PyComplex c && (Double.isNaN(c.real()) || Double.isNaN(c.imag()));
    }

    /** A keyed hash consistent with {@link #exactEquals}. */
    static long exactHash(Object v) {
        return switch (v) {
            case PyTuple t -> t.exactHash();
            case PySet s when s.isFrozen() -> s.exactHash();
            case String s -> PyHash.ofString(s);
            case PyBytes b -> PyHash.ofBytes(b);
            case BigInteger b -> PyHash.ofBigInteger(b);
            case Long l -> PyHash.of(PyHash.INT, l);
            case Boolean b -> PyHash.of(PyHash.BOOL, b ? 1 : 0);
            case Double d when d.isNaN() -> PyHash.ofIdentity(d);
            case Double d -> PyHash.of(PyHash.FLOAT, Double.doubleToLongBits(d));
            case PyComplex c when carriesNaN(c) -> PyHash.ofIdentity(c);
            case PyComplex c -> PyHash.of(PyHash.COMPLEX, Double.doubleToLongBits(c.real()),
                    Double.doubleToLongBits(c.imag()));
            case TupleValue t -> PyHash.of(PyHash.SIZE, PyHash.tupleOf(t).exactHash());
            case PyNone n -> PyHash.of(PyHash.NONE, 0);
            case null -> 0;
            default -> PyHash.of(PyHash.OTHER, v.hashCode());
        };
    }

    /** Python's repr of the tuple, bounded in length and depth ({@code (0.9, 0.999)}). */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
