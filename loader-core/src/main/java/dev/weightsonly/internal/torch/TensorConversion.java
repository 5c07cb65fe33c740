package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.MaterializationLimitException;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * torch's {@code t.to(dtype)} and {@code t.to(dtype).contiguous()} as the rebuild functions apply them to the tensors they are given: the
 * per-channel quantizer keeps its scales and zero points converted ({@code make_per_channel_affine_quantizer}),
 * and {@code sparse_coo_tensor} keeps its indices as int64. The tensor itself when it already has that dtype and
 * layout and no negative or conjugate bit (torch's math-bit fallback materialises those before the kernel sees
 * them); otherwise a fresh row-major copy of the logical values, which does not require grad (torch converts
 * below autograd), in fresh memory bounded by {@code LoadLimits.maxMaterializedBytes}.
 */
final class TensorConversion {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorConversion() {
    }

    /** Whether torch's {@code isFloatingType} holds: the one-value-per-element floating dtypes. */
    static boolean floating(DType t) {
        return t.kind() == DType.Kind.FLOAT && t.valueBits() == 8 * t.elementSize();
    }

    /** Whether torch converts {@code t} to int64 ({@code .to(torch.long)}): integers, bool, floats and complex. */
    static boolean convertibleToLong(DType t) {
        return switch (t.kind()) {
            case INT, BOOL, COMPLEX -> t.valueBits() >= 8;
            case FLOAT -> floating(t);
            default -> false;
        };
    }

    /**
     * {@code t.to(target).contiguous()} (the per-channel quantizer's parameters): {@code target} is int64 (from any
     * dtype {@link #convertibleToLong}), or float64 or float32 (from a {@link #floating} dtype); the caller checked
     * the source dtype.
     *
     * @param what names the tensor in a message
     * @throws CheckpointException (a limit) if the copy does not fit {@code maxMaterializedBytes} or the heap
     */
    static Tensor contiguousAs(Tensor t, DType target, String what, CallSite site) throws CheckpointException {
        return converted(t, target, true, what, site);
    }

    /**
     * {@code t.to(target)} ({@code sparse_coo_tensor}'s indices), which keeps {@code preserve_format}: a converted
     * copy has the source's strides when the source is non-overlapping and dense (a stride of a dimension of size 1
     * included, whatever it is), else row-major ones. Dtypes as for {@link #contiguousAs}.
     *
     * @param what names the tensor in a message
     * @throws CheckpointException (a limit) if the copy does not fit {@code maxMaterializedBytes} or the heap
     */
    static Tensor convertedAs(Tensor t, DType target, String what, CallSite site) throws CheckpointException {
        return converted(t, target, false, what, site);
    }

    private static Tensor converted(Tensor t, DType target, boolean thenContiguous, String what, CallSite site)
            throws CheckpointException {
        if (t.dtype() == target && t.isContiguous() && !t.isNeg() && !t.isConj()) {
            return t;
        }
        long max = site.limits().maxMaterializedBytes();
        // held at once: the values read into an array and the result (and for complex the resolved copies)
        long bytes = MaterializationLimitException.bytes(t.numel(), 48);
        if (bytes > max) {
            throw site.limit("maxMaterializedBytes", max, what + " converted to " + target + " (" + t
                    + ") would take " + bytes + " bytes");
        }
        MemorySegment out;
        try {
            out = switch (target) {
                case INT64 -> {
                    long[] v = longs(t);
                    yield littleEndian(v, LE_LONG, v.length);
                }
                case FLOAT64 -> {
                    double[] v = t.toDoubleArray();
                    yield littleEndian(v, LE_DOUBLE, v.length);
                }
                case FLOAT32 -> {
                    float[] v = t.toFloatArray();
                    yield littleEndian(v, LE_FLOAT, v.length);
                }
                default -> throw new IllegalArgumentException("no conversion to " + target);
            };
        } catch (MaterializationLimitException e) {
            throw site.limit("maxMaterializedBytes", max, what + " converted to " + target + ": " + e.getMessage());
        }
        String key = t.storage().key() + " (as " + target + ")";
        Tensor rowMajor = Tensor.contiguousView(Storage.of(out, key, t.storage().location(), max), target, 0,
                t.shape());
        long[] strides = t.strides();
        // preserve_format keeps the strides of a non-overlapping, dense source (torch counts every contiguous
        // tensor as one, an empty one included); .contiguous() then keeps them only if they are contiguous (torch's
        // test, which ignores the stride of a dimension of size 1)
        boolean kept = t.isContiguous() || !thenContiguous && nonOverlappingAndDense(t.shape(), strides);
        if (!kept || Arrays.equals(strides, rowMajor.strides())) {
            return rowMajor;
        }
        Storage storage = Storage.of(scattered(out, target.elementSize(), t.shape(), strides), key,
                t.storage().location(), max);
        return Tensor.of(storage, target, 0, t.shape(), strides);
    }

    /**
     * torch's {@code is_non_overlapping_and_dense}: the dimensions of size 2 or more, ordered by stride, are laid
     * out as a row-major block of exactly their elements (so a copy with these strides fills its storage).
     */
    static boolean nonOverlappingAndDense(long[] shape, long[] strides) {
        int n = shape.length;
        if (n == 1) {
            return shape[0] < 2 || strides[0] == 1;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // torch's order: dimensions of size 0 or 1 last, the others by increasing stride
        Arrays.sort(order, (a, b) -> shape[a] < 2 ? (shape[b] < 2 ? 0 : 1) : shape[b] < 2 ? -1
                : Long.compare(strides[a], strides[b]));
        long required = 1;
        for (int d : order) {
            if (shape[d] < 2) {
                return true;
            }
            if (strides[d] != required) {
                return false;
            }
            required *= shape[d]; // at most the element count
        }
        return true;
    }

    /**
     * Row-major elements placed at their strided places: for a non-overlapping, dense layout the places are a
     * permutation of the row-major ones, so the result has as many bytes as {@code rowMajor}.
     */
    private static MemorySegment scattered(MemorySegment rowMajor, int elementSize, long[] shape, long[] strides) {
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(rowMajor.byteSize())]);
        long count = rowMajor.byteSize() / elementSize;
        long[] index = new long[shape.length];
        long place = 0;
        for (long i = 0; i < count; i++) {
            MemorySegment.copy(rowMajor, i * elementSize, out, place * elementSize, elementSize);
            for (int d = shape.length - 1; d >= 0; d--) { // the next row-major index, and its place
                if (++index[d] < shape[d]) {
                    place += strides[d];
                    break;
                }
                place -= (shape[d] - 1) * strides[d];
                index[d] = 0;
            }
        }
        return out;
    }

    /** The logical values as int64, row-major, as torch's casts compute them. */
    private static long[] longs(Tensor t) {
        DType d = t.dtype();
        if (d.kind() == DType.Kind.INT || d.kind() == DType.Kind.BOOL) {
            return t.toLongArray(); // uint64 keeps its bits, as static_cast<int64_t> does
        }
        if (d.kind() == DType.Kind.FLOAT) {
            double[] v = t.toDoubleArray();
            long[] out = new long[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = truncate(v[i]);
            }
            return out;
        }
        // complex: the real part (the conjugate bit leaves it alone, the negative bit negates it)
        Tensor plain = t.resolveConjAndNeg().contiguous();
        MemorySegment bytes = plain.contiguousBytes();
        int es = d.elementSize();
        long[] out = new long[Math.toIntExact(plain.numel())];
        for (int i = 0; i < out.length; i++) {
            long at = (long) i * es;
            double real = switch (d) {
                case COMPLEX32 -> Float.float16ToFloat(bytes.get(LE_SHORT, at));
                case COMPLEX64 -> bytes.get(LE_FLOAT, at);
                default -> bytes.get(LE_DOUBLE, at);
            };
            out[i] = truncate(real);
        }
        return out;
    }

    /** The array's elements as little-endian bytes, the byte order of storages whatever the host's. */
    private static MemorySegment littleEndian(Object array, ValueLayout layout, int length) {
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(layout.byteSize() * length)]);
        MemorySegment.copy(array, 0, out, layout, 0, length);
        return out;
    }

    /**
     * A floating value cast to int64 as torch's CPU kernels do on x86-64 ({@code cvttsd2si}): towards zero, and
     * NaN or a value outside the int64 range gives the "integer indefinite" value, {@code Long.MIN_VALUE}
     * (Java's cast would saturate instead). Checked with PyTorch 2.6: NaN, 1e30 and -1e30 all give -2^63.
     */
    static long truncate(double v) {
        if (Double.isNaN(v) || v >= 0x1p63 || v < -0x1p63) {
            return Long.MIN_VALUE;
        }
        return (long) v;
    }
}
