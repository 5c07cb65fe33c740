package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The value comparison behind {@code weightsonly diff}, chunking in particular. */
class TensorComparisonTest {

    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static Tensor floats(float... values) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, bytes, LE_FLOAT, 0, values.length);
        return Tensor.contiguousView(Storage.of(bytes, "test", "cpu"), DType.FLOAT32, 0, values.length);
    }

    private static Tensor longs(DType dtype, long... values) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * 8]);
        MemorySegment.copy(values, 0, bytes, LE_LONG, 0, values.length);
        return Tensor.contiguousView(Storage.of(bytes, "test", "cpu"), dtype, 0, values.length);
    }

    private static Tensor packed(DType dtype, long[] shape, long[] strides, int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return Tensor.of(Storage.of(MemorySegment.ofArray(b), "test", "cpu"), dtype, 0, shape, strides);
    }

    @Test
    void packedQuantizedTensorsCompareByCodesOrPackedBytes() {
        // quint4x2, 2x3 values in 3 bytes: one code differs (the 4th value, 4 against 7)
        Tensor a = packed(DType.QUINT4X2, new long[] {2, 3}, new long[] {3, 1}, 0x21, 0x43, 0x65);
        Tensor b = packed(DType.QUINT4X2, new long[] {2, 3}, new long[] {3, 1}, 0x21, 0x73, 0x65);
        TensorComparison.ValueDiff d = TensorComparison.compare(a, b, 2);
        assertEquals(6, d.elements());
        assertEquals(1, d.differing());
        assertEquals(BigInteger.valueOf(3), d.maxAbsDiff());
        assertEquals(6, TensorComparison.elementsToRead(a, b));
        assertEquals("values differ: w: 1 of 6 elements, the first at [1, 0]: 7 vs 4",
                VerifyCommand.difference("w", b, a));
        // transposed views have no reading of their values (torch cannot read them either): their packed bytes
        Tensor at = packed(DType.QUINT4X2, new long[] {3, 2}, new long[] {1, 3}, 0x21, 0x43, 0x65);
        Tensor bt = packed(DType.QUINT4X2, new long[] {3, 2}, new long[] {1, 3}, 0x21, 0x73, 0x65);
        assertEquals(1, TensorComparison.compare(at, bt).differing());
        assertTrue(VerifyCommand.difference("w", at, bt).startsWith("values differ: w: 1 of 3 elements"),
                VerifyCommand.difference("w", at, bt));
        assertEquals(null, VerifyCommand.difference("w", at, packed(DType.QUINT4X2, new long[] {3, 2},
                new long[] {1, 3}, 0x21, 0x43, 0x65)));
    }

    @Test
    void chunksCoverEveryElementOnceInRowMajorOrderWithinTheBound() throws IOException {
        for (String fixture : new String[] {"views.pt", "dtypes.pt", "sd_mlp_nested.pt"}) {
            try (Checkpoint c = Checkpoint.load(InspectCommandTest.fixture(fixture))) {
                for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
                    Tensor t = e.getValue();
                    if (t.dtype().kind() == DType.Kind.COMPLEX) {
                        continue; // covered by comparing raw bytes below
                    }
                    byte[] whole = t.toByteArray();
                    for (int max : new int[] {1, 2, 3, 5, 7, 1000}) {
                        List<byte[]> parts = new ArrayList<>();
                        TensorComparison.forEachChunk(t, t, max, (x, y) -> {
                            assertTrue(x.numel() <= max && x.numel() > 0, e.getKey() + " chunk of " + x.numel());
                            parts.add(x.toByteArray());
                        });
                        assertArrayEquals(whole, concat(parts), fixture + " " + e.getKey() + " max " + max);
                    }
                }
            }
        }
    }

    @Test
    void chunkedAndWholeComparisonsAgreeOnATransposedView() {
        // 7 x 11 values and their transpose (a non-contiguous view) against a contiguous transposed copy.
        float[] values = new float[77];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 3;
        }
        Tensor base = floats(values);
        Tensor matrix = Tensor.of(base.storage(), DType.FLOAT32, 0, new long[] {7, 11}, new long[] {11, 1});
        Tensor transposed = Tensor.of(base.storage(), DType.FLOAT32, 0, new long[] {11, 7}, new long[] {1, 11});
        float[] copy = transposed.toFloatArray();
        copy[3 * 7 + 2] += 2.5f;
        copy[10 * 7 + 6] -= 0.25f;
        Tensor dense = Tensor.of(floats(copy).storage(), DType.FLOAT32, 0, new long[] {11, 7}, new long[] {7, 1});
        assertTrue(!transposed.isContiguous() && matrix.isContiguous());
        for (int chunk : new int[] {1, 3, 7, 8, 76, 77, 1 << 16}) {
            TensorComparison.ValueDiff d = TensorComparison.compare(transposed, dense, chunk);
            assertEquals(77, d.elements());
            assertEquals(2, d.differing(), "chunk " + chunk);
            assertEquals(2.5, d.maxAbsDiff().doubleValue(), 0.0, "chunk " + chunk);
        }
    }

    @Test
    void aLargeTensorIsComparedInBoundedChunks() {
        int n = 3 * TensorComparison.CHUNK_ELEMENTS + 17;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = b[i] = (float) Math.sin(i);
        }
        b[n - 1] += 0.125f;
        b[TensorComparison.CHUNK_ELEMENTS] -= 4;
        List<Long> chunkSizes = new ArrayList<>();
        TensorComparison.forEachChunk(floats(a), floats(b), TensorComparison.CHUNK_ELEMENTS,
                (x, y) -> chunkSizes.add(x.numel()));
        assertEquals(List.of(65536L, 65536L, 65536L, 17L), chunkSizes);
        TensorComparison.ValueDiff d = TensorComparison.compare(floats(a), floats(b));
        assertEquals(2, d.differing());
        assertEquals(4.0, d.maxAbsDiff().doubleValue(), 1e-6);
    }

    @Test
    void nanEqualsNanAndZeroEqualsNegativeZero() {
        Tensor x = floats(Float.NaN, 0.0f, Float.POSITIVE_INFINITY, 1);
        Tensor y = floats(Float.NaN, -0.0f, Float.POSITIVE_INFINITY, 1);
        assertTrue(TensorComparison.compare(x, y).equal());
        TensorComparison.ValueDiff nan = TensorComparison.compare(x, floats(1, 0, Float.POSITIVE_INFINITY, 1));
        assertEquals(1, nan.differing());
        assertTrue(Double.isNaN(nan.maxAbsDiff().doubleValue()));
        TensorComparison.ValueDiff inf = TensorComparison.compare(x, floats(Float.NaN, 0, Float.NEGATIVE_INFINITY, 1));
        assertEquals(Double.POSITIVE_INFINITY, inf.maxAbsDiff().doubleValue());
    }

    @Test
    void integersAreComparedExactlyBeyondTheRangeOfALong() {
        TensorComparison.ValueDiff signed = TensorComparison.compare(longs(DType.INT64, Long.MIN_VALUE, 7),
                longs(DType.INT64, Long.MAX_VALUE, 7));
        assertEquals(BigInteger.TWO.pow(64).subtract(BigInteger.ONE), signed.maxAbsDiff());
        assertEquals(1, signed.differing());
        // uint64: 2^64 - 1 (stored as -1) against 1 differ by 2^64 - 2, not by 2.
        TensorComparison.ValueDiff unsigned = TensorComparison.compare(longs(DType.UINT64, -1L),
                longs(DType.UINT64, 1L));
        assertEquals(BigInteger.TWO.pow(64).subtract(BigInteger.TWO), unsigned.maxAbsDiff());
        // Large int64 values that a double would round together are still told apart.
        TensorComparison.ValueDiff close = TensorComparison.compare(longs(DType.INT64, (1L << 60) + 1),
                longs(DType.INT64, 1L << 60));
        assertEquals(BigInteger.ONE, close.maxAbsDiff());
    }

    @Test
    void theNegativeBitIsApplied() {
        Tensor stored = floats(1, -2, 3);
        Tensor negated = stored.withNeg(true);
        assertTrue(TensorComparison.compare(negated, floats(-1, 2, -3), 2).equal());
        assertEquals(6.0, TensorComparison.compare(negated, stored, 2).maxAbsDiff().doubleValue(), 0.0);
    }

    @Test
    void conjugatedComplexValuesCompareByModulus() throws IOException {
        // conj_neg_meta holds conj_view with the conjugate bit set (logical values) and conj_neg the same bytes
        // without it: they differ by twice the imaginary parts.
        try (Checkpoint meta = Checkpoint.load(InspectCommandTest.fixture("conj_neg_meta.pt"));
                Checkpoint raw = Checkpoint.load(InspectCommandTest.fixture("conj_neg.pt"))) {
            Tensor conj = meta.tensors().get("conj_view");
            Tensor plain = raw.tensors().get("conj_view");
            assertTrue(conj.isConj() && !plain.isConj());
            double largest = 0;
            for (long i = 0; i < conj.numel(); i++) {
                largest = Math.max(largest, 2 * Math.abs(plain.getImag(i)));
            }
            TensorComparison.ValueDiff d = TensorComparison.compare(conj, plain, 1);
            assertEquals(largest, d.maxAbsDiff().doubleValue(), 0.0);
            assertTrue(TensorComparison.compare(conj, conj.resolveConjAndNeg()).equal());
        }
    }

    private static byte[] concat(List<byte[]> parts) {
        int n = parts.stream().mapToInt(p -> p.length).sum();
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
