package dev.weightsonly.python;

import java.util.Arrays;
import java.util.HexFormat;

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

    public static PyBytes of(byte[] data) {
        return new PyBytes(data.clone(), false);
    }

    public int length() {
        return data.length;
    }

    public byte[] toByteArray() {
        return data.clone();
    }

    /** True for a Python {@code bytearray}, false for {@code bytes}. */
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

    @Override
    public String toString() {
        String hex = HexFormat.of().formatHex(data, 0, Math.min(data.length, 32));
        return (byteArray ? "bytearray" : "bytes") + "[" + data.length + "]" + hex + (data.length > 32 ? "..." : "");
    }
}
