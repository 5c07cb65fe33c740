package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Random views over random storages, checked against a naive reference that computes each element's
 * byte offset from the formula {@code (offset + Σ index_i * stride_i) * elementSize} and decodes it
 * with {@link ByteBuffer} and {@link Reference}.
 */
class TensorPropertiesTest {
    enum Layout { RANDOM, ROW_MAJOR, PERMUTED }

    /** A view's geometry plus what is needed to build a random storage that holds it. */
    record Geometry(long[] shape, long[] strides, long offset, int slack, long seed) {
        static Geometry of(long[] shape, long[] randomStrides, Layout layout, long offset, int slack, long seed) {
            long[] strides = switch (layout) {
                case RANDOM -> randomStrides;
                case ROW_MAJOR -> rowMajor(shape);
                case PERMUTED -> permutedRowMajor(shape, new Random(seed));
            };
            return new Geometry(shape, strides, offset, slack, seed);
        }

        long numel() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }

        /** Elements the storage holds: the view's extent plus some slack. */
        long capacity() {
            long last = offset;
            for (int d = 0; d < shape.length; d++) {
                last += Math.max(shape[d] - 1, 0) * strides[d];
            }
            return last + 1 + slack;
        }

        byte[] randomBytes(DType t) {
            byte[] bytes = new byte[(int) (capacity() * t.elementSize())];
            new Random(seed).nextBytes(bytes);
            return bytes;
        }

        Tensor view(DType t, byte[] bytes) {
            return Tensor.of(Storage.of(MemorySegment.ofArray(bytes), "p", "cpu"), t, offset, shape, strides);
        }

        /** The multi-index of the k-th element in row-major order. */
        long[] index(long k) {
            long[] index = new long[shape.length];
            for (int d = shape.length - 1; d >= 0; d--) {
                index[d] = k % shape[d];
                k /= shape[d];
            }
            return index;
        }

        int byteOffset(long[] index, DType t) {
            long element = offset;
            for (int d = 0; d < index.length; d++) {
                element += index[d] * strides[d];
            }
            return (int) (element * t.elementSize());
        }

        @Override
        public String toString() {
            return "Geometry[shape=" + Arrays.toString(shape) + ", strides=" + Arrays.toString(strides)
                    + ", offset=" + offset + ", slack=" + slack + ", seed=" + seed + "]";
        }
    }

    static long[] rowMajor(long[] shape) {
        long[] strides = new long[shape.length];
        long step = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = step;
            step *= Math.max(shape[d], 1);
        }
        return strides;
    }

    /** Strides of a row-major tensor of permuted shape, seen through the inverse permutation. */
    static long[] permutedRowMajor(long[] shape, Random random) {
        int rank = shape.length;
        Integer[] order = new Integer[rank];
        for (int d = 0; d < rank; d++) {
            order[d] = d;
        }
        Collections.shuffle(Arrays.asList(order), random);
        long[] strides = new long[rank];
        long step = 1;
        for (int i = rank - 1; i >= 0; i--) {
            strides[order[i]] = step;
            step *= Math.max(shape[order[i]], 1);
        }
        return strides;
    }

    @Provide
    Arbitrary<Geometry> geometries() {
        return Arbitraries.integers().between(0, 4).flatMap(rank -> Combinators.combine(
                Arbitraries.longs().between(0, 5).array(long[].class).ofSize(rank),
                Arbitraries.longs().between(0, 12).array(long[].class).ofSize(rank),
                Arbitraries.of(Layout.values()),
                Arbitraries.longs().between(0, 20),
                Arbitraries.integers().between(0, 3),
                Arbitraries.longs()).as(Geometry::of));
    }

    @Provide
    Arbitrary<DType> readable() {
        return Arbitraries.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16, DType.INT8,
                DType.UINT8, DType.INT16, DType.UINT16, DType.INT32, DType.INT64, DType.BOOL, DType.FLOAT8_E4M3FN,
                DType.FLOAT8_E5M2FNUZ);
    }

    static double referenceDouble(DType t, ByteBuffer b, int at) {
        return switch (t) {
            case FLOAT32 -> b.getFloat(at);
            case FLOAT64 -> b.getDouble(at);
            case FLOAT16 -> Reference.half(b.getShort(at) & 0xFFFF);
            case BFLOAT16 -> Reference.bfloat16(b.getShort(at) & 0xFFFF);
            case FLOAT8_E4M3FN -> (b.get(at) & 0x7F) == 0x7F ? Double.NaN : Reference.minifloat(b.get(at) & 0xFF, 4, 3, 7);
            case FLOAT8_E5M2FNUZ -> (b.get(at) & 0xFF) == 0x80 ? Double.NaN
                    : Reference.minifloat(b.get(at) & 0xFF, 5, 2, 16);
            case INT8 -> b.get(at);
            case UINT8 -> b.get(at) & 0xFF;
            case INT16 -> b.getShort(at);
            case UINT16 -> b.getShort(at) & 0xFFFF;
            case INT32 -> b.getInt(at);
            case INT64 -> (double) b.getLong(at);
            case BOOL -> b.get(at) != 0 ? 1 : 0;
            default -> throw new AssertionError(t);
        };
    }

    static float referenceFloat(DType t, ByteBuffer b, int at) {
        return switch (t) {
            case FLOAT64 -> (float) b.getDouble(at);
            case INT64 -> (float) b.getLong(at);
            default -> (float) referenceDouble(t, b, at);
        };
    }

    static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Property
    void readsAgreeWithTheNaiveReference(@ForAll("geometries") Geometry g, @ForAll("readable") DType t) {
        byte[] bytes = g.randomBytes(t);
        ByteBuffer b = littleEndian(bytes);
        Tensor view = g.view(t, bytes);
        assertEquals(g.numel(), view.numel());
        double[] doubles = view.toDoubleArray();
        float[] floats = view.toFloatArray();
        byte[] raw = view.toByteArray();
        assertEquals(g.numel(), doubles.length);
        assertEquals(g.numel() * t.elementSize(), raw.length);
        int es = t.elementSize();
        for (int k = 0; k < g.numel(); k++) {
            long[] index = g.index(k);
            int at = g.byteOffset(index, t);
            double expected = referenceDouble(t, b, at);
            assertEquals(expected, view.getDouble(index), () -> "getDouble" + Arrays.toString(index));
            assertEquals(expected, doubles[k]);
            assertEquals(referenceFloat(t, b, at), view.getFloat(index));
            assertEquals(referenceFloat(t, b, at), floats[k]);
            assertArrayEquals(Arrays.copyOfRange(bytes, at, at + es), Arrays.copyOfRange(raw, k * es, (k + 1) * es));
        }
        if (t == DType.INT64) {
            long[] longs = view.toLongArray();
            for (int k = 0; k < g.numel(); k++) {
                assertEquals(b.getLong(g.byteOffset(g.index(k), t)), longs[k]);
            }
        }
    }

    @Property
    void contiguityAgreesWithTheDefinition(@ForAll("geometries") Geometry g, @ForAll("readable") DType t) {
        byte[] bytes = g.randomBytes(t);
        Tensor view = g.view(t, bytes);
        // Contiguous means the k-th element in row-major order is at offset + k.
        boolean expected = true;
        for (int k = 0; k < g.numel(); k++) {
            expected &= g.byteOffset(g.index(k), t) == (g.offset() + k) * t.elementSize();
        }
        assertEquals(expected, view.isContiguous());
        Tensor copy = view.contiguous();
        assertTrue(copy.isContiguous());
        assertArrayEquals(view.shape(), copy.shape());
        assertArrayEquals(view.toByteArray(), copy.toByteArray());
        assertArrayEquals(view.toByteArray(), copy.contiguousBytes().toArray(ValueLayout.JAVA_BYTE));
        if (expected) {
            assertSame(view, copy);
            assertArrayEquals(view.toByteArray(), view.contiguousBytes().toArray(ValueLayout.JAVA_BYTE));
        } else {
            assertNotSame(view.storage(), copy.storage());
            assertArrayEquals(rowMajor(view.shape()), copy.strides());
            assertEquals(view.byteSize(), copy.storage().byteSize());
        }
    }

    @Property
    void transposesSwapIndices(@ForAll("geometries") Geometry g, @ForAll @IntRange(max = 3) int a,
                               @ForAll @IntRange(max = 3) int c) {
        int rank = g.shape().length;
        if (rank < 2) {
            return;
        }
        int d0 = a % rank;
        int d1 = c % rank;
        byte[] bytes = g.randomBytes(DType.FLOAT32);
        Tensor view = g.view(DType.FLOAT32, bytes);
        long[] shape = view.shape();
        long[] strides = view.strides();
        swap(shape, d0, d1);
        swap(strides, d0, d1);
        Tensor transposed = Tensor.of(view.storage(), DType.FLOAT32, view.storageOffset(), shape, strides);
        float[] values = transposed.toFloatArray();
        Geometry tg = new Geometry(shape, strides, g.offset(), g.slack(), g.seed());
        for (int k = 0; k < tg.numel(); k++) {
            long[] index = tg.index(k);
            long[] original = index.clone();
            swap(original, d0, d1);
            assertEquals(view.getFloat(original), transposed.getFloat(index));
            assertEquals(view.getFloat(original), values[k]);
        }
        assertArrayEquals(values, transposed.contiguous().toFloatArray());
    }

    private static void swap(long[] array, int i, int j) {
        long tmp = array[i];
        array[i] = array[j];
        array[j] = tmp;
    }

    /** {@code x[..., start:start+length*step:step, ...]} as torch's slicing computes it. */
    @Property
    void slicesSelectTheSameElements(@ForAll("geometries") Geometry g, @ForAll @IntRange(max = 3) int dimChoice,
                                     @ForAll @IntRange(max = 5) int start, @ForAll @IntRange(max = 5) int length,
                                     @ForAll @IntRange(min = 1, max = 2) int step) {
        int rank = g.shape().length;
        if (rank == 0) {
            return;
        }
        int dim = dimChoice % rank;
        long size = g.shape()[dim];
        if (start > size) {
            return;
        }
        long count = Math.min(length, (size - start + step - 1) / step);
        byte[] bytes = g.randomBytes(DType.FLOAT16);
        Tensor view = g.view(DType.FLOAT16, bytes);
        long[] shape = view.shape();
        long[] strides = view.strides();
        shape[dim] = count;
        strides[dim] *= step;
        long offset = view.storageOffset() + (count == 0 ? 0 : start * view.stride(dim));
        Tensor slice = Tensor.of(view.storage(), DType.FLOAT16, offset, shape, strides);
        Geometry sg = new Geometry(shape, strides, offset, 0, 0);
        float[] values = slice.toFloatArray();
        for (int k = 0; k < sg.numel(); k++) {
            long[] index = sg.index(k);
            long[] original = index.clone();
            original[dim] = start + index[dim] * step;
            assertEquals(view.getFloat(original), values[k]);
        }
    }

    @Property
    void complexConjAndNegGiveLogicalValues(@ForAll("geometries") Geometry g, @ForAll boolean conj,
                                            @ForAll boolean neg) {
        byte[] bytes = g.randomBytes(DType.COMPLEX64);
        ByteBuffer b = littleEndian(bytes);
        Tensor stored = g.view(DType.COMPLEX64, bytes);
        Tensor view = stored.withConj(conj).withNeg(neg);
        Tensor resolved = view.resolveConjAndNeg();
        assertFalse(resolved.isConj() || resolved.isNeg());
        assertTrue(conj || neg ? resolved.isContiguous() : resolved == view);
        assertArrayEquals(stored.toByteArray(), view.toByteArray(), "raw bytes ignore the bits");
        for (int k = 0; k < g.numel(); k++) {
            long[] index = g.index(k);
            int at = g.byteOffset(index, DType.COMPLEX64);
            float re = b.getFloat(at);
            float im = b.getFloat(at + 4);
            double expectedRe = neg ? -re : re;
            double expectedIm = neg != conj ? -im : im;
            assertEquals(expectedRe, view.getReal(index));
            assertEquals(expectedIm, view.getImag(index));
            assertEquals(expectedRe, resolved.getReal(index));
            assertEquals(expectedIm, resolved.getImag(index));
        }
    }

    @Provide
    Arbitrary<DType> negatable() {
        return Arbitraries.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16, DType.INT8,
                DType.UINT8, DType.INT16, DType.INT32, DType.INT64, DType.FLOAT8_E4M3FN, DType.FLOAT8_E5M2FNUZ);
    }

    @Property
    void negViewsAgreeWithTheirResolvedCopies(@ForAll("geometries") Geometry g, @ForAll("negatable") DType t) {
        byte[] bytes = g.randomBytes(t);
        ByteBuffer b = littleEndian(bytes);
        Tensor neg = g.view(t, bytes).withNeg(true);
        Tensor resolved = neg.resolveConjAndNeg();
        assertFalse(resolved.isNeg());
        assertArrayEquals(neg.toDoubleArray(), resolved.toDoubleArray());
        assertArrayEquals(neg.toFloatArray(), resolved.toFloatArray());
        assertArrayEquals(neg.toFloatArray(), neg.contiguous().toFloatArray());
        if (t.kind() == DType.Kind.FLOAT && t != DType.FLOAT8_E5M2FNUZ) {
            double[] values = neg.toDoubleArray();
            for (int k = 0; k < g.numel(); k++) {
                double expected = -referenceDouble(t, b, g.byteOffset(g.index(k), t));
                assertEquals(expected, values[k]);
            }
        }
    }

    @Property
    void float32NegFlipsTheSignBit(@ForAll("geometries") Geometry g) {
        byte[] bytes = g.randomBytes(DType.FLOAT32);
        ByteBuffer b = littleEndian(bytes);
        Tensor neg = g.view(DType.FLOAT32, bytes).withNeg(true);
        float[] values = neg.toFloatArray();
        ByteBuffer resolved = littleEndian(neg.resolveConjAndNeg().toByteArray());
        for (int k = 0; k < g.numel(); k++) {
            long[] index = g.index(k);
            int bits = b.getInt(g.byteOffset(index, DType.FLOAT32)) ^ 0x8000_0000;
            assertEquals(Float.intBitsToFloat(bits), neg.getFloat(index));
            assertEquals(Float.intBitsToFloat(bits), values[k]);
            assertEquals(bits, resolved.getInt(4 * k), "resolved bits are exact");
        }
    }
}
