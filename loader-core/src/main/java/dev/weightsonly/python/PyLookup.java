package dev.weightsonly.python;

import dev.weightsonly.tensors.Tensor;

/**
 * Typed reads of what a Python value holds, without casts: by key in a {@link PyDict}, by index in a
 * {@link PyList} or {@link PyTuple}, by field name in a {@link PyObject}: given a training checkpoint's
 * {@code optimizer} dict, its learning rate is {@code optimizer.getList("param_groups").getDict(0).getDouble("lr")}
 * ({@code Checkpoint.get("optimizer.param_groups.0.lr", Double.class)} reads it by path from the root).
 *
 * <p>Each read checks what is there and says what it found when it is not what was asked: a missing key or
 * field is a {@link java.util.NoSuchElementException} naming it and listing what there is, an index out of
 * range an {@link IndexOutOfBoundsException}, a value of another type a {@link ClassCastException} naming the
 * key and the value's Python type ({@code key 'epoch' is 'ten' (str), not int (Long)}). Python's {@code None}
 * is {@link PyNone#NONE}, never null, so it is a value of another type for every getter but
 * {@code get(key, PyNone.class)}. The conversions are those of {@link PyValues#as}: a Python int is read as a
 * float where one is asked for, as Python reads {@code 1} as {@code 1.0}.
 *
 * @param <K> what a value is found by: a dict key ({@link Object}: a {@link String}, a {@link Long} or an
 *     {@link Integer}, which finds the equal Python int, ...), a list or tuple index ({@link Integer}, negative
 *     counting from the end as in Python), or a field name ({@link String})
 */
public sealed interface PyLookup<K> permits PyDict, PyList, PyTuple, PyObject {

    /**
     * The value at {@code key} as {@code type}: the value itself when it is one (any value for
     * {@code Object.class}), else converted as {@link PyValues#as} converts. A primitive type reads as its wrapper
     * ({@code long.class} as {@link Long}).
     *
     * @param <T> the type asked for
     * @param key the dict key, list or tuple index, or field name
     * @param type what the value must be
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a {@code type} and does not convert to one
     */
    <T> T get(K key, Class<T> type);

    /**
     * The Python int at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not an int, or an int beyond 64 bits
     */
    default long getLong(K key) {
        return get(key, Long.class);
    }

    /**
     * The Python int at {@code key}, which must fit an {@code int}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not an int, or does not fit an {@code int}
     */
    default int getInt(K key) {
        return get(key, Integer.class);
    }

    /**
     * The Python float at {@code key}, or a Python int there converted to the nearest double.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is neither a float nor an int (or an int too large for a double)
     */
    default double getDouble(K key) {
        return get(key, Double.class);
    }

    /**
     * The Python bool at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a bool
     */
    default boolean getBoolean(K key) {
        return get(key, Boolean.class);
    }

    /**
     * The Python str at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a str
     */
    default String getString(K key) {
        return get(key, String.class);
    }

    /**
     * The dict (or OrderedDict, or Counter) at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a dict
     */
    default PyDict getDict(K key) {
        return get(key, PyDict.class);
    }

    /**
     * The list at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a list
     */
    default PyList getList(K key) {
        return get(key, PyList.class);
    }

    /**
     * The tuple at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a tuple
     */
    default PyTuple getTuple(K key) {
        return get(key, PyTuple.class);
    }

    /**
     * The tensor (or Parameter) at {@code key}.
     *
     * @param key the dict key, list or tuple index, or field name
     * @return the value
     * @throws java.util.NoSuchElementException if there is no such key or field
     * @throws IndexOutOfBoundsException if there is no such index
     * @throws ClassCastException if the value is not a dense tensor
     */
    default Tensor getTensor(K key) {
        return get(key, Tensor.class);
    }
}
