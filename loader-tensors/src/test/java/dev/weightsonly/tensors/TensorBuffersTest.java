package dev.weightsonly.tensors;

import static dev.weightsonly.tensors.TensorTest.floats;
import static dev.weightsonly.tensors.TensorTest.longs;
import static dev.weightsonly.tensors.TensorTest.raw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The buffers and copies a native library or a {@code java.nio} API takes: little-endian and read-only, views
 * where the bytes are the values, copies (bounded) where not, and copies into the caller's memory.
 */
class TensorBuffersTest {

    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** float32 values in off-heap memory from {@code arena}, starting {@code misalign} bytes past an aligned address. */
    private static Storage nativeFloats(Arena arena, int misalign, float... values) {
        MemorySegment memory = arena.allocate(4L * values.length + misalign, 8).asSlice(misalign);
        for (int i = 0; i < values.length; i++) {
            memory.setAtIndex(LE_FLOAT, i, values[i]);
        }
        return Storage.of(memory, "n", "cpu");
    }

    @Test
    void aByteBufferIsLittleEndianReadOnlyAndTheStorageItself() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.contiguousView(nativeFloats(arena, 0, 1.5f, -2f, 3.25f, 4f), DType.FLOAT32, 1, 3);
            ByteBuffer buffer = t.asByteBuffer();
            assertEquals(ByteOrder.LITTLE_ENDIAN, buffer.order());
            assertTrue(buffer.isReadOnly());
            assertTrue(buffer.isDirect(), "off-heap memory gives a direct buffer, whose address native code takes");
            assertEquals(12, buffer.capacity());
            assertEquals(-2f, buffer.getFloat(0));
            assertEquals(4f, buffer.getFloat(8));
            // the typed view of the buffer reads the values too (the order carries over)
            assertEquals(3.25f, buffer.asFloatBuffer().get(1));
            // the bytes are the storage's: same address, no copy
            assertEquals(t.contiguousBytes().address(), MemorySegment.ofBuffer(buffer).address());
        }
    }

    @Test
    void aByteBufferOfClosedMemoryCannotBeRead() {
        ByteBuffer buffer;
        try (Arena arena = Arena.ofShared()) {
            buffer = Tensor.contiguousView(nativeFloats(arena, 0, 1f, 2f), DType.FLOAT32, 0, 2).asByteBuffer();
            assertEquals(2f, buffer.getFloat(4));
        }
        ByteBuffer closed = buffer;
        assertThrows(IllegalStateException.class, () -> closed.getFloat(0));
    }

    @Test
    void aByteBufferIsRefusedWhereTheStoredBytesAreNotTheValues() {
        Tensor grid = Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3);
        Tensor transposed = Tensor.of(grid.storage(), DType.FLOAT32, 0, new long[] {3, 2}, new long[] {1, 3});
        IllegalStateException e = assertThrows(IllegalStateException.class, transposed::asByteBuffer);
        assertTrue(e.getMessage().contains("contiguous() makes a contiguous copy"), e.getMessage());
        assertEquals(2f, transposed.contiguous().asByteBuffer().getFloat(4 * 4)); // row 2, column 0

        Tensor negated = grid.withNeg(true);
        e = assertThrows(IllegalStateException.class, negated::asByteBuffer);
        assertTrue(e.getMessage().contains("resolveConjAndNeg()"), e.getMessage());
        assertEquals(-5f, negated.resolveConjAndNeg().asByteBuffer().getFloat(5 * 4));
    }

    @Test
    void anEmptyTensorHasAnEmptyBuffer() {
        Tensor empty = Tensor.contiguousView(floats(1, 2), DType.FLOAT32, 0, 0, 3);
        assertEquals(0, empty.asByteBuffer().capacity());
        assertEquals(0, empty.asFloatBuffer().capacity());
    }

    @Test
    void typedBuffersViewAlignedContiguousValuesAndCopyTheRest() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor aligned = Tensor.contiguousView(nativeFloats(arena, 0, 1f, 2f, 3f), DType.FLOAT32, 0, 3);
            FloatBuffer view = aligned.asFloatBuffer();
            assertTrue(view.isDirect() && view.isReadOnly());
            assertEquals(ByteOrder.LITTLE_ENDIAN, view.order());
            assertEquals(3, view.capacity());
            assertEquals(2f, view.get(1));

            // one byte off: the values are the same, but native code would read floats at an odd address
            Tensor misaligned = Tensor.contiguousView(nativeFloats(arena, 1, 1f, 2f, 3f), DType.FLOAT32, 0, 3);
            FloatBuffer copy = misaligned.asFloatBuffer();
            assertFalse(copy.isDirect());
            assertTrue(copy.isReadOnly());
            assertEquals(3f, copy.get(2));

            // the negative bit: a copy of the values, negated
            assertEquals(-2f, aligned.withNeg(true).asFloatBuffer().get(1));
        }
        // other dtypes convert, as toFloatArray() does
        Tensor halves = Tensor.contiguousView(raw(0x00, 0x3C, 0x00, 0xC0), DType.FLOAT16, 0, 2); // 1.0, -2.0
        assertArrayEquals(new float[] {1f, -2f}, get(halves.asFloatBuffer()));
        Tensor bytes = Tensor.contiguousView(raw(7, 200), DType.UINT8, 0, 2);
        assertArrayEquals(new float[] {7f, 200f}, get(bytes.asFloatBuffer()));
        assertEquals(200, bytes.asIntBuffer().get(1));
        assertEquals(200.0, bytes.asDoubleBuffer().get(1));
        assertEquals(200L, bytes.asLongBuffer().get(1));
    }

    @Test
    void integerBuffersViewTheirOwnDtype() {
        Tensor big = Tensor.contiguousView(longs(Long.MIN_VALUE, 5, -1), DType.INT64, 0, 3);
        LongBuffer view = big.asLongBuffer();
        assertEquals(ByteOrder.LITTLE_ENDIAN, view.order()); // a view of the storage's bytes, not a copy
        assertEquals(Long.MIN_VALUE, view.get(0));
        assertEquals(-1L, view.get(2));
        Tensor ints = Tensor.contiguousView(raw(1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF), DType.INT32, 0, 2);
        IntBuffer intView = ints.asIntBuffer();
        assertEquals(ByteOrder.LITTLE_ENDIAN, intView.order());
        assertEquals(-1, intView.get(1));
        assertEquals(-1.0, ints.asDoubleBuffer().get(1));
        // int64 values do not all fit an int: refused, as toIntArray() refuses them
        assertThrows(IllegalStateException.class, big::asIntBuffer);
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(floats(1), DType.FLOAT32, 0, 1)
                .asLongBuffer());
    }

    @Test
    void aShortBufferHoldsTheSixteenBitElements() {
        // bfloat16 1.0 is 0x3F80; float16 -2.0 is 0xC000
        Tensor bf16 = Tensor.contiguousView(raw(0x80, 0x3F, 0x80, 0xBF), DType.BFLOAT16, 0, 2);
        ShortBuffer words = bf16.asShortBuffer();
        assertTrue(words.isReadOnly());
        assertEquals(1f, BFloat16.toFloat(words.get(0)));
        assertEquals(-1f, BFloat16.toFloat(words.get(1)));
        // the negative bit applied, in a copy
        assertEquals(-1f, BFloat16.toFloat(bf16.withNeg(true).asShortBuffer().get(0)));
        Tensor f16 = Tensor.contiguousView(raw(0x00, 0xC0), DType.FLOAT16, 0, 1);
        assertEquals(-2f, Float.float16ToFloat(f16.asShortBuffer().get(0)));
        Tensor i16 = Tensor.of(raw(0xFF, 0xFF, 1, 0, 2, 0), DType.INT16, 0, new long[] {2}, new long[] {2});
        assertEquals(ByteOrder.LITTLE_ENDIAN, i16.asShortBuffer().order()); // a strided view: copied
        assertArrayEquals(new short[] {-1, 2}, get(i16.asShortBuffer()));
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(floats(1), DType.FLOAT32, 0, 1)
                .asShortBuffer());
        assertThrows(IllegalStateException.class, () -> Tensor.contiguousView(raw(1, 2), DType.UINT8, 0, 2)
                .asShortBuffer());
    }

    @Test
    void buffersLargerThanTwoGigabytesAreRefusedAndCopiesAreBounded(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sparse.bin");
        long size = 3L << 30; // a sparse file: nothing is written, and nothing is read
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        try (Arena arena = Arena.ofConfined(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Storage s = Storage.of(channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), "big", "cpu");
            Tensor t = Tensor.contiguousView(s, DType.FLOAT32, 0, size / 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, t::asByteBuffer);
            assertTrue(e.getMessage().contains("contiguousBytes()"), e.getMessage());
            assertThrows(MaterializationLimitException.class, t::asFloatBuffer);
            // a part of it fits a buffer, without copying
            assertEquals(1 << 20, t.narrow(0, 1 << 28, 1 << 20).asFloatBuffer().capacity());
        }
    }

    @Test
    void copyToMemoryWritesTheLogicalValuesOfAnyView() {
        Tensor grid = Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3);
        Tensor negatedTranspose = Tensor.of(grid.storage(), DType.FLOAT32, 0, new long[] {3, 2},
                new long[] {1, 3}).withNeg(true);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(4 * 8);
            negatedTranspose.copyTo(dst);
            float[] written = new float[6];
            MemorySegment.copy(dst, LE_FLOAT, 0, written, 0, 6);
            assertArrayEquals(new float[] {-0f, -3, -1, -4, -2, -5}, written);
            assertEquals(0, dst.get(ValueLayout.JAVA_LONG, 24), "nothing past byteSize() is written");

            assertThrows(IndexOutOfBoundsException.class, () -> grid.copyTo(arena.allocate(23)));
            assertThrows(IllegalArgumentException.class, () -> grid.copyTo(arena.allocate(24).asReadOnly()));
        }
        // a complex tensor's conjugate bit negates the imaginary parts
        Tensor complex = Tensor.contiguousView(floats(1, 2, 3, 4), DType.COMPLEX64, 0, 2).withConj(true);
        byte[] out = new byte[16];
        complex.copyTo(MemorySegment.ofArray(out));
        ByteBuffer values = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(-2f, values.getFloat(4));
        assertEquals(3f, values.getFloat(8));
    }

    @Test
    void copyToArraysFillsFromTheOffsetAndAllocatesNothing() {
        Tensor grid = Tensor.contiguousView(floats(0, 1, 2, 3, 4, 5), DType.FLOAT32, 0, 2, 3);
        Tensor column = grid.select(1, 1); // 1, 4: a strided view
        float[] floats = {9, 9, 9, 9};
        column.copyTo(floats, 1);
        assertArrayEquals(new float[] {9, 1, 4, 9}, floats);
        double[] doubles = new double[2];
        column.withNeg(true).copyTo(doubles, 0);
        assertArrayEquals(new double[] {-1, -4}, doubles);
        assertThrows(IndexOutOfBoundsException.class, () -> column.copyTo(new float[2], 1));
        assertThrows(IndexOutOfBoundsException.class, () -> column.copyTo(new float[2], -1));

        Tensor ids = Tensor.contiguousView(longs(7, 8, 9), DType.INT64, 0, 3);
        long[] longs = new long[5];
        ids.narrow(0, 1, 2).copyTo(longs, 3);
        assertArrayEquals(new long[] {0, 0, 0, 8, 9}, longs);
        assertThrows(IllegalStateException.class, () -> ids.copyTo(new int[3], 0));
        assertThrows(IllegalStateException.class, () -> grid.copyTo(new long[6], 0));
        int[] ints = new int[2];
        Tensor.contiguousView(raw(0xFF, 0xFF, 0x10, 0x00), DType.INT16, 0, 2).copyTo(ints, 0);
        assertArrayEquals(new int[] {-1, 16}, ints);
    }

    private static float[] get(FloatBuffer buffer) {
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static short[] get(ShortBuffer buffer) {
        short[] out = new short[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
