package dev.weightsonly.python;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.RandomAccess;

/**
 * A Python list, read-only once loaded. Equality is identity, not value: a pickle can make a list that
 * contains itself (through the memo), and value equality or hashing would then never end. Compare
 * contents with {@code List.copyOf(list).equals(...)} or element by element.
 */
public final class PyList extends AbstractList<Object> implements RandomAccess {

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

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "[list of " + items.size() + "]";
    }
}
