package dev.weightsonly.python;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.RandomAccess;

/**
 * A Python list, read-only once loaded. Equality is identity, not value: a pickle can make a list that
 * contains itself (through the memo), and value equality or hashing would then never end. Compare
 * contents with {@code List.copyOf(list).equals(...)} or element by element.
 */
public final class PyList extends AbstractList<Object> implements RandomAccess, PyLookup<Integer> {

    private final ArrayList<Object> items;

    PyList() {
        items = new ArrayList<>();
    }

    PyList(int capacity) {
        items = new ArrayList<>(capacity);
    }

    void append(Object item) {
        items.add(item);
    }

    void replace(int index, Object item) {
        items.set(index, item);
    }

    @Override
    public Object get(int index) {
        return items.get(index);
    }

    @Override
    public int size() {
        return items.size();
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
        return PyValues.as(items.get(PyValues.pythonIndex(index, items.size(), "list")), type, "item " + index);
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    /** Python's repr of the list, bounded in length and depth ({@code [1, 'two', 3.0]}). */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
