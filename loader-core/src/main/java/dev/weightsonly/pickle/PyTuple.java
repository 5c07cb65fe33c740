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
            if (item instanceof PyTuple t) {
                depth = Math.max(depth, t.depth + 1);
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

    /** How many tuples deep this tuple nests (1 for a tuple of scalars). */
    public int depth() {
        return depth;
    }

    /** Whether Python could hash it: false if it holds a list, dict, set or bytearray at any depth. */
    public boolean isHashable() {
        return hashable;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PyTuple t && Arrays.equals(items, t.items);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(items);
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
