package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorTest {
    static Storage floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putFloat(v);
        }
        return Storage.of(MemorySegment.ofArray(buffer.array()), "0", "cpu");
    }

    static Storage raw(int... bytes) {
        byte[] array = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            array[i] = (byte) bytes[i];
        }
        return Storage.of(MemorySegment.ofArray(array), "r", "cpu");
    }

    static Storage longs(long... values) {
        ByteBuffer buffer = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            buffer.putLong(v);
        }
        return Storage.of(MemorySegment.ofArray(buffer.array()), "l", "cpu");
    }

    @Test
    void accessorsAndToString() {
        Tensor t = Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3);
        assertEquals("Tensor[float32, shape=[2, 3], strides=[3, 1], offset=0, storage='0']", t.toString());
        assertEquals(2, t.dim());
        assertEquals(3, t.size(1));
        assertEquals(3, t.stride(0));
        assertEquals(24, t.byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> t.size(2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.stride(-1));
        assertEquals(5.0, t.getDouble(1, 2));
        assertEquals(3f, t.getFloat(1, 0));
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, t.toFloatArray());
        Tensor flagged = t.withRequiresGrad(true).withNeg(true);
        assertEquals("Tensor[float32, shape=[2, 3], strides=[3, 1], offset=0, storage='0', requires_grad, neg]",
                flagged.toString());
        assertFalse(t.requiresGrad());
        assertTrue(flagged.requiresGrad());
        assertSame(t.storage(), flagged.storage());
    }

    @Test
    void indexChecks() {
        Tensor t = Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3);
        assertEquals("index 3 is out of bounds for dimension 1 with size 3",
                assertThrows(IndexOutOfBoundsException.class, () -> t.getDouble(0, 3)).getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> t.getDouble(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> t.getDouble(0));
        assertThrows(IllegalArgumentException.class, () -> t.getDouble(0, 0, 0));
    }

    @Test
    void identityEquality() {
        Storage s = floats(1, 2);
        Tensor a = Tensor.contiguousView(s, DType.FLOAT32, 0, 2);
        Tensor b = Tensor.contiguousView(s, DType.FLOAT32, 0, 2);
        assertFalse(a.equals(b));
        assertTrue(a.equals(a));
        assertSame(a, a.withConj(false));
        assertSame(a, a.withNeg(false));
        assertSame(a, a.withRequiresGrad(false));
        assertSame(a, a.resolveConjAndNeg());
    }

    @Test
    void packedQuantizedViewsReadTheirValuesAsTorchPacksThem() {
        // quint4x2 as torch 2.6 stores 3x5 values: packed in row-major order from the offset, two a byte, the first
        // in the low nibble (torch pads the storage per row, 9 bytes, but reads the values back to back)
        Storage s = raw(0x21, 0x43, 0x0F, 0x85, 0xA9, 0x32, 0x54, 0x06, 0x00);
        Tensor q = Tensor.contiguousView(s, DType.QUINT4X2, 0, 3, 5);
        assertEquals(15, q.numel());
        assertEquals(8, q.byteSize());
        assertArrayEquals(new long[] {1, 2, 3, 4, 15, 0, 5, 8, 9, 10, 2, 3, 4, 5, 6}, q.toLongArray());
        assertEquals(8, q.getLong(1, 2));
        assertArrayEquals(new byte[] {0x21, 0x43, 0x0F, (byte) 0x85, (byte) 0xA9, 0x32, 0x54, 0x06}, q.toByteArray());
        // the strides are kept, the bytes read are the packed ones: a 3x5 view whose strides reach 15 bytes fits
        assertArrayEquals(new long[] {5, 1}, q.strides());
        // quint2x4: four a byte
        Tensor q2 = Tensor.contiguousView(s, DType.QUINT2X4, 1, 5);
        assertArrayEquals(new long[] {3, 0, 0, 1, 3}, q2.toLongArray());
        assertEquals(2, q2.byteSize());
        // a view needs ceil(numel * bits / 8) bytes from its offset
        assertThrows(InvalidViewException.class, () -> Tensor.contiguousView(s, DType.QUINT4X2, 0, 4, 5));
        assertThrows(InvalidViewException.class, () -> Tensor.contiguousView(s, DType.QUINT4X2, 1, 17));
        assertThrows(InvalidViewException.class, () -> Tensor.of(s, DType.QUINT4X2, 0, new long[] {100},
                new long[] {0}));
        assertEquals(9, Tensor.contiguousView(s, DType.QUINT4X2, 0, 18).byteSize());
        // a transposed view keeps its packed bytes (torch's int_repr) but has no reading of its values, as in torch
        Tensor t = Tensor.of(s, DType.QUINT4X2, 0, new long[] {5, 3}, new long[] {1, 5});
        assertEquals(8, t.toByteArray().length);
        assertThrows(IllegalStateException.class, t::toLongArray);
        assertThrows(IllegalStateException.class, () -> t.getLong(0, 0));
        assertThrows(IllegalStateException.class, t::contiguous);
        assertThrows(IllegalStateException.class, () -> t.withQuantizer(new Quantizer.PerTensorAffine(1, 0))
                .dequantize());
        // dequantize: ((float) q - zero_point) * scale, as torch's sub-byte kernel
        float[] d = q.withQuantizer(new Quantizer.PerTensorAffine(0.5, 2)).dequantize().toFloatArray();
        assertEquals(-0.5f, d[0]);
        assertEquals(6.5f, d[4]);
        assertEquals(-1.0f, d[5]);
        // a zero point outside the codes' type (uint8 for the packed ones) is refused, as torch's kernel refuses it
        assertThrows(IllegalStateException.class, () -> q.withQuantizer(new Quantizer.PerTensorAffine(0.5, 256))
                .dequantize());
    }

    @Test
    void integerReads() {
        Storage s = raw(0x80, 0xFF, 0x7F, 0x01);
        assertArrayEquals(new long[] {-128, -1, 127, 1}, Tensor.contiguousView(s, DType.INT8, 0, 4).toLongArray());
        assertArrayEquals(new long[] {128, 255, 127, 1}, Tensor.contiguousView(s, DType.UINT8, 0, 4).toLongArray());
        assertArrayEquals(new long[] {-128, -1, 127, 1}, Tensor.contiguousView(s, DType.QINT8, 0, 4).toLongArray());
        assertArrayEquals(new long[] {128, 255, 127, 1}, Tensor.contiguousView(s, DType.QUINT8, 0, 4).toLongArray());
        assertArrayEquals(new int[] {0xFF80, 0x017F}, Tensor.contiguousView(s, DType.UINT16, 0, 2).toIntArray());
        assertArrayEquals(new int[] {(short) 0xFF80, 0x017F}, Tensor.contiguousView(s, DType.INT16, 0, 2).toIntArray());
        assertArrayEquals(new int[] {0x017FFF80}, Tensor.contiguousView(s, DType.INT32, 0, 1).toIntArray());
        assertEquals(0x017FFF80L, Tensor.contiguousView(s, DType.UINT32, 0).getLong());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(s, DType.UINT32, 0, 1).toIntArray());
        assertEquals((double) 0x017FFF80, Tensor.contiguousView(s, DType.QINT32, 0).getDouble());
        // Packed quantized dtypes read the code of their value (the low nibble holds the first); the other packed
        // dtypes read their whole storage byte.
        assertEquals(0xF, Tensor.contiguousView(s, DType.QUINT4X2, 1).getLong());
        assertEquals(0x80, Tensor.contiguousView(s, DType.INT4, 0).getLong());
        assertEquals(0xFF, Tensor.contiguousView(s, DType.BITS8, 1).getLong());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(s, DType.QUINT4X2, 1).getDouble());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(s, DType.FLOAT4_E2M1FN_X2, 1).getDouble());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(s, DType.FLOAT32, 0).getLong());
    }

    @Test
    void uint64IsUnsigned() {
        Storage s = longs(-1L, Long.MIN_VALUE, 0x8000_0000_0000_0401L, 5);
        Tensor t = Tensor.contiguousView(s, DType.UINT64, 0, 4);
        assertArrayEquals(new long[] {-1L, Long.MIN_VALUE, 0x8000_0000_0000_0401L, 5}, t.toLongArray());
        assertEquals(0x1p64, t.getDouble(0));
        assertEquals(0x1p63, t.getDouble(1));
        // 2^63 + 1025 lies above the midpoint 2^63 + 1024 between doubles, so it rounds up.
        assertEquals(0x1p63 + 2048, t.getDouble(2));
        assertEquals(0x1p63f, t.getFloat(2));
        assertArrayEquals(new double[] {0x1p64, 0x1p63, 0x1p63 + 2048, 5}, t.toDoubleArray());
        assertEquals(-0x1p63, Tensor.contiguousView(s, DType.INT64, 0, 4).getDouble(1));
        // int64 -> float rounds once from the exact value (2^53 + 1 + 2^29 is above a float midpoint).
        long v = (1L << 53) + (1L << 29) + 1;
        assertEquals((float) v, Tensor.contiguousView(longs(v), DType.INT64, 0).getFloat());
    }

    @Test
    void reducedPrecisionFloats() {
        Storage s = raw(0x00, 0x3C, 0x80, 0x3F, 0x7E, 0x7F);
        assertArrayEquals(new float[] {1f, 1.875f}, Tensor.contiguousView(s, DType.FLOAT16, 0, 2).toFloatArray());
        assertArrayEquals(new float[] {0.0078125f, 1f}, Tensor.contiguousView(s, DType.BFLOAT16, 0, 2).toFloatArray());
        Tensor e4m3 = Tensor.contiguousView(s, DType.FLOAT8_E4M3FN, 0, 6);
        assertEquals(448.0, e4m3.getDouble(4));
        assertTrue(Double.isNaN(e4m3.getDouble(5)));
        assertEquals(1.0, Tensor.contiguousView(s, DType.FLOAT8_E8M0FNU, 5).getDouble());
        assertEquals(-448.0, e4m3.withNeg(true).getDouble(4));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.contiguousView(s, DType.FLOAT8_E8M0FNU, 0).withNeg(true));
    }

    @Test
    void negOfFnuzZeroStaysZeroAndNaNStaysNaN() {
        Storage s = raw(0x00, 0x80, 0x01);
        Tensor t = Tensor.contiguousView(s, DType.FLOAT8_E4M3FNUZ, 0, 3).withNeg(true);
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(t.getFloat(0)));
        assertTrue(Float.isNaN(t.getFloat(1)));
        assertEquals(-0x1p-10f, t.getFloat(2));
        assertArrayEquals(new byte[] {0x00, (byte) 0x80, (byte) 0x81}, t.resolveConjAndNeg().toByteArray());
    }

    @Test
    void negOfIntegersWraps() {
        Storage s = raw(0x80, 0x01, 0x00, 0xFF);
        assertArrayEquals(new long[] {-128, -1, 0, 1},
                Tensor.contiguousView(s, DType.INT8, 0, 4).withNeg(true).toLongArray());
        assertArrayEquals(new long[] {128, 255, 0, 1},
                Tensor.contiguousView(s, DType.UINT8, 0, 4).withNeg(true).toLongArray());
        assertArrayEquals(new float[] {-128, -1, 0, 1},
                Tensor.contiguousView(s, DType.INT8, 0, 4).withNeg(true).toFloatArray());
        assertEquals(Long.MIN_VALUE, Tensor.contiguousView(longs(Long.MIN_VALUE), DType.INT64, 0).withNeg(true).getLong());
        Tensor resolved = Tensor.contiguousView(s, DType.INT16, 0, 2).withNeg(true).resolveConjAndNeg();
        assertFalse(resolved.isNeg());
        assertArrayEquals(new int[] {-0x0180, 0x0100}, resolved.toIntArray());
    }

    @Test
    void flagsAreRefusedWhereTorchHasNoMeaning() {
        Storage s = raw(1, 0, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, DType.FLOAT32, 0).withConj(true));
        assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, DType.BOOL, 0).withNeg(true));
        assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, DType.QINT8, 0).withNeg(true));
        assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, DType.BITS8, 0).withNeg(true));
        assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, DType.UINT4, 0).withNeg(true));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.contiguousView(s, DType.FLOAT4_E2M1FN_X2, 0).withNeg(true));
        assertFalse(Tensor.contiguousView(s, DType.FLOAT32, 0).withConj(false).isConj());
    }

    @Test
    void booleans() {
        Tensor t = Tensor.of(raw(0, 1, 2, 0), DType.BOOL, 0, new long[] {2, 2}, new long[] {1, 2});
        assertTrue(t.getBoolean(1, 0));
        assertFalse(t.getBoolean(0, 0));
        assertArrayEquals(new boolean[] {false, true, true, false}, t.toBooleanArray());
        assertArrayEquals(new long[] {0, 1, 1, 0}, t.toLongArray());
        assertArrayEquals(new double[] {0, 1, 1, 0}, t.toDoubleArray());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(raw(0), DType.UINT8, 0).getBoolean());
    }

    @Test
    void complexWithConjAndNeg() {
        // complex64 values 1+2i, 3-4i
        Tensor z = Tensor.contiguousView(floats(1, 2, 3, -4), DType.COMPLEX64, 0, 2);
        assertEquals(3.0, z.getReal(1));
        assertEquals(-4.0, z.getImag(1));
        Tensor conj = z.withConj(true);
        assertEquals(-2.0, conj.getImag(0));
        assertEquals(1.0, conj.getReal(0));
        Tensor neg = z.withNeg(true);
        assertEquals(-1.0, neg.getReal(0));
        assertEquals(-2.0, neg.getImag(0));
        Tensor both = conj.withNeg(true);
        assertEquals(-3.0, both.getReal(1));
        assertEquals(-4.0, both.getImag(1));
        Tensor resolved = both.resolveConjAndNeg();
        assertFalse(resolved.isConj());
        assertFalse(resolved.isNeg());
        assertNotSame(z.storage(), resolved.storage());
        assertArrayEquals(TensorTest.floats(-1, 2, -3, -4).bytes().toArray(ValueLayout.JAVA_BYTE), resolved.toByteArray());
        assertArrayEquals(TensorTest.floats(1, -2, 3, 4).bytes().toArray(ValueLayout.JAVA_BYTE),
                conj.resolveConjAndNeg().toByteArray());
        // The raw accessors ignore the bits.
        assertArrayEquals(z.toByteArray(), both.toByteArray());
        assertEquals(z.contiguousBytes().byteSize(), both.contiguousBytes().byteSize());
        assertThrows(IllegalStateException.class, z::toFloatArray);
        assertThrows(IllegalStateException.class, () -> z.getDouble(0));
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(floats(1), DType.FLOAT32, 0).getReal());
    }

    @Test
    void complex32IsTwoHalves() {
        Tensor z = Tensor.contiguousView(raw(0x00, 0x3C, 0x00, 0xC0), DType.COMPLEX32, 0);
        assertEquals(1.0, z.getReal());
        assertEquals(-2.0, z.getImag());
        assertEquals(2.0, z.withConj(true).getImag());
        assertArrayEquals(new byte[] {0x00, 0x3C, 0x00, 0x40}, z.withConj(true).resolveConjAndNeg().toByteArray());
    }

    @Test
    void complex128() {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-0.0);
        Tensor z = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(b.array()), "c", "cpu"), DType.COMPLEX128, 0);
        assertEquals(0.25, z.getReal());
        assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits(z.withConj(true).getImag()));
    }

    @Test
    void contiguousBytesIsAReadOnlySliceWithoutCopy() {
        byte[] array = new byte[16];
        Storage s = Storage.of(MemorySegment.ofArray(array), "0", "cpu");
        Tensor t = Tensor.contiguousView(s, DType.INT32, 1, 3);
        MemorySegment bytes = t.contiguousBytes();
        assertEquals(12, bytes.byteSize());
        assertTrue(bytes.isReadOnly());
        array[4] = 9;
        assertEquals(9, bytes.get(ValueLayout.JAVA_BYTE, 0));
        Tensor transposed = Tensor.of(s, DType.INT32, 0, new long[] {2, 2}, new long[] {1, 2});
        assertThrows(IllegalStateException.class, transposed::contiguousBytes);
        assertSame(t, t.contiguous());
    }

    @Test
    void contiguousCopiesRunsIntoAFreshStorage() {
        Tensor base = Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3).withRequiresGrad(true);
        Tensor t = Tensor.of(base.storage(), DType.FLOAT32, 0, new long[] {3, 2}, new long[] {1, 3})
                .withRequiresGrad(true).withNeg(true);
        Tensor c = t.contiguous();
        assertTrue(c.isContiguous());
        assertArrayEquals(new long[] {2, 1}, c.strides());
        assertEquals(0, c.storageOffset());
        assertTrue(c.requiresGrad());
        assertTrue(c.isNeg());
        assertEquals("0 (contiguous copy)", c.storage().key());
        assertArrayEquals(new float[] {-0f, -3, -1, -4, -2, -5}, c.toFloatArray());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, c.withNeg(false).toFloatArray());
    }

    /**
     * A storage beyond 2 GiB without allocating it: a sparse 3 GiB file, mapped. Only the pages
     * touched are read.
     */
    @Test
    void readsBeyondTwoGigabytesOfAMappedStorage(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("big.bin");
        long size = 3L << 30;
        long at = (1L << 31) + 1000;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
            f.seek(at);
            f.write(new byte[] {10, 11, 12, 13, 14, 15});
        }
        try (Arena arena = Arena.ofConfined(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Storage s = Storage.of(mapped, "big", "cpu");
            Tensor t = Tensor.of(s, DType.UINT8, at, new long[] {2, 3}, new long[] {3, 1});
            assertEquals(15, t.getLong(1, 2));
            assertArrayEquals(new byte[] {10, 11, 12, 13, 14, 15}, t.toByteArray());
            assertEquals(13, t.contiguousBytes().get(ValueLayout.JAVA_BYTE, 3));
            Tensor transposed = Tensor.of(s, DType.UINT8, at, new long[] {3, 2}, new long[] {1, 3});
            assertArrayEquals(new long[] {10, 13, 11, 14, 12, 15}, transposed.contiguous().toLongArray());
            Tensor last = Tensor.of(s, DType.INT16, size / 2 - 1, new long[] {}, new long[] {});
            assertEquals(0, last.getLong());
            assertThrows(InvalidViewException.class,
                    () -> Tensor.of(s, DType.INT16, size / 2, new long[] {}, new long[] {}));
        }
    }
}
