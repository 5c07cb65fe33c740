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
 * can make building a dict slower than chance would; short str keys, which only equal strs, use Java's String
 * hash and equality instead (cheaper), and keys that collide on it are kept in a tree, so that building a dict
 * stays near-linear for them too. Equality is identity, for the reason given on {@link PyList}.
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

    private static final Map<Object, Object> EMPTY = Map.of();

    private final Kind kind;
    // A str key of fewer than SHORT_STR chars is held as itself, any other key as its PyKey (whose original() is
    // the key as first given). A str equals only a str in Python, equal strs have one length, and a String never
    // equals a PyKey, so the two forms never meet as one key; and the common case (state dicts, optimizer states)
    // makes no PyKey and computes no SipHash: String's own hash and equality are Python's for str. That hash is
    // public, so a file can make many str keys collide; HashMap then keeps the colliding String keys of a bin in a
    // tree ordered by compareTo (String is Comparable), so building a dict stays O(n log n) however the keys were
    // chosen, each comparison bounded by SHORT_STR chars. Longer strs keep PyKey, which compares two equal
    // distinct strs once (a pickle can set one long str again and again as a key). Other keys keep PyKey's
    // secret hash.
    // Empty until the first item: torch writes an empty OrderedDict (backward hooks) for every tensor.
    private Map<Object, Object> entries = EMPTY;
    private LinkedHashMap<String, Object> attributes;

    PyDict(Kind kind) {
        this.kind = kind;
    }

    private static final int SHORT_STR = 256;

    /** How a key is held in {@link #entries}: a short str as itself, anything else as its {@link PyKey}. */
    private static Object held(Object key) {
        return key instanceof String s && s.length() < SHORT_STR ? key : PyKey.of(key);
    }

    /** The key as given, from how it is held. */
    private static Object original(Object held) {
        return held instanceof PyKey k ? k.original() : held;
    }

    /** {@code d[key] = value}; the key is hashable ({@link PyValues#isHashable}). */
    void putItem(Object key, Object value) {
        if (entries == EMPTY) {
            entries = new LinkedHashMap<>();
        }
        entries.put(held(key), value); // an equal key already there stays, with the new value
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
            if (!entries.entries.isEmpty()) {
                dict.entries = new LinkedHashMap<>(entries.entries);
            }
            return dict;
        }
    }

    /** Replaces every entry, keeping the order (used when keys themselves are replaced). */
    void replaceAll(java.util.List<Object[]> pairs) {
        if (sameKeys(pairs)) {
            // only values changed: keep the keys already made (hashing them again could be the work of a load)
            int i = 0;
            for (Map.Entry<Object, Object> e : entries.entrySet()) {
                e.setValue(pairs.get(i++)[1]);
            }
            return;
        }
        entries = EMPTY;
        for (Object[] pair : pairs) {
            putItem(pair[0], pair[1]);
        }
    }

    private boolean sameKeys(java.util.List<Object[]> pairs) {
        if (pairs.size() != entries.size()) {
            return false;
        }
        int i = 0;
        for (Object k : entries.keySet()) {
            if (original(k) != pairs.get(i++)[0]) {
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
        return key != null && PyValues.isHashable(key) ? entries.get(held(key)) : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return key != null && PyValues.isHashable(key) && entries.containsKey(held(key));
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
                Iterator<Entry<Object, Object>> it = entries.entrySet().iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<Object, Object> next() {
                        Entry<Object, Object> e = it.next();
                        return new AbstractMap.SimpleImmutableEntry<>(original(e.getKey()), e.getValue());
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
