package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorViewValidationTest {
    private static Storage bytes(int n) {
        return Storage.of(MemorySegment.ofArray(new byte[n]), "0", "cpu");
    }

    private static String refused(Executable creation) {
        return assertThrows(InvalidViewException.class, creation).getMessage();
    }

    @Test
    void isAnIllegalArgumentException() {
        assertTrue(IllegalArgumentException.class.isAssignableFrom(InvalidViewException.class));
    }

    @Test
    void refusesRankMismatch() {
        String message = refused(() -> Tensor.of(bytes(64), DType.FLOAT32, 0, new long[] {2, 2}, new long[] {2}));
        assertEquals("shape [2, 2] has 2 dimensions but strides [2] has 1", message);
    }

    @Test
    void refusesNegativeSizeStrideAndOffset() {
        assertEquals("size -1 of dimension 1 in shape [2, -1] is negative",
                refused(() -> Tensor.of(bytes(64), DType.FLOAT32, 0, new long[] {2, -1}, new long[] {1, 1})));
        assertEquals("size -3 of dimension 0 in shape [-3] is negative",
                refused(() -> Tensor.contiguousView(bytes(64), DType.FLOAT32, 0, -3)));
        assertEquals("stride -1 of dimension 0 in strides [-1] is negative; torch has no negative strides",
                refused(() -> Tensor.of(bytes(64), DType.FLOAT32, 3, new long[] {2}, new long[] {-1})));
        assertEquals("storage offset -1 is negative",
                refused(() -> Tensor.of(bytes(64), DType.FLOAT32, -1, new long[] {0}, new long[] {1})));
    }

    @Test
    void refusesOverflowingProducts() {
        long big = 1L << 62;
        String numel = refused(() -> Tensor.of(bytes(64), DType.FLOAT32, 0, new long[] {big, 4}, new long[] {0, 0}));
        assertTrue(numel.contains("shape [4611686018427387904, 4] of float32"), numel);
        // 2^61 float32 elements are 2^63 bytes: the count fits a long, the byte size does not.
        String bytes = refused(() -> Tensor.of(bytes(64), DType.FLOAT32, 0, new long[] {1L << 61}, new long[] {0}));
        assertTrue(bytes.contains("more than 9223372036854775807 bytes"), bytes);
        String extent = refused(() -> Tensor.of(bytes(64), DType.INT8, 0, new long[] {3}, new long[] {big}));
        assertTrue(extent.contains("reaches beyond 9223372036854775807 bytes"), extent);
        String lastByte = refused(() -> Tensor.of(bytes(64), DType.INT64, Long.MAX_VALUE / 8, new long[] {}, new long[] {}));
        assertTrue(lastByte.contains("reaches beyond"), lastByte);
        String strides = refused(() -> Tensor.contiguousView(bytes(64), DType.INT8, 0, 0, big, 4));
        assertEquals("shape [0, 4611686018427387904, 4] is too large for row-major strides", strides);
    }

    @Test
    void refusesOneElementPastTheEnd() {
        Storage six = Storage.of(MemorySegment.ofArray(new byte[24]), "0", "cpu");
        Tensor fits = Tensor.contiguousView(six, DType.FLOAT32, 0, 2, 3);
        assertEquals(6, fits.numel());
        Tensor fitsTail = Tensor.of(six, DType.FLOAT32, 5, new long[] {1}, new long[] {1});
        assertEquals(5, fitsTail.storageOffset());
        assertEquals("view (shape [2, 3], strides [3, 1]) needs 6 elements of float32 (24 bytes) from offset 1,"
                        + " 28 bytes in all, but storage '0' holds 24 bytes",
                refused(() -> Tensor.contiguousView(six, DType.FLOAT32, 1, 2, 3)));
        refused(() -> Tensor.of(six, DType.FLOAT32, 0, new long[] {2, 3}, new long[] {4, 1}));
        refused(() -> Tensor.of(six, DType.FLOAT32, 0, new long[] {4}, new long[] {2}));
        refused(() -> Tensor.of(six, DType.FLOAT64, 0, new long[] {4}, new long[] {1}));
        // A storage whose size is not a multiple of the element size: the partial element is unusable.
        Storage ragged = Storage.of(MemorySegment.ofArray(new byte[7]), "r", "cpu");
        Tensor.contiguousView(ragged, DType.FLOAT32, 0, 1);
        refused(() -> Tensor.contiguousView(ragged, DType.FLOAT32, 0, 2));
    }

    @Test
    void strideZeroOverOneElementIsLegal() {
        Storage one = TensorTest.floats(2.5f);
        Tensor expanded = Tensor.of(one, DType.FLOAT32, 0, new long[] {1000, 1000}, new long[] {0, 0});
        assertEquals(1_000_000, expanded.numel());
        assertFalse(expanded.isContiguous());
        assertEquals(2.5, expanded.getDouble(999, 999));
        Tensor materialised = expanded.contiguous();
        assertTrue(materialised.isContiguous());
        assertEquals(4_000_000, materialised.storage().byteSize());
        float[] values = materialised.toFloatArray();
        for (float v : values) {
            assertEquals(2.5f, v);
        }
    }

    @Test
    void emptyTensorNeedsNoCapacityWhateverItsOffset() {
        Tensor empty = Tensor.of(bytes(0), DType.FLOAT64, Long.MAX_VALUE, new long[] {0, 7}, new long[] {1L << 60, 1});
        assertEquals(0, empty.numel());
        assertEquals(0, empty.byteSize());
        assertTrue(empty.isContiguous());
        assertEquals(0, empty.contiguousBytes().byteSize());
        assertArrayEquals(new double[0], empty.toDoubleArray());
        assertArrayEquals(new byte[0], empty.toByteArray());
        assertTrue(empty.contiguous() == empty);
        // Zero in any dimension empties the tensor, even when the other sizes multiply past Long.MAX_VALUE.
        Tensor hugeButEmpty = Tensor.of(bytes(0), DType.INT8, 0, new long[] {1L << 62, 8, 0}, new long[] {1, 1, 1});
        assertEquals(0, hugeButEmpty.numel());
    }

    @Test
    void zeroDimTensorNeedsOneElement() {
        assertEquals("view (shape [], strides []) needs 1 element of float32 (4 bytes) from offset 0,"
                        + " 4 bytes in all, but storage '0' holds 0 bytes",
                refused(() -> Tensor.contiguousView(bytes(0), DType.FLOAT32, 0)));
        refused(() -> Tensor.contiguousView(bytes(4), DType.FLOAT32, 1));
        Tensor scalar = Tensor.contiguousView(TensorTest.floats(1f, 7f), DType.FLOAT32, 1);
        assertEquals(0, scalar.dim());
        assertEquals(1, scalar.numel());
        assertEquals(7.0, scalar.getDouble());
        assertArrayEquals(new float[] {7f}, scalar.toFloatArray());
    }

    /** Limits are computed in long: offsets and sizes beyond 2^31 elements are reported exactly. */
    @Test
    void arithmeticIsLongBeyondTwoGigabytes() {
        long beyond = (1L << 31) + 5;
        String message = refused(() -> Tensor.of(bytes(16), DType.UINT8, beyond, new long[] {2}, new long[] {1}));
        assertTrue(message.contains("from offset 2147483653, 2147483655 bytes in all, but storage '0' holds 16 bytes"),
                message);
        String strided = refused(() -> Tensor.of(bytes(16), DType.FLOAT32, 0, new long[] {3}, new long[] {1L << 40}));
        assertTrue(strided.contains("needs 2199023255553 elements of float32 (8796093022212 bytes)"), strided);

        Tensor expanded = Tensor.of(TensorTest.floats(3f), DType.FLOAT32, 0, new long[] {beyond}, new long[] {0});
        assertEquals(beyond, expanded.numel());
        assertEquals(4 * beyond, expanded.byteSize());
        assertEquals(3f, expanded.getFloat(beyond - 1));
        assertThrows(IllegalStateException.class, expanded::toFloatArray);
        assertThrows(IllegalStateException.class, expanded::toByteArray);
    }

    @Test
    void copiesItsArrays() {
        long[] shape = {2, 3};
        long[] strides = {3, 1};
        Tensor t = Tensor.of(bytes(24), DType.FLOAT32, 0, shape, strides);
        shape[0] = 100;
        strides[0] = 0;
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertArrayEquals(new long[] {3, 1}, t.strides());
        t.shape()[1] = 9;
        t.strides()[1] = 9;
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertArrayEquals(new long[] {3, 1}, t.strides());
    }
}
