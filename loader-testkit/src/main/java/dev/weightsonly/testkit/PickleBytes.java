package dev.weightsonly.testkit;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Pickle fragments, opcode by opcode, in the encodings the project's adversarial corpus generator
 * (loader-core/src/test/resources/adversarial/gen_corpus.py) uses, so that the kit and the corpus build the same
 * bytes for the same attack. Nothing here is ever unpickled.
 */
final class PickleBytes {

    private PickleBytes() {
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** GLOBAL: {@code c module\n name\n}. */
    static byte[] global(String module, String name) {
        return cat(ascii("c"), module.getBytes(StandardCharsets.UTF_8), ascii("\n"),
                name.getBytes(StandardCharsets.UTF_8), ascii("\n"));
    }

    /** GLOBAL of a dotted name: module is everything before the last dot. */
    static byte[] global(String qualifiedName) {
        int dot = qualifiedName.lastIndexOf('.');
        if (dot <= 0 || dot == qualifiedName.length() - 1) {
            throw new IllegalArgumentException("not a qualified name (module.name): " + qualifiedName);
        }
        return global(qualifiedName.substring(0, dot), qualifiedName.substring(dot + 1));
    }

    /** BINUNICODE. */
    static byte[] str(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        return cat(ascii("X"), le32(utf8.length), utf8);
    }

    /** BININT for 32-bit values, else LONG1 with the fewest two's-complement bytes. */
    static byte[] integer(long value) {
        if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
            return cat(ascii("J"), le32((int) value));
        }
        return integer(BigInteger.valueOf(value));
    }

    /** LONG1 with the fewest two's-complement bytes (values past 64 bits too). */
    static byte[] integer(BigInteger value) {
        byte[] big = value.toByteArray();   // big-endian, minimal
        byte[] little = new byte[big.length];
        for (int i = 0; i < big.length; i++) {
            little[i] = big[big.length - 1 - i];
        }
        return cat(new byte[] {(byte) 0x8a, (byte) little.length}, little);
    }

    static byte[] tuple(byte[]... items) {
        return cat(ascii("("), cat(items), ascii("t"));
    }

    static byte[] call(byte[] callable, byte[]... args) {
        return cat(callable, tuple(args), ascii("R"));
    }

    static byte[] ints(long... values) {
        byte[][] items = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            items[i] = integer(values[i]);
        }
        return tuple(items);
    }

    static byte[] emptyOrderedDict() {
        return call(global("collections", "OrderedDict"));
    }

    /** OrderedDict() filled by SETITEMS, keys and values alternating. */
    static byte[] orderedDict(Object... keysAndValues) {
        ByteArrayOutputStream items = new ByteArrayOutputStream();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            items.writeBytes(str((String) keysAndValues[i]));
            items.writeBytes((byte[]) keysAndValues[i + 1]);
        }
        return cat(emptyOrderedDict(), ascii("("), items.toByteArray(), ascii("u"));
    }

    /** PROTO n, the body, STOP. */
    static byte[] pickle(byte[] body) {
        return cat(new byte[] {(byte) 0x80, 2}, body, ascii("."));
    }

    /** The persistent id of a zip checkpoint's storage: ('storage', torch.&lt;Type&gt;, key, location, numel). */
    static byte[] storage(String storageType, String key, long numel) {
        return cat(tuple(str("storage"), global("torch", storageType), str(key), str("cpu"), integer(numel)),
                ascii("Q"));
    }

    /** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
    static byte[] tensor(byte[] storage, long offset, long[] size, long[] stride) {
        return call(global("torch._utils", "_rebuild_tensor_v2"), storage, integer(offset), ints(size), ints(stride),
                new byte[] {(byte) 0x89}, emptyOrderedDict());
    }

    static byte[] le32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    static byte[] le64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    static byte[] floats(float... values) {
        ByteBuffer out = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            out.putFloat(v);
        }
        return out.array();
    }
}
