/**
 * The Java forms of Python values, as a loaded checkpoint hands them to the caller.
 *
 * <p>Python to Java: None {@link PyNone#NONE}, bool {@link java.lang.Boolean}, int
 * {@link java.lang.Long} (or {@link java.math.BigInteger} beyond 64 bits), float {@link java.lang.Double},
 * str {@link java.lang.String}, bytes and bytearray {@link PyBytes}, complex
 * {@link PyComplex}, tuple {@link PyTuple}, list
 * {@link PyList}, dict/OrderedDict/Counter {@link PyDict},
 * set/frozenset {@link PySet}, an explicitly allowed object
 * {@link PyObject}. Containers are read-only once loaded and compare by identity
 * (a pickle can make them contain themselves); tuples, bytes and frozensets compare by value. Dict keys and
 * set items are distinct by Python's equality ({@code 1}, {@code 1.0} and {@code True} are one key) and hashed
 * with a per-process secret, so that no file can forge hash collisions.
 *
 * <p>Dicts, lists, tuples and allowed objects read their contents without casts through {@link PyLookup}'s typed
 * getters ({@code getLong("epoch")}, {@code getDict}, {@code getTensor}, ...), which name the key and the type
 * found when a value is missing or of another type; their {@code toString()} is Python's {@code repr}, bounded in
 * length and depth and safe from containers that hold themselves.
 */
package dev.weightsonly.python;
