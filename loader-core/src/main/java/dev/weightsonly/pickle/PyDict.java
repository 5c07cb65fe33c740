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
