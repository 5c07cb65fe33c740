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
public final class PyDict extends AbstractMap<Object, Object> implements PyLookup<Object> {

    /** Which Python type this dict was. */
    public enum Kind {
        /** A plain {@code dict}. */
        DICT("dict"),
        /** A {@code collections.OrderedDict}, which is what {@code state_dict()} returns. */
        ORDERED_DICT("collections.OrderedDict"),
        /** A {@code collections.Counter}, a dict of counts. */
        COUNTER("collections.Counter");

        private final String pythonName;

        Kind(String pythonName) {
            this.pythonName = pythonName;
        }

        /**
         * The Python type's name, as messages and the canonical dump print it.
         *
         * @return {@code dict}, {@code collections.OrderedDict} or {@code collections.Counter}
         */
        public String pythonName() {
            return pythonName;
        }
    }

    private final Kind kind;
    // PyKey#original is the key as first given. Shared (copy on write) between a dict and the copies that
    // OrderedDict(d) and Counter(d) make of it, until one of them is changed: a pickle of a few bytes can copy one
    // large dict again and again (adversarial C19c), which must cost the count the copies are charged, not the time
    // and memory of real copies.
    // A new dict starts on the one shared empty map and makes its own on its first item: most dicts of a large
    // optimizer checkpoint (its per-parameter states' kwargs, empty param_groups extras) stay empty, and a map
    // each would be allocation the load does not need. The empty map is never written: every write goes
    // through ownEntries().
    //
    // A dict of at most SMALL items keeps them in one array, held keys and values alternating in insertion order,
    // found by comparing keys in turn (as the map's equality would, at most SMALL comparisons: no file can make that
    // slower); a larger one in a LinkedHashMap. Most dicts of a checkpoint are small and live as long as it does
    // (an optimizer state holds {'step', 'exp_avg', 'exp_avg_sq'} per parameter): one array instead of a map, its
    // table and a node per item is four objects fewer for the garbage collector to copy while the load goes on.
    private static final int SMALL = 8;
    private static final Object[] NO_ITEMS = {};
    private Object[] small = NO_ITEMS; // shared (never written) while the dict is empty
    private int count; // items in small
    private LinkedHashMap<Object, Object> entries; // past SMALL items, else null
    // A str key of fewer than SHORT_STR chars is held as itself, any other key as its PyKey (whose original() is
    // the key as first given). A str equals only a str in Python, equal strs have one length, and a String never
    // equals a PyKey, so the two forms never meet as one key; and the common case (state dicts, optimizer states)
    // makes no PyKey and computes no SipHash: String's own hash and equality are Python's for str. That hash is
    // public, so a file can make many str keys collide; HashMap then keeps the colliding String keys of a bin in a
    // tree ordered by compareTo (String is Comparable), so building a dict stays O(n log n) however the keys were
    // chosen, each comparison bounded by SHORT_STR chars. Longer strs keep PyKey, which compares two equal
    // distinct strs once (a pickle can set one long str again and again as a key). Other keys keep PyKey's
    // secret hash.
    private static final int SHORT_STR = 256;

    /** How a key is held in {@link #entries}: a short str as itself, anything else as its {@link PyKey}. */
    private static Object held(Object key) {
        return key instanceof String s && s.length() < SHORT_STR ? key : PyKey.of(key);
    }

    /** The key as given, from how it is held. */
    private static Object original(Object held) {
        return held instanceof PyKey k ? k.original() : held;
    }

    private boolean shared = true; // small or entries is NO_ITEMS or another dict's, until the first write
    // whether every key is a str (kept as keys are put): BUILD checks a state's keys are attribute names in O(1)
    private boolean strKeys = true;
    // attributes set by BUILD (an instance __dict__): str keys only; shared with the state dict it was copied
    // from until either changes, as items are (adversarial C19d: one large state given to many BUILDs)
    private PyDict attributes;

    PyDict(Kind kind) {
        this.kind = kind;
    }

    /**
     * A dict of the given kind with the items of {@code source}, in its order ({@code OrderedDict(d)},
     * {@code Counter(d)} and {@code dict.update} into an empty dict); the attributes of an OrderedDict are not
     * items and are not copied, as in Python.
     */
    static PyDict copyOf(Kind kind, PyDict source) {
        PyDict copy = new PyDict(kind);
        copy.entries = source.entries;
        copy.small = source.small;
        copy.count = source.count;
        copy.strKeys = source.strKeys;
        copy.shared = true;
        source.shared = true;
        return copy;
    }

    private void ownEntries() {
        if (shared) {
            if (entries != null) {
                entries = new LinkedHashMap<>(entries);
            } else {
                small = java.util.Arrays.copyOf(small, Math.max(2 * count, 6)); // room for three items
            }
            shared = false;
        }
    }

    /** Where held key {@code held} is in {@link #small} (the index of the key), or -1. */
    private int smallIndex(Object held) {
        for (int i = 0; i < 2 * count; i += 2) {
            Object k = small[i];
            if (k == held || held.equals(k)) { // the map's test, in its order
                return i;
            }
        }
        return -1;
    }

    /** {@code d[key] = value}; the key is hashable ({@link PyValues#isHashable}). */
    void putItem(Object key, Object value) {
        ownEntries();
        strKeys &= key instanceof String;
        Object held = held(key);
        if (entries != null) {
            entries.put(held, value); // an equal key already there stays, with the new value
            return;
        }
        int at = smallIndex(held);
        if (at >= 0) {
            small[at + 1] = value; // the first key stays, with the new value
        } else if (count < SMALL) {
            if (2 * count == small.length) {
                small = java.util.Arrays.copyOf(small, 2 * SMALL);
            }
            small[2 * count] = held;
            small[2 * count + 1] = value;
            count++;
        } else {
            entries = new LinkedHashMap<>(4 * SMALL);
            for (int i = 0; i < 2 * count; i += 2) {
                entries.put(small[i], small[i + 1]);
            }
            entries.put(held, value);
            small = NO_ITEMS;
            count = 0;
        }
    }

    /** The value held under {@code held}, or null. */
    private Object heldValue(Object held) {
        if (entries != null) {
            return entries.get(held);
        }
        int at = smallIndex(held);
        return at >= 0 ? small[at + 1] : null;
    }

    /** The held keys, in order. */
    private java.util.List<Object> heldKeys() {
        if (entries != null) {
            return new java.util.ArrayList<>(entries.keySet());
        }
        java.util.List<Object> keys = new java.util.ArrayList<>(count);
        for (int i = 0; i < 2 * count; i += 2) {
            keys.add(small[i]);
        }
        return keys;
    }

    /** Whether every key is a str (so that the dict can be an instance's {@code __dict__}). */
    boolean hasOnlyStrKeys() {
        return strKeys;
    }

    /**
     * A builder of a dict of the given kind, for code that makes Python values rather than loading them (a
     * safetensors file's tensors, a state dict to save). Dicts stay read-only for their users: the builder is
     * the only way to fill one, and each {@link Builder#build()} returns a new dict that nothing else can change.
     *
     * @param kind which Python type the dict is
     * @return an empty builder
     * @throws NullPointerException if {@code kind} is null
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
         * An {@link Integer}, {@link Short} or {@link Byte} key is held as the {@link Long} of a Python int.
         *
         * @param key the key, a hashable Python value in its Java form
         * @param value the value; Python's None is {@link PyNone#NONE}
         * @return this builder
         * @throws IllegalArgumentException if the key is null or could not be a Python dict key (a list,
         *     dict, set or bytearray, at any depth of a tuple)
         * @throws NullPointerException if the value is null (Python's None is {@link PyNone#NONE})
         */
        public Builder put(Object key, Object value) {
            Object k = PyValues.asKey(key); // a Java int is a Python int, as get(0) finds it
            if (k == null || !PyValues.isHashable(k)) {
                throw new IllegalArgumentException("unhashable dict key: " + PyValues.typeName(k));
            }
            entries.putItem(k, java.util.Objects.requireNonNull(value, "value (None is PyNone.NONE)"));
            return this;
        }

        /**
         * Builds a dict of the entries put so far; the builder can go on and build others.
         *
         * @return a new read-only dict
         */
        public PyDict build() {
            PyDict dict = copyOf(kind, entries);
            dict.ownEntries(); // a copy of its own: the builder goes on
            return dict;
        }
    }

    /** Replaces every entry, keeping the order (used when keys themselves are replaced). */
    void replaceAll(java.util.List<Object[]> pairs) {
        ownEntries();
        if (sameKeys(pairs)) {
            // only values changed: keep the keys already made (hashing them again could be the work of a load)
            int i = 0;
            if (entries != null) {
                for (Map.Entry<Object, Object> e : entries.entrySet()) {
                    e.setValue(pairs.get(i++)[1]);
                }
            } else {
                for (; i < count; i++) {
                    small[2 * i + 1] = pairs.get(i)[1];
                }
            }
            return;
        }
        entries = null;
        small = NO_ITEMS;
        count = 0;
        shared = true; // NO_ITEMS: the first put makes an array of its own
        strKeys = true;
        for (Object[] pair : pairs) {
            putItem(pair[0], pair[1]);
        }
    }

    private boolean sameKeys(java.util.List<Object[]> pairs) {
        if (pairs.size() != size()) {
            return false;
        }
        int i = 0;
        for (Object k : heldKeys()) {
            if (original(k) != pairs.get(i++)[0]) {
                return false;
            }
        }
        return true;
    }

    void setAttribute(String name, Object value) {
        if (attributes == null) {
            attributes = new PyDict(Kind.DICT);
        }
        attributes.putItem(name, value);
    }

    /** {@code self.__dict__.update(state)} for a state dict whose keys are all str (the caller checked). */
    void updateAttributes(PyDict state) {
        if (attributes == null || attributes.isEmpty()) {
            attributes = copyOf(Kind.DICT, state);
            return;
        }
        for (Map.Entry<Object, Object> e : state.entrySet()) {
            attributes.putItem(e.getKey(), e.getValue());
        }
    }

    /**
     * Which Python type this dict was, so that a writer can save it back as the same type.
     *
     * @return the kind
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Attributes set on the object by BUILD (for example a state dict's {@code _metadata}, the per-module
     * versions {@code load_state_dict} passes to each module).
     *
     * @return an unmodifiable map of attribute names to values; empty for most dicts
     */
    @SuppressWarnings("unchecked") // every attribute name is a str: setAttribute and updateAttributes see to it
    public Map<String, Object> attributes() {
        return attributes == null ? Map.of() : Collections.unmodifiableMap((Map<String, Object>) (Map<?, ?>) attributes);
    }

    /**
     * The value of {@code key}, found as Python finds it ({@code get(1.0)} finds the key {@code 1}; an
     * {@link Integer} finds the equal Python int), or null if there is none (Python's None is
     * {@link PyNone#NONE}). {@link #get(Object, Class)} and the typed getters throw instead.
     *
     * @param key the key
     * @return the value, or null
     */
    @Override
    public Object get(Object key) {
        Object k = PyValues.asKey(key);
        return k != null && PyValues.isHashable(k) ? heldValue(held(k)) : null;
    }

    /**
     * Whether {@code key} is a key, by Python's equality, as {@link #get(Object)} finds it.
     *
     * @param key the key
     * @return whether the dict has it
     */
    @Override
    public boolean containsKey(Object key) {
        Object k = PyValues.asKey(key);
        return k != null && PyValues.isHashable(k)
                && (entries != null ? entries.containsKey(held(k)) : smallIndex(held(k)) >= 0);
    }

    /**
     * The value of {@code key} as {@code type}; see {@link PyLookup}.
     *
     * @throws java.util.NoSuchElementException if there is no such key; the message lists the keys there are
     * @throws ClassCastException if the value is not a {@code type} and does not convert to one
     */
    @Override
    public <T> T get(Object key, Class<T> type) {
        java.util.Objects.requireNonNull(key, "key");
        Object value = get(key);
        if (value == null) {
            java.util.List<String> keys = keySet().stream().limit(12).map(PyValues::shortRepr).toList();
            throw new java.util.NoSuchElementException("no key " + PyValues.shortRepr(key) + " in this "
                    + kind.pythonName() + (keys.isEmpty() ? ", which is empty" : "; its keys: " + String.join(", ", keys)
                    + (size() > keys.size() ? ", ... (" + size() + " in all)" : "")));
        }
        return PyValues.as(value, type, "key " + PyValues.shortRepr(key));
    }

    @Override
    public int size() {
        return entries != null ? entries.size() : count;
    }

    @Override
    public Set<Entry<Object, Object>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<Object, Object>> iterator() {
                if (entries == null) {
                    Object[] items = small;
                    int n = count; // a loaded dict no longer changes; a dict being filled is not iterated
                    return new Iterator<>() {
                        private int i;

                        @Override
                        public boolean hasNext() {
                            return i < n;
                        }

                        @Override
                        public Entry<Object, Object> next() {
                            if (i >= n) {
                                throw new java.util.NoSuchElementException();
                            }
                            Object key = items[2 * i];
                            Object value = items[2 * i + 1];
                            i++;
                            return new AbstractMap.SimpleImmutableEntry<>(original(key), value);
                        }
                    };
                }
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
                return PyDict.this.size();
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

    /** Python's repr of the dict, bounded in length and depth ({@code {'epoch': 10, 'lr': 0.001}}). */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
