package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class StorageTest {
    @Test
    void ofWrapsWithoutCopying() {
        byte[] array = {1, 2, 3, 4};
        Storage storage = Storage.of(MemorySegment.ofArray(array), "0", "cuda:0");
        array[2] = 42;
        assertEquals(42, storage.bytes().get(ValueLayout.JAVA_BYTE, 2));
        assertEquals(4, storage.byteSize());
        assertEquals("0", storage.key());
        assertEquals("cuda:0", storage.location());
        assertEquals("Storage['0', cuda:0, 4 bytes]", storage.toString());
    }

    @Test
    void bytesAreReadOnly() {
        Storage storage = Storage.of(MemorySegment.ofArray(new byte[4]), "k", "cpu");
        assertTrue(storage.bytes().isReadOnly());
        assertThrows(IllegalArgumentException.class, () -> storage.bytes().set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
    }

    @Test
    void copyOfCopiesAndOutlivesTheSource() {
        Storage copy;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment source = arena.allocate(5);
            source.copyFrom(MemorySegment.ofArray(new byte[] {9, 8, 7, 6, 5}));
            copy = Storage.copyOf(source, "1", "cpu");
            source.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
        }
        assertArrayEquals(new byte[] {9, 8, 7, 6, 5}, copy.bytes().toArray(ValueLayout.JAVA_BYTE));
        assertFalse(copy.bytes().isNative(), "small copies live on the heap");
    }

    @Test
    void identityIsSharing() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[4]);
        Storage a = Storage.of(bytes, "0", "cpu");
        Storage b = Storage.of(bytes, "0", "cpu");
        assertNotEquals(a, b);
        Tensor x = Tensor.contiguousView(a, DType.FLOAT32, 0);
        Tensor y = Tensor.contiguousView(a, DType.INT32, 0, 1);
        assertTrue(x.storage() == y.storage());
    }

    @Test
    void refusesNulls() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[0]);
        assertThrows(NullPointerException.class, () -> Storage.of(null, "0", "cpu"));
        assertThrows(NullPointerException.class, () -> Storage.of(bytes, null, "cpu"));
        assertThrows(NullPointerException.class, () -> Storage.of(bytes, "0", null));
        assertThrows(NullPointerException.class, () -> Storage.copyOf(bytes, "0", null));
    }

    /** A key is given back exactly as given, whether it is kept as a number (torch's "0", "1", ...) or as text. */
    @Test
    void everyKeyIsGivenBackAsGiven() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[4]);
        for (String key : new String[] {"0", "7", "10", "123456", "2147483647", "2147483648", "9999999999",
                "99999999999", "00", "07", "-1", "+1", "", " 1", "1 ", "1e3", "\u0667", "\uFF11", "k", "data/0"}) {
            Storage storage = Storage.of(bytes, key, "cpu");
            org.junit.jupiter.api.Assertions.assertEquals(key, storage.key(), "key '" + key + "'");
            assertTrue(storage.toString().contains("'" + key + "'"), storage.toString());
            org.junit.jupiter.api.Assertions.assertEquals(key, Storage.slice(storage, 0, 2, key).key());
            org.junit.jupiter.api.Assertions.assertEquals(key, Storage.copyOf(bytes, key, "cpu").key());
        }
    }
}
