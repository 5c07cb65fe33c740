package dev.weightsonly.cli;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Iterator;
import java.util.function.BiConsumer;

/**
 * Compares the values of two tensors of the same dtype and shape, element by element in row-major order, for
 * {@code weightsonly diff}.
 *
 * <p>The tensors are walked in chunks of at most {@link #CHUNK_ELEMENTS} elements ({@link Tensor#blocks(long)}:
 * slices of the mapped checkpoint where a view is contiguous, one small copy at a time otherwise), so comparing two
 * multi-gigabyte tensors needs two small arrays rather than two huge ones (or more than a Java array can hold). Views are compared by their logical values: strides, offsets and PyTorch's
 * conjugate and negative bits are honoured, so a transposed copy and its original compare equal element for
 * element.
 *
 * <p>How values are compared depends on the dtype:
 * <ul>
 *   <li>floating point: as doubles (every float dtype converts exactly); {@code 0.0} equals {@code -0.0} and NaN
 *       equals NaN, so a file compares identical to itself. A NaN against a number makes the largest difference NaN.
 *   <li>integers, bool and quantized codes: exactly, as 64-bit integers (uint64 unsigned); the largest difference is
 *       exact even where it does not fit a {@code long}.
 *   <li>complex: the difference of two values is the modulus {@code |a - b|}.
 *   <li>bit-packed and placeholder dtypes, which have no scalar reading: the stored bytes of each element; there is
 *       a count of differing elements but no magnitude.
 *   <li>the packed quantized dtypes (quint4x2, quint2x4): their codes, exactly; of views that are not contiguous
 *       (whose values torch cannot read either), their packed bytes.
 * </ul>
 */
final class TensorComparison {

    /** Elements per chunk: two double arrays of this length are 1 MiB. */
    static final int CHUNK_ELEMENTS = 1 << 16;

    private TensorComparison() {
    }

    /**
     * The outcome for one pair of tensors.
     *
     * @param elements     elements compared
     * @param differing    how many of them differ
     * @param maxAbsDiff   the largest absolute difference: a {@link Double} for floating point and complex (NaN when
     *                     a NaN meets a number), a {@link BigInteger} for integers, null for raw byte comparisons
     */
    record ValueDiff(long elements, long differing, Number maxAbsDiff) {

        boolean equal() {
            return differing == 0;
        }
    }

    /** Whether {@code dtype} is a packed quantized dtype (quint4x2, quint2x4): several values to a byte. */
    static boolean packed(DType dtype) {
        return dtype.kind() == DType.Kind.QUANTIZED && dtype.valueBits() < 8;
    }

    /**
     * Two packed quantized tensors of one dtype and shape as uint8 tensors the comparison can walk (views of packed
     * values cannot be cut into sub-views): their codes, one a byte, in their shape, when both views are contiguous
     * (torch reads a contiguous packed view's values in row-major order from its offset); else their packed bytes as
     * 1-d tensors (torch's {@code int_repr()}; torch has no reading of the values of such a view either).
     */
    static Tensor[] unpacked(Tensor a, Tensor b) {
        boolean codes = a.isContiguous() && b.isContiguous();
        return new Tensor[] {unpacked(a, codes), unpacked(b, codes)};
    }

    private static Tensor unpacked(Tensor t, boolean codes) {
        byte[] bytes;
        long[] shape;
        if (codes) {
            long[] c = t.toLongArray();
            bytes = new byte[c.length];
            for (int i = 0; i < c.length; i++) {
                bytes[i] = (byte) c[i];
            }
            shape = t.shape();
        } else {
            bytes = t.toByteArray();
            shape = new long[] {bytes.length};
        }
        Storage s = Storage.of(MemorySegment.ofArray(bytes), t.storage().key() + (codes ? " (codes)" : " (packed bytes)"),
                t.storage().location(), t.storage().maxMaterializedBytes());
        return Tensor.contiguousView(s, DType.UINT8, 0, shape);
    }

    /** Compares {@code a} and {@code b}, which must have the same dtype and shape. */
    static ValueDiff compare(Tensor a, Tensor b) {
        return compare(a, b, CHUNK_ELEMENTS);
    }

    /** As {@link #compare(Tensor, Tensor)} with chunks of at most {@code chunkElements} (tests use small ones). */
    static ValueDiff compare(Tensor a, Tensor b, int chunkElements) {
        if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("compare needs equal dtypes and shapes: " + a + ", " + b);
        }
        DType dtype = a.dtype();
        Accumulator acc = accumulator(dtype);
        if (sameView(a, b)) {
            return acc.result(a.numel());                   // the same elements: nothing to read
        }
        if (packed(dtype)) {
            Tensor[] u = unpacked(a, b);                    // codes (or packed bytes) compared exactly
            ValueDiff d = compare(u[0], u[1], chunkElements);
            return new ValueDiff(a.numel(), d.differing(), d.maxAbsDiff());
        }
        Reduced r = reduce(a, b);
        forEachChunk(r.a(), r.b(), chunkElements, acc);
        ValueDiff reduced = acc.result(r.a().numel());
        return new ValueDiff(a.numel(), reduced.differing() * r.repeat(), reduced.maxAbsDiff());
    }

    /**
     * {@code a} and {@code b} with every dimension along which both repeat their elements (stride 0 in both,
     * as {@code expand} makes) cut to one index: each element of the reduced pair stands for {@code repeat}
     * elements of the whole pair, all compared alike. An expanded view of 10^12 elements over one stored value
     * compares in one step against another such view.
     */
    record Reduced(Tensor a, Tensor b, long repeat) {
    }

    static Reduced reduce(Tensor a, Tensor b) {
        long[] shape = a.shape();
        long[] sa = a.strides();
        long[] sb = b.strides();
        long repeat = 1;
        long[] cut = shape.clone();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > 1 && sa[d] == 0 && sb[d] == 0) {
                repeat *= shape[d];                          // a factor of numel: no overflow
                cut[d] = 1;
            }
        }
        if (repeat == 1 || a.numel() == 0) {
            return new Reduced(a, b, 1);
        }
        return new Reduced(cutView(a, cut), cutView(b, cut), repeat);
    }

    private static Tensor cutView(Tensor t, long[] shape) {
        return Tensor.of(t.storage(), t.dtype(), t.storageOffset(), shape, t.strides())
                .withConj(t.isConj()).withNeg(t.isNeg());
    }

    /** True when {@code a} and {@code b} are the same view of the same storage: equal without reading them. */
    static boolean sameView(Tensor a, Tensor b) {
        return a.storage() == b.storage() && a.dtype() == b.dtype() && a.storageOffset() == b.storageOffset()
                && Arrays.equals(a.shape(), b.shape()) && Arrays.equals(a.strides(), b.strides())
                && a.isConj() == b.isConj() && a.isNeg() == b.isNeg();
    }

    /** How many elements comparing {@code a} with {@code b} reads from each: what the tool's limit counts. */
    static long elementsToRead(Tensor a, Tensor b) {
        return sameView(a, b) ? 0 : packed(a.dtype()) ? a.numel() : reduce(a, b).a().numel();
    }

    private static Accumulator accumulator(DType dtype) {
        return switch (dtype.kind()) {
            case COMPLEX -> new ComplexAccumulator(component(dtype));
            case FLOAT -> scalarReadable(dtype) ? new FloatAccumulator() : new RawAccumulator();
            case INT, BOOL, QUANTIZED -> scalarReadable(dtype) ? new IntegerAccumulator(dtype == DType.UINT64)
                    : new RawAccumulator();
            default -> new RawAccumulator();
        };
    }

    /** Whether every element holds exactly one value, so the tensor's scalar reads apply. */
    private static boolean scalarReadable(DType dtype) {
        return dtype == DType.BOOL || dtype.valueBits() == 8 * dtype.elementSize();
    }

    private static DType component(DType complex) {
        return switch (complex) {
            case COMPLEX32 -> DType.FLOAT16;
            case COMPLEX64 -> DType.FLOAT32;
            case COMPLEX128 -> DType.FLOAT64;
            default -> throw new AssertionError(complex);
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Chunking

    /**
     * Calls {@code visitor} with matching chunks of {@code a} and {@code b} that together cover every element
     * once, in row-major order, each of at most {@code maxElements} elements: the tensors' blocks
     * ({@link Tensor#blocks(long)}, equal in both since the dtypes and shapes are), each seen as a contiguous
     * one-dimensional tensor of its logical values (no conjugate or negative bit left to apply).
     */
    static void forEachChunk(Tensor a, Tensor b, int maxElements, BiConsumer<Tensor, Tensor> visitor) {
        if (maxElements < 1) {
            throw new IllegalArgumentException("maxElements must be positive: " + maxElements);
        }
        long blockBytes = (long) maxElements * a.dtype().elementSize();
        Iterator<Tensor.Block> x = a.blocks(blockBytes).iterator();
        Iterator<Tensor.Block> y = b.blocks(blockBytes).iterator();
        while (x.hasNext()) {
            visitor.accept(values(a, x.next()), values(b, y.next()));
        }
    }

    /** One block of {@code t} as a contiguous tensor of its logical values. */
    private static Tensor values(Tensor t, Tensor.Block block) {
        Storage s = t.storage();
        return Tensor.contiguousView(Storage.of(block.bytes(), s.key(), s.location(), s.maxMaterializedBytes()),
                t.dtype(), 0, block.bytes().byteSize() / t.dtype().elementSize());
    }

    // ---------------------------------------------------------------------------------------------
    // Accumulators: one per way of comparing, fed chunk by chunk

    private abstract static class Accumulator implements BiConsumer<Tensor, Tensor> {
        long differing;

        abstract ValueDiff result(long elements);
    }

    private static final class FloatAccumulator extends Accumulator {
        double max;
        boolean nanMismatch;

        @Override
        public void accept(Tensor a, Tensor b) {
            add(a.toDoubleArray(), b.toDoubleArray());
        }

        void add(double[] x, double[] y) {
            for (int i = 0; i < x.length; i++) {
                double d = difference(x[i], y[i]);
                if (d != 0) {
                    differing++;
                    if (Double.isNaN(d)) {
                        nanMismatch = true;
                    } else {
                        max = Math.max(max, d);
                    }
                }
            }
        }

        /** 0 for equal values (NaN equals NaN, 0.0 equals -0.0), NaN for a NaN against a number, else |x - y|. */
        static double difference(double x, double y) {
            if (x == y || (Double.isNaN(x) && Double.isNaN(y))) {
                return 0;
            }
            return Math.abs(x - y);                      // NaN if exactly one is NaN; +inf for inf against finite
        }

        @Override
        ValueDiff result(long elements) {
            return new ValueDiff(elements, differing, nanMismatch ? Double.NaN : max);
        }
    }

    private static final class ComplexAccumulator extends Accumulator {
        private final DType component;
        double max;
        boolean nanMismatch;

        ComplexAccumulator(DType component) {
            this.component = component;
        }

        @Override
        public void accept(Tensor a, Tensor b) {
            double[] x = parts(a);
            double[] y = parts(b);
            for (int i = 0; i < x.length; i += 2) {
                double re = FloatAccumulator.difference(x[i], y[i]);
                double im = FloatAccumulator.difference(x[i + 1], y[i + 1]);
                if (re != 0 || im != 0) {
                    differing++;
                    double d = Math.hypot(re, im);
                    if (Double.isNaN(re) || Double.isNaN(im)) {
                        nanMismatch = true;
                    } else {
                        max = Math.max(max, d);
                    }
                }
            }
        }

        /** Real and imaginary parts, interleaved: a chunk's values, reinterpreted as the component dtype. */
        private double[] parts(Tensor chunk) {
            return Tensor.contiguousView(chunk.storage(), component, 0, chunk.numel() * 2).toDoubleArray();
        }

        @Override
        ValueDiff result(long elements) {
            return new ValueDiff(elements, differing, nanMismatch ? Double.NaN : max);
        }
    }

    private static final class IntegerAccumulator extends Accumulator {
        private final boolean unsigned;
        /** The largest difference so far, as an unsigned 64-bit number (any two 64-bit integers differ by less). */
        long max;

        IntegerAccumulator(boolean unsigned) {
            this.unsigned = unsigned;
        }

        @Override
        public void accept(Tensor a, Tensor b) {
            long[] x = a.toLongArray();
            long[] y = b.toLongArray();
            for (int i = 0; i < x.length; i++) {
                if (x[i] != y[i]) {
                    differing++;
                    boolean xLarger = unsigned ? Long.compareUnsigned(x[i], y[i]) > 0 : x[i] > y[i];
                    long d = xLarger ? x[i] - y[i] : y[i] - x[i];   // exact as an unsigned value
                    if (Long.compareUnsigned(d, max) > 0) {
                        max = d;
                    }
                }
            }
        }

        @Override
        ValueDiff result(long elements) {
            return new ValueDiff(elements, differing, new BigInteger(Long.toUnsignedString(max)));
        }
    }

    private static final class RawAccumulator extends Accumulator {

        @Override
        public void accept(Tensor a, Tensor b) {
            byte[] x = a.toByteArray();
            byte[] y = b.toByteArray();
            int size = a.dtype().elementSize();
            for (int at = 0; at < x.length; at += size) {
                if (!Arrays.equals(x, at, at + size, y, at, at + size)) {
                    differing++;
                }
            }
        }

        @Override
        ValueDiff result(long elements) {
            return new ValueDiff(elements, differing, null);
        }
    }
}
