package dev.weightsonly.pickle;

import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * A Python {@code set} or {@code frozenset}, read-only once loaded, in the order the pickle gave its items.
 * Equality is identity for sets (mutable in Python) and value equality for frozensets (hashable in Python).
 */
public final class PySet extends AbstractSet<Object> {

    private final LinkedHashSet<Object> items = new LinkedHashSet<>();
    private boolean frozen;

    PySet(boolean frozen) {
        this.frozen = frozen;
    }

    void addItem(Object item) {
        items.add(item);
    }

    void replaceAll(java.util.List<Object> newItems) {
        items.clear();
        items.addAll(newItems);
    }

    void freeze() {
        frozen = true;
    }

    /** True for a {@code frozenset}. */
    public boolean isFrozen() {
        return frozen;
    }

    @Override
    public Iterator<Object> iterator() {
        return Collections.unmodifiableSet(items).iterator();
    }

    @Override
    public int size() {
        return items.size();
    }

    @Override
    public boolean contains(Object o) {
        return items.contains(o);
    }

    @Override
    public boolean equals(Object o) {
        if (!frozen) {
            return this == o;
        }
        return o instanceof PySet s && s.frozen && items.equals(s.items);
    }

    @Override
    public int hashCode() {
        return frozen ? items.hashCode() : System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "{" + (frozen ? "frozenset" : "set") + " of " + items.size() + "}";
    }
}
