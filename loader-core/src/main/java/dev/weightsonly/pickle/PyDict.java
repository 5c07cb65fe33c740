package dev.weightsonly.pickle;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A Python {@code dict}, {@code collections.OrderedDict} or {@code collections.Counter}: an insertion-ordered
 * map, read-only once loaded. Keys are the Java forms of Python values ({@link String}, {@link Long},
 * {@link PyTuple}, ...). Equality is identity, for the reason given on {@link PyList}.
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
    private final LinkedHashMap<Object, Object> entries = new LinkedHashMap<>();
    private LinkedHashMap<String, Object> attributes;

    PyDict(Kind kind) {
        this.kind = kind;
    }

    void putItem(Object key, Object value) {
        entries.put(key, value);
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
        private final LinkedHashMap<Object, Object> entries = new LinkedHashMap<>();

        private Builder(Kind kind) {
            this.kind = kind;
        }

        /**
         * Sets {@code key} to {@code value}, as {@code d[key] = value} does: a new key goes last, an existing
         * key keeps its place and takes the new value.
         *
         * @throws IllegalArgumentException if the key is null or could not be a Python dict key (a list,
         *     dict, set or bytearray, at any depth of a tuple)
         * @throws NullPointerException if the value is null (Python's None is {@link PyNone#NONE})
         */
        public Builder put(Object key, Object value) {
            if (key == null || !PyValues.isHashable(key)) {
                throw new IllegalArgumentException("unhashable dict key: " + PyValues.typeName(key));
            }
            entries.put(key, java.util.Objects.requireNonNull(value, "value (None is PyNone.NONE)"));
            return this;
        }

        /** A new read-only dict holding the entries put so far. */
        public PyDict build() {
            PyDict dict = new PyDict(kind);
            dict.entries.putAll(entries);
            return dict;
        }
    }

    /** Replaces every entry, keeping the order (used when keys themselves are replaced). */
    void replaceAll(java.util.List<Object[]> pairs) {
        entries.clear();
        for (Object[] pair : pairs) {
            entries.put(pair[0], pair[1]);
        }
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
        return entries.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return entries.containsKey(key);
    }

    @Override
    public int size() {
        return entries.size();
    }

    @Override
    public Set<Entry<Object, Object>> entrySet() {
        return Collections.unmodifiableMap(entries).entrySet();
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
