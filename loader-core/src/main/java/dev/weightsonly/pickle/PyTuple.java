package dev.weightsonly.pickle;

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
public final class PyTuple {

    static final PyTuple EMPTY = new PyTuple(new Object[0], 1, true);

    private final Object[] items;
    private final int depth;
    private final boolean hashable;
    // computed once: a pickle can share one tuple many times inside another (t = (t0, t0), ...)
    private int hash;
    private boolean hashIsZero;

    private PyTuple(Object[] items, int depth, boolean hashable) {
        this.items = items;
        this.depth = depth;
        this.hashable = hashable;
    }

    /** A tuple of the given values (copied). */
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
        for (Object item : items) {
            depth = Math.max(depth, nestingDepth(item) + 1);
            if (item instanceof PyTuple t) {
                hashable &= t.hashable;
            } else {
                hashable &= PyValues.isHashable(item);
            }
        }
        return new PyTuple(items, depth, hashable);
    }

    public int size() {
        return items.length;
    }

    public Object get(int index) {
        return items[index];
    }

    /** The items, as an unmodifiable list. */
    public List<Object> items() {
        return Collections.unmodifiableList(Arrays.asList(items));
    }

    /**
     * How many tuples deep this tuple nests (1 for a tuple of scalars). Frozensets count as a level too:
     * hashing and comparing descend through both.
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

    /** Whether Python could hash it: false if it holds a list, dict, set or bytearray at any depth. */
    public boolean isHashable() {
        return hashable;
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof PyTuple t && items.length == t.items.length && hashCode() == t.hashCode()
                && Arrays.equals(items, t.items);
    }

    @Override
    public int hashCode() {
        int h = hash; // racy but safe, as String#hashCode: a non-zero hash is always the right one
        if (h == 0 && !hashIsZero) {
            h = Arrays.hashCode(items);
            if (h == 0) {
                hashIsZero = true;
            } else {
                hash = h;
            }
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < items.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            if (sb.length() > 200) {
                sb.append("...");
                break;
            }
            sb.append(PyValues.shortRepr(items[i]));
        }
        if (items.length == 1) {
            sb.append(',');
        }
        return sb.append(')').toString();
    }
}
