package dev.weightsonly.python;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A Python {@code dict}, {@code collections.OrderedDict} or {@code collections.Counter}: an insertion-ordered
 * map, read-only once loaded. Keys are the Java forms of Python values ({@link String}, {@link Long},
 * {@link PyTuple}, ...), distinct by Python's key equality ({@link PyKey}): {@code 1}, {@code 1.0} and
 * {@code True} are one key, as are {@code 0.0} and {@code -0.0}; the first of equal keys stays, in its place,
 * with the last value, as {@code d[k] = v} does. {@link #get} and {@link #containsKey} look keys up the same
 * way ({@code get(1.0)} finds the key {@code 1}). Keys are hashed with a secret ({@link PyHash}), so no file
 * can make building a dict slower than chance would. Equality is identity, for the reason given on
 * {@link PyList}.
 *
 * <p>An OrderedDict can carry attributes set by BUILD; {@code state_dict()} stores its {@code _metadata}
 * (per-module versions) there, and {@link #attributes()} keeps it.
 */
public final class PyDict extends AbstractMap<Object, Object> {

    /** Which Python type this dict was. */
    public enum Kind {
        DICT("dict"),
        ORDERED_DICT("collections.OrderedDict"),
        COUNTER("collections.Counter");

        private final String pythonName;

        Kind(String pythonName) {
            this.pythonName = pythonName;
        }

        public String pythonName() {
            return pythonName;
        }
    }

    private final Kind kind;
    // PyKey#original is the key as first given
    private final LinkedHashMap<PyKey, Object> entries = new LinkedHashMap<>();
    private LinkedHashMap<String, Object> attributes;

    PyDict(Kind kind) {
        this.kind = kind;
    }

    /** {@code d[key] = value}; the key is hashable ({@link PyValues#isHashable}). */
    void putItem(Object key, Object value) {
        entries.put(PyKey.of(key), value); // an equal key already there stays, with the new value
    }

    /**
     * A builder of a dict of the given kind, for code that makes Python values rather than loading them (a
     * safetensors file's tensors, a state dict to save). Dicts stay read-only for their users: the builder is
     * the only way to fill one, and each {@link Builder#build()} returns a new dict that nothing else can change.
     */
    public static Builder builder(Kind kind) {
        return new Builder(java.util.Objects.requireNonNull(kind, "kind"));
    }

    /** Fills a {@link PyDict} in insertion order; see {@link PyDict#builder(Kind)}. */
    public static final class Builder {
        private final Kind kind;
        private final PyDict entries;

        private Builder(Kind kind) {
            this.kind = kind;
            this.entries = new PyDict(kind);
        }

        /**
         * Sets {@code key} to {@code value}, as {@code d[key] = value} does: a new key goes last, an existing
         * key (by Python's equality: {@code 1.0} is the key {@code 1}) keeps its place and takes the new value.
         *
         * @throws IllegalArgumentException if the key is null or could not be a Python dict key (a list,
         *     dict, set or bytearray, at any depth of a tuple)
         * @throws NullPointerException if the value is null (Python's None is {@link PyNone#NONE})
         */
        public Builder put(Object key, Object value) {
            if (key == null || !PyValues.isHashable(key)) {
                throw new IllegalArgumentException("unhashable dict key: " + PyValues.typeName(key));
            }
            entries.putItem(key, java.util.Objects.requireNonNull(value, "value (None is PyNone.NONE)"));
            return this;
        }

        /** A new read-only dict holding the entries put so far. */
        public PyDict build() {
            PyDict dict = new PyDict(kind);
            dict.entries.putAll(entries.entries);
            return dict;
        }
    }

    /** Replaces every entry, keeping the order (used when keys themselves are replaced). */
    void replaceAll(java.util.List<Object[]> pairs) {
        if (sameKeys(pairs)) {
            // only values changed: keep the keys already made (hashing them again could be the work of a load)
            int i = 0;
            for (Map.Entry<PyKey, Object> e : entries.entrySet()) {
                e.setValue(pairs.get(i++)[1]);
            }
            return;
        }
        entries.clear();
        for (Object[] pair : pairs) {
            putItem(pair[0], pair[1]);
        }
    }

    private boolean sameKeys(java.util.List<Object[]> pairs) {
        if (pairs.size() != entries.size()) {
            return false;
        }
        int i = 0;
        for (PyKey k : entries.keySet()) {
            if (k.original() != pairs.get(i++)[0]) {
                return false;
            }
        }
        return true;
    }

    void setAttribute(String name, Object value) {
        if (attributes == null) {
            attributes = new LinkedHashMap<>();
        }
        attributes.put(name, value);
    }

    public Kind kind() {
        return kind;
    }

    /** Attributes set on the object by BUILD (for example {@code _metadata}); empty for most dicts. */
    public Map<String, Object> attributes() {
        return attributes == null ? Map.of() : Collections.unmodifiableMap(attributes);
    }

    @Override
    public Object get(Object key) {
        return key != null && PyValues.isHashable(key) ? entries.get(PyKey.of(key)) : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return key != null && PyValues.isHashable(key) && entries.containsKey(PyKey.of(key));
    }

    @Override
    public int size() {
        return entries.size();
    }

    @Override
    public Set<Entry<Object, Object>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<Object, Object>> iterator() {
                Iterator<Entry<PyKey, Object>> it = entries.entrySet().iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<Object, Object> next() {
                        Entry<PyKey, Object> e = it.next();
                        return new AbstractMap.SimpleImmutableEntry<>(e.getKey().original(), e.getValue());
                    }
                };
            }

            @Override
            public int size() {
                return entries.size();
            }
        };
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
        return "{" + kind.pythonName + " of " + entries.size() + "}";
    }
}
