/**
 * The restricted pickle machine ({@link dev.weightsonly.pickle.Unpickler}) and the Java forms of Python
 * values. Every opcode of protocols 0 to 5 with a data-only meaning is read; globals, persistent ids and
 * BUILD on foreign objects are decided by an {@link dev.weightsonly.pickle.UnpicklerHost}.
 *
 * <p>Python to Java: None {@link dev.weightsonly.pickle.PyNone#NONE}, bool {@link java.lang.Boolean}, int
 * {@link java.lang.Long} (or {@link java.math.BigInteger} beyond 64 bits), float {@link java.lang.Double},
 * str {@link java.lang.String}, bytes and bytearray {@link dev.weightsonly.pickle.PyBytes}, complex
 * {@link dev.weightsonly.pickle.PyComplex}, tuple {@link dev.weightsonly.pickle.PyTuple}, list
 * {@link dev.weightsonly.pickle.PyList}, dict/OrderedDict/Counter {@link dev.weightsonly.pickle.PyDict},
 * set/frozenset {@link dev.weightsonly.pickle.PySet}, an explicitly allowed object
 * {@link dev.weightsonly.pickle.PyObject}. Containers are read-only once loaded and compare by identity
 * (a pickle can make them contain themselves); tuples, bytes and frozensets compare by value. Dict keys and
 * set items are distinct by Python's equality ({@code 1}, {@code 1.0} and {@code True} are one key) and hashed
 * with a per-process secret, so that no file can forge hash collisions.
 */
package dev.weightsonly.pickle;
