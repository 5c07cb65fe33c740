package dev.weightsonly.tensors;

import static dev.weightsonly.tensors.TensorTest.floats;
import static dev.weightsonly.tensors.TensorTest.longs;
import static dev.weightsonly.tensors.TensorTest.raw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What PyTorch parity (TensorViewsTorch26Test in loader-core, against PyTorch 2.6 itself) does not reach: the
 * flags and quantizers views carry, geometry from a hostile file at the edges of a long, bounded copies, and
 * {@code item()} over the dtypes.
 */
class TensorViewOpsTest {

    private static Tensor grid() {
        return Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3);
    }

    @Test
    void viewsShareTheStorageAndKeepTheFlags() {
        Tensor t = grid().withNeg(true).withRequiresGrad(true);
        Tensor row = t.select(0, -1);
        assertSame(t.storage(), row.storage());
        assertArrayEquals(new float[] {-3, -4, -5}, row.toFloatArray());
        assertTrue(row.isNeg() && row.requiresGrad());
        Tensor cols = t.narrow(-1, 1, 2);
        assertArrayEquals(new long[] {2, 2}, cols.shape());
        assertArrayEquals(new float[] {-1, -2, -4, -5}, cols.toFloatArray());
        Tensor flat = t.reshape(-1);
        assertSame(t.storage(), flat.storage());
        assertTrue(flat.isNeg() && flat.requiresGrad());
        Tensor conj = Tensor.contiguousView(floats(1, 2, 3, 4), DType.COMPLEX64, 0, 2).withConj(true).select(0, 1);
        assertTrue(conj.isConj());
        assertEquals(-4, conj.getImag());
    }

    @Test
    void reshapeCopiesOnlyWhereNoStridesWouldDo() {
        Tensor transposed = Tensor.of(grid().storage(), DType.FLOAT32, 0, new long[] {3, 2}, new long[] {1, 3});
        Tensor flat = transposed.reshape(6);
        assertNotSame(transposed.storage(), flat.storage());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, flat.toFloatArray());
        // splitting a dimension of the transpose needs no copy
        Tensor split = transposed.reshape(3, 2, 1);
        assertSame(transposed.storage(), split.storage());
        assertArrayEquals(new long[] {1, 3, 3}, split.strides());
    }

    @Test
    void aReshapeCopyIsBoundedLikeEveryCopy() {
        // 2^40 elements from 4 bytes: each row repeats one float, and flattening the rows needs them in a row
        Storage tiny = Storage.of(floats(1, 2).bytes(), "tiny", "cpu", 1 << 20);
        Tensor expanded = Tensor.of(tiny, DType.FLOAT32, 0, new long[] {2, 1L << 39}, new long[] {1, 0});
        assertThrows(MaterializationLimitException.class, () -> expanded.reshape(-1));
        // merging only expanded dimensions is a view (stride 0), as in PyTorch
        Tensor allExpanded = Tensor.of(tiny, DType.FLOAT32, 0, new long[] {1L << 20, 1L << 20}, new long[] {0, 0});
        Tensor flat = allExpanded.reshape(-1);
        assertArrayEquals(new long[] {0}, flat.strides());
        assertEquals(1f, flat.getFloat((1L << 40) - 1));
    }

    @Test
    void emptyViewsWithHugeStridesNeverOverflow() {
        // no element is read, so validation accepts any stride; moving the offset must not overflow
        long huge = Long.MAX_VALUE / 2;
        Tensor empty = Tensor.of(floats(1), DType.FLOAT32, 1, new long[] {0, 4}, new long[] {huge, huge});
        Tensor selected = empty.select(1, 3);
        assertArrayEquals(new long[] {0}, selected.shape());
        assertEquals(1, selected.storageOffset());
        assertEquals(1, empty.narrow(1, 4, 0).storageOffset());
        assertEquals(0, empty.reshape(2, 0, 2).numel());
        assertThrows(IllegalArgumentException.class, () -> empty.reshape(-1, 0));
        // sizes whose product overflows are refused, not wrapped into the element count
        Tensor four = Tensor.contiguousView(floats(1, 2, 3, 4), DType.FLOAT32, 0, 4);
        assertThrows(IllegalArgumentException.class, () -> four.reshape(1L << 62, 1L << 62, 4));
        assertEquals(0, four.narrow(0, 0, 0).reshape(1L << 62, 1L << 62, 0).numel());
    }

    @Test
    void perTensorQuantizersGoWithTheView() {
        Tensor q = Tensor.contiguousView(raw(10, 20, 30, 40), DType.QUINT8, 0, 2, 2)
                .withQuantizer(new Quantizer.PerTensorAffine(0.5, 10));
        Tensor row = q.select(0, 1);
        assertEquals(q.quantizer(), row.quantizer());
        assertArrayEquals(new float[] {10f, 15f}, row.dequantize().toFloatArray());
        assertEquals(15.0, q.reshape(4).narrow(0, 3, 1).item());
    }

    @Test
    void perChannelQuantizersNarrowWithTheirAxisAndOtherViewsAreRefused() {
        Tensor scales = Tensor.contiguousView(doubles(1, 2, 4), DType.FLOAT64, 0, 3);
        Tensor zeros = Tensor.contiguousView(longs(0, 1, 2), DType.INT64, 0, 3);
        Tensor q = Tensor.contiguousView(raw(1, 2, 3, 4, 5, 6), DType.QINT8, 0, 2, 3)
                .withQuantizer(new Quantizer.PerChannelAffine(scales, zeros, 1, false));
        float[] all = q.dequantize().toFloatArray(); // (q - zero) * scale per column
        assertArrayEquals(new float[] {1, 2, 4, 4, 8, 16}, all);
        Tensor lastTwo = q.narrow(1, 1, 2);
        assertArrayEquals(new float[] {2, 4, 8, 16}, lastTwo.dequantize().toFloatArray());
        Tensor secondRow = q.narrow(0, 1, 1);
        assertArrayEquals(new float[] {4, 8, 16}, secondRow.dequantize().toFloatArray());
        assertThrows(IllegalStateException.class, () -> q.select(0, 0));
        assertThrows(IllegalStateException.class, () -> q.reshape(3, 2));
        assertSame(q.storage(), q.reshape(2, -1).storage());
        assertEquals(16.0, q.narrow(0, 1, 1).narrow(1, 2, 1).item());
    }

    @Test
    void itemReadsTheOneElementOfAnyRank() {
        assertEquals(4.0, grid().narrow(0, 1, 1).narrow(1, 1, 1).item());
        assertEquals(-1.0, Tensor.contiguousView(raw(0x00, 0xBC), DType.FLOAT16, 0).item());
        Tensor exact = Tensor.contiguousView(longs((1L << 53) + 1), DType.INT64, 0, 1, 1, 1);
        assertEquals((1L << 53) + 1, exact.itemLong());
        assertEquals((double) (1L << 53), exact.item());
        Tensor unsigned = Tensor.contiguousView(longs(-1), DType.UINT64, 0);
        assertEquals(-1L, unsigned.itemLong());
        assertEquals(0x1p64, unsigned.item());
        Tensor flag = Tensor.contiguousView(raw(1), DType.BOOL, 0, 1);
        assertEquals(1.0, flag.item());
        assertEquals(1L, flag.itemLong());
        assertEquals(-7L, Tensor.contiguousView(raw(7), DType.INT8, 0).withNeg(true).itemLong());

        IllegalStateException many = assertThrows(IllegalStateException.class, () -> grid().item());
        assertTrue(many.getMessage().contains("has 6"), many.getMessage());
        assertThrows(IllegalStateException.class, () -> grid().narrow(0, 0, 0).item());
        assertThrows(IllegalStateException.class, () -> grid().select(0, 0).select(0, 0).itemLong());
        assertThrows(IllegalStateException.class,
                () -> Tensor.contiguousView(floats(1, 2), DType.COMPLEX64, 0).item());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(raw(1), DType.QUINT8, 0).item(),
                "a quantized tensor without a quantizer has no real value");
    }

    private static Storage doubles(double... values) {
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToLongBits(values[i]);
        }
        return longs(bits);
    }
}
