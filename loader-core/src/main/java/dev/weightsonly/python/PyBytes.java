package dev.weightsonly.python;

import java.util.Arrays;

/**
 * Python {@code bytes} (immutable) or {@code bytearray} ({@link #isByteArray()}). Holds its own copy;
 * {@link #toByteArray()} returns another.
 */
public final class PyBytes {

    private final byte[] data;
    private final boolean byteArray;

    private PyBytes(byte[] data, boolean byteArray) {
        this.data = data;
        this.byteArray = byteArray;
    }

    /** Takes ownership of {@code data}. */
    static PyBytes wrap(byte[] data, boolean byteArray) {
        return new PyBytes(data, byteArray);
    }

    /**
     * Python {@code bytes} holding a copy of {@code data}, for building values to save.
     *
     * @param data the bytes; copied, so later changes to the array do not matter
     * @return an immutable {@code bytes} value
     */
    public static PyBytes of(byte[] data) {
        return new PyBytes(data.clone(), false);
    }

    /**
     * The number of bytes, Python's {@code len(b)}.
     *
     * @return the length
     */
    public int length() {
        return data.length;
    }

    /**
     * The bytes, as a copy the caller owns.
     *
     * @return a fresh array
     */
    public byte[] toByteArray() {
        return data.clone();
    }

    /**
     * Which Python type the value was; a {@code bytearray} is mutable in Python, so it cannot be a dict key.
     *
     * @return true for a Python {@code bytearray}, false for {@code bytes}
     */
    public boolean isByteArray() {
        return byteArray;
    }

    /** The bytes themselves, not a copy: for hashing, never to be changed. */
    byte[] bytes() {
        return data;
    }

    PyBytes asBytes() {
        return byteArray ? new PyBytes(data, false) : this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PyBytes b && Arrays.equals(data, b.data);
    }

    @Override
    public int hashCode() {
        // keyed: Arrays.hashCode collides on demand, and a file chooses these bytes
        return PyHash.fold(PyHash.ofBytes(this));
    }

    /** Python's repr, bounded in length: {@code b'\x00\xffhi'}, {@code bytearray(b'ab')}. */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
