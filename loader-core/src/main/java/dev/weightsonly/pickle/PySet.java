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
    // Of a frozenset: how deep tuples and frozensets nest in it (as PyTuple#depth), and its hash once
    // computed. Both keep hashing and comparing bounded: a pickle can share one frozenset many times.
    private int depth = 1;
    private int hash;
    private boolean hashIsZero;

    PySet(boolean frozen) {
        this.frozen = frozen;
    }

    void addItem(Object item) {
        items.add(item);
    }

    void replaceAll(java.util.List<Object> newItems) {
        items.clear();
        items.addAll(newItems);
        hash = 0;
        hashIsZero = false;
        if (frozen) {
            freeze();
        }
    }

    void freeze() {
        frozen = true;
        int d = 1;
        for (Object item : items) {
            d = Math.max(d, PyTuple.nestingDepth(item) + 1);
        }
        depth = d;
    }

    /** How many tuples and frozensets deep a frozenset nests (1 if it holds neither); 1 for a set. */
    int depth() {
        return depth;
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
        return o == this || o instanceof PySet s && s.frozen && hashCode() == s.hashCode() && items.equals(s.items);
    }

    @Override
    public int hashCode() {
        if (!frozen) {
            return System.identityHashCode(this);
        }
        int h = hash; // racy but safe, as String#hashCode: a non-zero hash is always the right one
        if (h == 0 && !hashIsZero) {
            h = frozenHash();
            if (h == 0) {
                hashIsZero = true;
            } else {
                hash = h;
            }
        }
        return h;
    }

    /**
     * CPython's frozenset hash: each item's hash is shuffled before they are combined. A plain sum (as
     * {@link java.util.AbstractSet#hashCode()}) would give {@code frozenset({x})} the hash of {@code x}, so
     * frozensets nested in one another would all collide.
     */
    private int frozenHash() {
        int h = 0;
        for (Object item : items) {
            int e = item.hashCode();
            h ^= ((e ^ 89869747) ^ (e << 16)) * (int) 3644798167L;
        }
        h ^= (items.size() + 1) * 1927868237;
        h ^= (h >>> 11) ^ (h >>> 25);
        return h * 69069 + 907133923;
    }

    @Override
    public String toString() {
        return "{" + (frozen ? "frozenset" : "set") + " of " + items.size() + "}";
    }
}
