package dev.weightsonly.python;

import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code set} or {@code frozenset}, read-only once loaded, in the order the pickle gave its items.
 * Items are distinct by Python's key equality ({@link PyKey}): adding {@code 1.0} or {@code True} to a set
 * holding {@code 1} keeps {@code 1}, as Python does. Equality is identity for sets (mutable in Python) and
 * value equality for frozensets (hashable in Python): the same items, each by Java equality (so
 * {@code frozenset({1})} and {@code frozenset({True})} differ here, though Python makes them one dict key,
 * which {@link PyDict} and {@link PySet} do too).
 */
public final class PySet extends AbstractSet<Object> {

    // key -> the first item with that key
    private final LinkedHashMap<PyKey, Object> items = new LinkedHashMap<>();
    private boolean frozen;
    // Of a frozenset: how deep tuples and frozensets nest in it (as PyTuple#depth), its hash and its key once
    // computed. They keep hashing and comparing bounded: a pickle can share one frozenset many times.
    private int depth = 1;
    private volatile long hash; // 0 until computed
    private PyKey key;

    PySet(boolean frozen) {
        this.frozen = frozen;
    }

    void addItem(Object item) {
        items.putIfAbsent(PyKey.of(item), item);
    }

    void replaceAll(java.util.List<Object> newItems) {
        if (sameItems(newItems)) {
            return; // nothing was replaced: keep the keys already made
        }
        items.clear();
        for (Object item : newItems) {
            addItem(item);
        }
        hash = 0;
        key = null;
        if (frozen) {
            freeze();
        }
    }

    private boolean sameItems(java.util.List<Object> newItems) {
        if (newItems.size() != items.size()) {
            return false;
        }
        int i = 0;
        for (Object item : items.values()) {
            if (item != newItems.get(i++)) {
                return false;
            }
        }
        return true;
    }

    void freeze() {
        frozen = true;
        int d = 1;
        for (Object item : items.values()) {
            d = Math.max(d, PyTuple.nestingDepth(item) + 1);
        }
        depth = d;
    }

    /** How many tuples and frozensets deep a frozenset nests (1 if it holds neither); 1 for a set. */
    int depth() {
        return depth;
    }

    /**
     * Which Python type the value was; only a {@code frozenset} can be a dict key or a set item.
     *
     * @return true for a {@code frozenset}, false for a {@code set}
     */
    public boolean isFrozen() {
        return frozen;
    }

    /** Python's key of this frozenset (computed once). */
    PyKey key() {
        PyKey k = key;
        if (k == null) {
            k = PyKey.frozenset(this, items.keySet());
            key = k;
        }
        return k;
    }

    @Override
    public Iterator<Object> iterator() {
        return Collections.unmodifiableCollection(items.values()).iterator();
    }

    @Override
    public int size() {
        return items.size();
    }

    /** Whether Python's {@code o in s} is true (for example {@code 1.0 in {1}}); false for an unhashable value. */
    @Override
    public boolean contains(Object o) {
        return o != null && PyValues.isHashable(o) && items.containsKey(PyKey.of(o));
    }

    @Override
    public boolean equals(Object o) {
        if (!frozen) {
            return this == o;
        }
        if (o == this) {
            return true;
        }
        if (!(o instanceof PySet s) || !s.frozen || s.size() != size() || s.exactHash() != exactHash()) {
            return false;
        }
        for (Map.Entry<PyKey, Object> e : items.entrySet()) {
            // the item of s with the same Python key, if any, must be the same value exactly
            Object theirs = s.items.get(e.getKey());
            if (theirs == null || !PyTuple.exactEquals(e.getValue(), theirs)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return frozen ? PyHash.fold(exactHash()) : System.identityHashCode(this);
    }

    /** Order-independent, keyed, consistent with {@link #equals}; of a frozenset only. */
    long exactHash() {
        long h = hash;
        if (h == 0) {
            long sum = 0;
            long xor = 0;
            for (Object item : items.values()) {
                long e = PyTuple.exactHash(item);
                sum += e;
                xor ^= Long.rotateLeft(e, 23) * 0x9E3779B97F4A7C15L;
            }
            h = PyHash.start(PyHash.FROZENSET).word(items.size()).word(sum).word(xor).finish();
            hash = h;
        }
        return h;
    }

    /** Python's repr of the set, bounded in length and depth ({@code {1, 2}}, {@code frozenset({'a'})}). */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
