package dev.weightsonly.tensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * An immutable strided view of a {@link Storage}, as a torch tensor is: a dtype, a shape, strides and
 * a storage offset (all counted in elements of the dtype), plus the {@code requires_grad} flag and
 * torch's lazy conjugate and negative bits.
 *
 * <p>Creating a view never copies, and every view is validated against its storage when created
 * ({@link #of}), so element reads can never leave the storage. PyTorch's views of a view are here too:
 * {@link #select}, {@link #narrow} and {@link #reshape} (which copies only where PyTorch's does), with negative
 * dimensions and indices as PyTorch takes them, and {@link #item()} reads a one-element tensor. Reads return
 * torch's <em>logical</em> values: the negative bit negates every value and the conjugate bit negates imaginary
 * parts. The raw byte accessors ({@link #contiguousBytes()}, {@link #toByteArray()}) return the stored bytes,
 * bits not applied; {@link #resolveConjAndNeg()} materialises the logical values, and {@link #blocks(long)} walks
 * their bytes in bounded blocks (zero-copy where the view is contiguous).
 *
 * <p>For native libraries and {@code java.nio} APIs: {@link #asByteBuffer()} is a zero-copy read-only
 * little-endian buffer of a contiguous tensor (not big-endian, as {@code contiguousBytes().asByteBuffer()}
 * would be), {@link #asFloatBuffer()} and the other typed buffers view the storage where its bytes are the
 * values and copy otherwise, and {@link #copyTo(MemorySegment)} and {@code copyTo(float[], int)} ... write the
 * values into the caller's memory.
 *
 * <p>{@code equals} and {@code hashCode} are identity: a view is not a value. Two views with equal
 * geometry over two storages are different tensors, and comparing contents would mean reading
 * arbitrarily large (possibly mapped) data. Compare {@link #storage()} identity and geometry, or
 * contents via the bulk accessors, explicitly.
 *
 * <p>Instances are immutable and thread-safe, within what the storage segment's scope allows: once a
 * checkpoint is closed, every read of its tensors throws {@link IllegalStateException}. Operations that
 * materialise values in fresh memory check the memory they need against the storage's
 * {@link Storage#maxMaterializedBytes()} and the heap before allocating anything
 * ({@link MaterializationLimitException}).
 */
public final class Tensor {
    private static final ValueLayout.OfShort LE_SHORT = Float16.LE_SHORT;
    private static final ValueLayout.OfInt LE_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]).asReadOnly();

    private final Storage storage;
    private final MemorySegment data;
    private final DType dtype;
    private final long storageOffset;
    private final long[] shape;
    private final long[] strides;
    private final long numel;
    private final boolean contiguous;
    private final boolean requiresGrad;
    private final boolean conj;
    private final boolean neg;
    private final Quantizer quantizer;

    private Tensor(Storage storage, DType dtype, long storageOffset, long[] shape, long[] strides, long numel,
                   boolean requiresGrad, boolean conj, boolean neg) {
        this(storage, dtype, storageOffset, shape, strides, numel, requiresGrad, conj, neg, null);
    }

    private Tensor(Storage storage, DType dtype, long storageOffset, long[] shape, long[] strides, long numel,
                   boolean requiresGrad, boolean conj, boolean neg, Quantizer quantizer) {
        this.storage = storage;
        this.data = storage.bytes();
        this.dtype = dtype;
        this.storageOffset = storageOffset;
        this.shape = shape;
        this.strides = strides;
        this.numel = numel;
        this.contiguous = computeContiguous(numel, shape, strides);
        this.requiresGrad = requiresGrad;
        this.conj = conj;
        this.neg = neg;
        this.quantizer = quantizer;
    }

    // ---------------------------------------------------------------------------------------------
    // Creation and validation

    /**
     * A view of {@code storage} as torch's {@code set_(storage, storageOffset, shape, strides)} makes
     * it, validated first: the shape and strides must have the same rank, sizes, strides and the
     * offset must be non-negative (torch has no negative strides), the element count and byte size
     * must fit a {@code long}, and unless the view is empty its last element
     * {@code storageOffset + Σ (size_i - 1) * stride_i} must lie inside the storage. Stride 0 is legal
     * (expanded tensors); an empty view needs no capacity, whatever its offset. The arrays are copied.
     * (Named {@code of}, not {@code view}: in PyTorch {@code view} reshapes an existing tensor.)
     *
     * <p>The packed quantized dtypes ({@link DType#QUINT4X2}, {@link DType#QUINT2X4}) count their shape in values
     * but their offset in bytes, and torch stores their values packed in row-major order from the offset, two or
     * four to a byte (the first value in the low bits), whatever the strides say: such a view needs
     * {@code ceil(numel * bits / 8)} bytes from its offset (what torch's {@code int_repr()} and
     * {@code dequantize()} read), and its strides are kept as given.
     *
     * @param storage the storage to view; shared, not copied
     * @param dtype the element type, whose {@link DType#elementSize()} is the unit of offset and strides
     * @param storageOffset the index of the first element in the storage, in elements
     * @param shape the size of each dimension; an empty array makes a scalar (one element)
     * @param strides the step between neighbours along each dimension, in elements
     * @return the validated view, with {@code requires_grad}, conjugate and negative bits clear
     * @throws NullPointerException if any argument is null
     * @throws InvalidViewException if the claimed geometry does not fit, saying what was claimed and
     *     what was found
     */
    public static Tensor of(Storage storage, DType dtype, long storageOffset, long[] shape, long[] strides) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(dtype, "dtype");
        long[] size = copy(Objects.requireNonNull(shape, "shape"));
        long[] stride = copy(Objects.requireNonNull(strides, "strides"));
        long numel = validate(storage, dtype, storageOffset, size, stride);
        return new Tensor(storage, dtype, storageOffset, size, stride, numel, false, false, false);
    }

    // A tensor never changes its shape and strides arrays (its accessors hand out copies), so tensors may share
    // them: every scalar shares one empty array (an optimizer state holds a scalar step per parameter), and every
    // one-dimensional tensor of fewer than ONE_DIMENSION elements, or stride, one array of its value (every 1-d
    // tensor's stride is {1}; biases, norms and their optimizer moments are short vectors). Fewer objects live as
    // long as the tensors: a load of many small tensors is dominated by the collector copying them.
    private static final long[] NO_DIMENSIONS = {};
    private static final int ONE_DIMENSION = 1024;
    private static final long[][] ONE_DIMENSIONAL = new long[ONE_DIMENSION][];

    static {
        for (int i = 0; i < ONE_DIMENSION; i++) {
            ONE_DIMENSIONAL[i] = new long[] {i};
        }
    }

    private static long[] copy(long[] dims) {
        if (dims.length == 0) {
            return NO_DIMENSIONS;
        }
        if (dims.length == 1 && dims[0] >= 0 && dims[0] < ONE_DIMENSION) {
            return ONE_DIMENSIONAL[(int) dims[0]];
        }
        return dims.clone();
    }

    /**
     * A row-major (C-contiguous) view of {@code shape} starting at {@code storageOffset}, with torch's
     * contiguous strides (a size-0 dimension counts as 1 when computing outer strides).
     *
     * @param storage the storage to view; shared, not copied
     * @param dtype the element type
     * @param storageOffset the index of the first element in the storage, in elements
     * @param shape the size of each dimension; none makes a scalar
     * @return the validated view
     * @throws InvalidViewException as {@link #of}
     */
    public static Tensor contiguousView(Storage storage, DType dtype, long storageOffset, long... shape) {
        long[] size = shape.clone();
        checkSizes(size);
        long[] stride = rowMajorStrides(size);
        return of(storage, dtype, storageOffset, size, stride);
    }

    private static long validate(Storage storage, DType dtype, long offset, long[] shape, long[] strides) {
        if (shape.length != strides.length) {
            throw invalid("shape %s has %d dimensions but strides %s has %d",
                    Arrays.toString(shape), shape.length, Arrays.toString(strides), strides.length);
        }
        checkSizes(shape);
        for (int d = 0; d < strides.length; d++) {
            if (strides[d] < 0) {
                throw invalid("stride %d of dimension %d in strides %s is negative; torch has no negative strides",
                        strides[d], d, Arrays.toString(strides));
            }
        }
        if (offset < 0) {
            throw invalid("storage offset %d is negative", offset);
        }
        int elementSize = dtype.elementSize();
        long numel = 1;
        try {
            for (long size : shape) {
                numel = Math.multiplyExact(numel, size);
            }
            Math.multiplyExact(numel, elementSize);
        } catch (ArithmeticException overflow) {
            if (Arrays.stream(shape).noneMatch(size -> size == 0)) {
                throw invalid("shape %s of %s has more than %d bytes of elements",
                        Arrays.toString(shape), dtype, Long.MAX_VALUE);
            }
            numel = 0; // an empty tensor, however large its other sizes
        }
        if (numel == 0) {
            return 0;
        }
        if (packed(dtype)) {
            long bytes = packedBytes(numel, dtype);
            if (bytes > storage.byteSize() || offset > storage.byteSize() - bytes) {
                throw invalid("view (shape %s, strides %s) of %d packed %s values needs %d elements of %s (%d bytes)"
                                + " from offset %d, %d bytes in all, but storage '%s' holds %d bytes",
                        Arrays.toString(shape), Arrays.toString(strides), numel, dtype, bytes, dtype, bytes, offset,
                        offset + Math.min(bytes, Long.MAX_VALUE - offset), storage.key(), storage.byteSize());
            }
            return numel;
        }
        long last;
        long neededBytes;
        try {
            last = offset;
            for (int d = 0; d < shape.length; d++) {
                last = Math.addExact(last, Math.multiplyExact(shape[d] - 1, strides[d]));
            }
            neededBytes = Math.multiplyExact(Math.addExact(last, 1), elementSize);
        } catch (ArithmeticException overflow) {
            throw invalid("view (shape %s, strides %s) from offset %d reaches beyond %d bytes of %s",
                    Arrays.toString(shape), Arrays.toString(strides), offset, Long.MAX_VALUE, dtype);
        }
        if (neededBytes > storage.byteSize()) {
            long span = last - offset + 1;
            throw invalid("view (shape %s, strides %s) needs %d element%s of %s (%d bytes) from offset %d,"
                            + " %d bytes in all, but storage '%s' holds %d bytes",
                    Arrays.toString(shape), Arrays.toString(strides), span, span == 1 ? "" : "s", dtype,
                    span * elementSize, offset,
                    neededBytes, storage.key(), storage.byteSize());
        }
        return numel;
    }

    private static void checkSizes(long[] shape) {
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw invalid("size %d of dimension %d in shape %s is negative",
                        shape[d], d, Arrays.toString(shape));
            }
        }
    }

    /** The packed quantized dtypes: several values to a storage byte, laid out by value, not by stride. */
    private static boolean packed(DType t) {
        return t.kind() == DType.Kind.QUANTIZED && t.valueBits() < 8;
    }

    /** {@code ceil(numel * bits / 8)} without overflow: the bytes {@code numel} packed values take. */
    private static long packedBytes(long numel, DType t) {
        long perByte = 8 / t.valueBits();
        return numel / perByte + (numel % perByte == 0 ? 0 : 1);
    }

    /** torch's contiguous strides: each is the product of the later sizes, a size 0 counting as 1. */
    private static long[] rowMajorStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long step = 1;
        try {
            for (int d = shape.length - 1; d >= 0; d--) {
                strides[d] = step;
                if (d > 0) { // the outermost size steps over nothing
                    step = Math.multiplyExact(step, Math.max(shape[d], 1));
                }
            }
        } catch (ArithmeticException overflow) {
            throw invalid("shape %s is too large for row-major strides", Arrays.toString(shape));
        }
        return strides;
    }

    private static InvalidViewException invalid(String format, Object... args) {
        return new InvalidViewException(String.format(format, args));
    }

    /** torch's rule: ignoring size-1 dimensions, the strides are the row-major ones; empty is contiguous. */
    private static boolean computeContiguous(long numel, long[] shape, long[] strides) {
        if (numel == 0) {
            return true;
        }
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1) {
                if (strides[d] != expected) {
                    return false;
                }
                expected *= shape[d]; // bounded by numel
            }
        }
        return true;
    }

    // ---------------------------------------------------------------------------------------------
    // Flags

    /**
     * This view with {@code requires_grad} set as given (stored only; nothing here computes gradients), so that
     * a round trip through a writer keeps the flag torch saved.
     *
     * @param requiresGrad the flag to record
     * @return this tensor if the flag already has that value, else a view that differs only in the flag
     */
    public Tensor withRequiresGrad(boolean requiresGrad) {
        return requiresGrad == this.requiresGrad ? this
                : new Tensor(storage, dtype, storageOffset, shape, strides, numel, requiresGrad, conj, neg, quantizer);
    }

    /**
     * This view with torch's conjugate bit set as given: reads then negate imaginary parts.
     *
     * @param conj whether the view reads as the complex conjugate of its stored values
     * @return this tensor if the bit already has that value, else a view that differs only in the bit
     * @throws IllegalArgumentException when setting the bit on a non-complex dtype
     */
    public Tensor withConj(boolean conj) {
        if (conj && dtype.kind() != DType.Kind.COMPLEX) {
            throw new IllegalArgumentException("the conjugate bit needs a complex dtype, not " + dtype);
        }
        return conj == this.conj ? this
                : new Tensor(storage, dtype, storageOffset, shape, strides, numel, requiresGrad, conj, neg, quantizer);
    }

    /**
     * This view with torch's negative bit set as given: reads then negate every value (integers wrap,
     * as torch's negation does).
     *
     * @param neg whether the view reads as the negation of its stored values
     * @return this tensor if the bit already has that value, else a view that differs only in the bit
     * @throws IllegalArgumentException when setting the bit on a dtype without a negation: bool, bits,
     *     quantized, packed and placeholder dtypes, and the unsigned float8_e8m0fnu
     */
    public Tensor withNeg(boolean neg) {
        if (neg && !negatable(dtype)) {
            throw new IllegalArgumentException("the negative bit is not supported for " + dtype);
        }
        return neg == this.neg ? this
                : new Tensor(storage, dtype, storageOffset, shape, strides, numel, requiresGrad, conj, neg, quantizer);
    }

    /**
     * This view of a quantized dtype with its quantizer, which says how its integers map to real values.
     *
     * @param quantizer the scale and zero point (per tensor or per channel) to dequantize with
     * @return a view that differs from this one only in its quantizer
     * @throws NullPointerException if {@code quantizer} is null
     * @throws IllegalArgumentException if the dtype is not quantized, or a per-channel quantizer's axis is
     *     outside the shape or its scales and zero points do not have one entry per index along it
     */
    public Tensor withQuantizer(Quantizer quantizer) {
        Objects.requireNonNull(quantizer, "quantizer");
        if (dtype.kind() != DType.Kind.QUANTIZED) {
            throw new IllegalArgumentException("a quantizer needs a quantized dtype, not " + dtype);
        }
        if (quantizer instanceof Quantizer.PerChannelAffine pc) {
            if (pc.axis() < 0 || pc.axis() >= shape.length) {
                throw new IllegalArgumentException("quantization axis " + pc.axis() + " is outside a tensor of "
                        + shape.length + " dimensions");
            }
            long channels = shape[pc.axis()];
            if (pc.scales().dim() != 1 || pc.zeroPoints().dim() != 1 || pc.scales().numel() != channels
                    || pc.zeroPoints().numel() != channels) {
                throw new IllegalArgumentException("per-channel quantization along axis " + pc.axis() + " needs "
                        + channels + " scales and zero points, got shapes " + Arrays.toString(pc.scales().shape())
                        + " and " + Arrays.toString(pc.zeroPoints().shape()));
            }
            if (pc.scales().dtype().kind() != DType.Kind.FLOAT || pc.zeroPoints().dtype().kind() == DType.Kind.COMPLEX) {
                throw new IllegalArgumentException("per-channel scales must be floating point and zero points real,"
                        + " got " + pc.scales().dtype() + " and " + pc.zeroPoints().dtype());
            }
        }
        return new Tensor(storage, dtype, storageOffset, shape, strides, numel, requiresGrad, conj, neg, quantizer);
    }

    /**
     * How this tensor's integer codes map to real values, for callers that dequantize themselves.
     *
     * @return the quantizer of a quantized tensor; empty for every other tensor
     */
    public java.util.Optional<Quantizer> quantizer() {
        return java.util.Optional.ofNullable(quantizer);
    }

    /**
     * The real values of a quantized tensor as a float32 tensor in fresh memory, computed as torch's CPU
     * kernels do, bit for bit: per tensor {@code ((float) q - zero_point) * (float) scale} in float; per
     * channel {@code (float) (((float) q - zero_point) * scale)} with the scale a double (float qparams:
     * {@code ((float) q - zero_point) * scale} all in float, the parameters rounded to float as ATen's
     * quantizer stores them). The two kernels round differently, and matching torch means following each.
     * The codes of the packed dtypes are unpacked first (see {@link #toLongArray()}).
     *
     * @return a contiguous float32 tensor of this shape in a fresh storage, flags cleared
     * @throws IllegalStateException if this tensor has no quantizer, if a zero point lies outside the range of the
     *     codes' integer type, if it is a packed (quint4x2, quint2x4) view that is not contiguous or has integer
     *     per-channel zero points (torch's kernels refuse all three), or after the storage's memory was released
     *     (its checkpoint closed)
     * @throws MaterializationLimitException if the codes, parameters and result held at once (12 bytes per
     *     element, 8 or 16 per channel) exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before anything is read
     */
    public Tensor dequantize() {
        if (quantizer == null) {
            throw new IllegalStateException("dequantize() needs a quantized tensor with a quantizer, not " + dtype);
        }
        if (packed(dtype)) {
            requirePackedContiguous("dequantize()");
            if (quantizer instanceof Quantizer.PerChannelAffine pc && !pc.floatQParams()) {
                // torch 2.6: "dequantize_tensor_per_channel_affine" not implemented for 'QUInt4x2'
                throw new IllegalStateException("dequantize() of packed " + dtype + " with integer per-channel zero"
                        + " points, which torch does not implement either: " + this);
            }
        }
        // Held at once: the codes as longs, the float32 result, and the per-channel parameters.
        long channels = quantizer instanceof Quantizer.PerChannelAffine pc ? shape[pc.axis()] : 0;
        checkMaterialized("dequantize()", MaterializationLimitException.bytes(numel, Long.BYTES + Float.BYTES,
                channels, 2 * Double.BYTES));
        MaterializationLimitException.checkArrayLength("dequantize()", this, MaterializationLimitException.bytes(
                numel, Float.BYTES));
        if (quantizer instanceof Quantizer.PerTensorAffine pt) {
            checkZeroPoint(pt.zeroPoint(), "per_tensor");
        }
        long[] q = toLongArray();
        MemorySegment out = MemorySegment.ofArray(new byte[Float.BYTES * q.length]);
        switch (quantizer) {
            case Quantizer.PerTensorAffine pt -> {
                float zeroPoint = (float) pt.zeroPoint();
                float scale = (float) pt.scale();
                for (int i = 0; i < q.length; i++) {
                    out.setAtIndex(LE_FLOAT, i, ((float) q[i] - zeroPoint) * scale);
                }
            }
            case Quantizer.PerChannelAffine pc -> {
                // The channel of element i (row-major) is (i / inner) % channels; the parameters are read once.
                long inner = 1;
                for (int d = pc.axis() + 1; d < shape.length; d++) {
                    inner *= shape[d];
                }
                if (pc.floatQParams()) {
                    float[] scales = pc.scales().toFloatArray();
                    float[] zeroPoints = pc.zeroPoints().toFloatArray();
                    for (int i = 0; i < q.length; i++) {
                        int c = (int) (i / inner % channels);
                        out.setAtIndex(LE_FLOAT, i, ((float) q[i] - zeroPoints[c]) * scales[c]);
                    }
                } else {
                    double[] scales = pc.scales().toDoubleArray();
                    long[] zeroPoints = pc.zeroPoints().toLongArray();
                    for (long zeroPoint : zeroPoints) {
                        checkZeroPoint(zeroPoint, "per_channel");
                    }
                    for (int i = 0; i < q.length; i++) {
                        int c = (int) (i / inner % channels);
                        out.setAtIndex(LE_FLOAT, i, (float) (((float) q[i] - (float) zeroPoints[c]) * scales[c]));
                    }
                }
            }
        }
        return new Tensor(freshStorage(out, "dequantized"), DType.FLOAT32, 0, shape, rowMajorStrides(shape), numel,
                false, false, false);
    }

    /**
     * torch's dequantize kernels refuse a zero point outside the range of the codes' underlying integer type
     * (checked with PyTorch 2.6: a quint8 zero point of 300 or -1 is built, then refused by dequantize()).
     */
    private void checkZeroPoint(long zeroPoint, String scheme) {
        int bits = 8 * dtype.elementSize();
        long min = dtype.isSigned() ? -(1L << (bits - 1)) : 0;
        long max = dtype.isSigned() ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
        if (zeroPoint < min || zeroPoint > max) {
            throw new IllegalStateException("dequantize_tensor_" + scheme + "_affine zero_point " + zeroPoint + " is "
                    + (zeroPoint < min ? "below lower" : "above upper") + " bound (" + dtype + " codes are " + min
                    + " to " + max + "): " + this);
        }
    }

    private static boolean negatable(DType t) {
        return switch (t.kind()) {
            case COMPLEX -> true;
            case FLOAT -> t.oneValuePerElement() && t != DType.FLOAT8_E8M0FNU;
            case INT -> t.oneValuePerElement();
            default -> false;
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Views as PyTorch makes them: select, narrow, reshape

    /**
     * The slice at {@code index} along {@code dim}, with that dimension removed: PyTorch's
     * {@code t.select(dim, index)}, {@code t[index]} for {@code dim} 0. A view of the same storage, never a
     * copy, with the same dtype and flags. Negative {@code dim} and {@code index} count from the end, as in
     * PyTorch ({@code select(-1, -1)} is the last element of the last dimension).
     *
     * @param dim the dimension to remove, {@code -dim()} to {@code dim() - 1}
     * @param index the position along it, {@code -size} to {@code size - 1}
     * @return the view
     * @throws IndexOutOfBoundsException if the tensor has no dimensions (a scalar), or {@code dim} or
     *     {@code index} is out of range (with PyTorch's message)
     * @throws IllegalStateException for a per-channel quantized tensor (PyTorch 2.6 gives its result a wrong
     *     quantization axis); {@link #dequantize()} first
     */
    public Tensor select(int dim, long index) {
        if (shape.length == 0) {
            throw new IndexOutOfBoundsException("select() cannot be applied to a 0-dim tensor");
        }
        int d = wrapDim(dim);
        long size = shape[d];
        if (index < -size || index >= size) {
            throw new IndexOutOfBoundsException("select(): index " + index + " out of range for tensor of size "
                    + Arrays.toString(shape) + " at dimension " + d);
        }
        if (quantizer instanceof Quantizer.PerChannelAffine) {
            throw new IllegalStateException("select() of a per-channel quantized tensor is not supported (PyTorch"
                    + " 2.6 gives the result a wrong quantization axis); dequantize() first: " + this);
        }
        long at = index < 0 ? index + size : index;
        long[] size2 = new long[shape.length - 1];
        long[] stride2 = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                size2[j] = shape[i];
                stride2[j++] = strides[i];
            }
        }
        return derived(offsetBy(at, strides[d], numel == 0), size2, stride2, quantizer);
    }

    /**
     * {@code length} positions of dimension {@code dim} from {@code start}: PyTorch's
     * {@code t.narrow(dim, start, length)}, {@code t[start:start + length]} for {@code dim} 0. A view of the
     * same storage, never a copy, with the same dtype and flags; a per-channel quantized tensor narrowed along
     * its axis keeps the scales and zero points of the positions kept. Negative {@code dim} and {@code start}
     * count from the end, as in PyTorch.
     *
     * @param dim the dimension to narrow, {@code -dim()} to {@code dim() - 1}
     * @param start the first position kept, {@code -size} to {@code size}
     * @param length how many positions to keep, at least 0
     * @return the view
     * @throws IndexOutOfBoundsException if {@code dim} or {@code start} is out of range (with PyTorch's
     *     message)
     * @throws IllegalArgumentException if the tensor has no dimensions (a scalar), {@code length} is negative,
     *     or {@code start + length} exceeds the size of the dimension
     */
    public Tensor narrow(int dim, long start, long length) {
        if (shape.length == 0) {
            throw new IllegalArgumentException("narrow() cannot be applied to a 0-dim tensor");
        }
        if (length < 0) {
            throw new IllegalArgumentException("narrow(): length must be non-negative");
        }
        int d = wrapDim(dim);
        long size = shape[d];
        if (start < -size || start > size) {
            throw new IndexOutOfBoundsException("start out of range (expected to be in range of [" + -size + ", "
                    + size + "], but got " + start + ")");
        }
        long from = start < 0 ? start + size : start;
        if (length > size - from) {
            throw new IllegalArgumentException("start (" + from + ") + length (" + length
                    + ") exceeds dimension size (" + size + ")");
        }
        long[] size2 = shape.clone();
        size2[d] = length;
        Quantizer q = quantizer;
        if (q instanceof Quantizer.PerChannelAffine pc && pc.axis() == d) {
            q = new Quantizer.PerChannelAffine(pc.scales().narrow(0, from, length),
                    pc.zeroPoints().narrow(0, from, length), pc.axis(), pc.floatQParams());
        }
        return derived(offsetBy(from, strides[d], numel == 0 || length == 0), size2, strides, q);
    }

    /**
     * The same elements in row-major order under another shape: PyTorch's {@code t.reshape(shape)}. One size
     * may be {@code -1}, inferred from the others. When PyTorch's {@code view} would succeed (the elements
     * already lie so that some strides give the new shape, as for every contiguous tensor) the result is a
     * view of the same storage with those strides, exactly PyTorch's; otherwise (a transpose flattened, an
     * expanded dimension merged) it is, as in PyTorch, a row-major copy, made by {@link #contiguous()} and
     * bounded as it is. {@code storage() == result.storage()} tells which.
     *
     * @param shape the new sizes; their product must be {@link #numel()}
     * @return the view, or the copy
     * @throws IllegalArgumentException if the sizes do not multiply to {@link #numel()}, more than one is
     *     {@code -1}, one is below {@code -1}, or {@code -1} is ambiguous (with PyTorch's message)
     * @throws IllegalStateException for a per-channel quantized tensor given another shape (PyTorch 2.6 keeps
     *     its quantization axis whatever the new shape); {@link #dequantize()} first
     * @throws MaterializationLimitException if a copy is needed and exceeds the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before copying
     */
    public Tensor reshape(long... shape) {
        long[] size = inferShape(Objects.requireNonNull(shape, "shape"));
        if (quantizer instanceof Quantizer.PerChannelAffine && !Arrays.equals(size, this.shape)) {
            throw new IllegalStateException("reshape() of a per-channel quantized tensor is not supported (PyTorch"
                    + " 2.6 keeps its quantization axis whatever the new shape); dequantize() first: " + this);
        }
        long[] stride = numel == 0 ? rowMajorStrides(size) : viewStrides(size);
        if (stride != null) {
            return derived(storageOffset, size, stride, quantizer);
        }
        Tensor copy = contiguous();
        return copy.derived(copy.storageOffset, size, rowMajorStrides(size), quantizer);
    }

    /** {@code dim} counted from the end when negative, as PyTorch wraps it; checked against {@link #dim()}. */
    private int wrapDim(int dim) {
        int rank = shape.length;
        if (dim < -rank || dim >= rank) {
            throw new IndexOutOfBoundsException("Dimension out of range (expected to be in range of [" + -rank
                    + ", " + (rank - 1) + "], but got " + dim + ")");
        }
        return dim < 0 ? dim + rank : dim;
    }

    /**
     * {@link #storageOffset()} moved {@code steps} elements of {@code stride}. Inside a non-empty view it cannot
     * overflow (every position reached lies in the storage); an empty result reads nothing, so where its offset
     * would overflow it keeps this one.
     */
    private long offsetBy(long steps, long stride, boolean emptyResult) {
        try {
            return Math.addExact(storageOffset, Math.multiplyExact(steps, stride));
        } catch (ArithmeticException overflow) {
            if (emptyResult) {
                return storageOffset;
            }
            throw new AssertionError("a position inside a validated view overflowed", overflow);
        }
    }

    /** A view of this storage with this tensor's dtype and flags, validated as {@link #of} validates. */
    private Tensor derived(long offset, long[] size, long[] stride, Quantizer q) {
        long n = validate(storage, dtype, offset, size, stride);
        return new Tensor(storage, dtype, offset, size, stride, n, requiresGrad, conj, neg, q);
    }

    /** The sizes {@code requested} stands for, its {@code -1} inferred, refused with PyTorch's messages. */
    private long[] inferShape(long[] requested) {
        long[] size = requested.clone();
        int inferred = -1;
        long known = 1;
        boolean overflow = false;
        for (int d = 0; d < size.length; d++) {
            if (size[d] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("only one dimension can be inferred");
                }
                inferred = d;
            } else if (size[d] < 0) {
                throw new IllegalArgumentException("invalid shape dimension " + size[d]);
            } else if (!overflow) {
                try {
                    known = Math.multiplyExact(known, size[d]);
                } catch (ArithmeticException tooLarge) {
                    overflow = true; // cannot equal numel, unless another size is 0
                }
            }
        }
        if (overflow && Arrays.stream(size).anyMatch(s -> s == 0)) {
            overflow = false;
            known = 0;
        }
        if (inferred >= 0) {
            if (known == 0 && numel == 0) {
                throw new IllegalArgumentException("cannot reshape tensor of 0 elements into shape "
                        + Arrays.toString(requested) + " because the unspecified dimension size -1 can be any value"
                        + " and is ambiguous");
            }
            if (!overflow && known != 0 && numel % known == 0) {
                size[inferred] = numel / known;
                return size;
            }
        } else if (!overflow && known == numel) {
            return size;
        }
        throw new IllegalArgumentException("shape '" + Arrays.toString(requested) + "' is invalid for input of size "
                + numel);
    }

    /**
     * Strides under which {@code newShape} walks this non-empty view's elements in row-major order without
     * moving them, or null if there are none (then reshaping copies). The old dimensions fall into chunks, each
     * a run of dimensions that together step evenly through memory (a size-1 dimension joins any chunk); each
     * new dimension, innermost first, must fall inside one chunk, stepping by the chunk's innermost stride times
     * the sizes placed inside it before. New size-1 dimensions join the chunk being filled. These are the strides
     * PyTorch's {@code view} gives, size-1 dimensions included.
     */
    private long[] viewStrides(long[] newShape) {
        long[] out = new long[newShape.length];
        int next = newShape.length - 1; // the innermost new dimension not yet placed
        int innermost = shape.length - 1;
        while (innermost >= 0) {
            long step = strides[innermost];
            long chunk = shape[innermost];
            int outermost = innermost;
            while (outermost > 0 && (shape[outermost - 1] == 1 || stepsOver(strides[outermost - 1], chunk, step))) {
                outermost--;
                chunk *= shape[outermost]; // bounded by numel
            }
            long placed = 1;
            while (next >= 0 && (placed < chunk || newShape[next] == 1)) {
                try {
                    out[next] = Math.multiplyExact(placed, step);
                } catch (ArithmeticException overflow) {
                    return null; // a stride no long holds: copy instead
                }
                placed *= newShape[next]; // at most chunk, or times 1
                next--;
            }
            if (placed != chunk) {
                return null;
            }
            innermost = outermost - 1;
        }
        return next < 0 ? out : null;
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors

    /**
     * The storage viewed, shared with every other view of it: two tensors that shared memory in torch return the
     * same instance.
     *
     * @return the storage; never null
     */
    public Storage storage() {
        return storage;
    }

    /**
     * The element type, which decides how the bytes read and which getters apply.
     *
     * @return the dtype; never null
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The size of each dimension, as torch's {@code shape}.
     *
     * @return a fresh copy (changing it changes nothing here); empty for a scalar
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The step between neighbours along each dimension, as torch's {@code stride()}.
     *
     * @return a fresh copy, in elements of {@link #dtype()} (not bytes); empty for a scalar
     */
    public long[] strides() {
        return strides.clone();
    }

    /**
     * The size of one dimension, as torch's {@code size(dim)} without negative indexing.
     *
     * @param dim the dimension, 0-based
     * @return its size
     * @throws IndexOutOfBoundsException if {@code dim} is not in {@code 0..dim()-1}
     */
    public long size(int dim) {
        return shape[Objects.checkIndex(dim, shape.length)];
    }

    /**
     * The stride of one dimension, as torch's {@code stride(dim)} without negative indexing.
     *
     * @param dim the dimension, 0-based
     * @return its stride in elements
     * @throws IndexOutOfBoundsException if {@code dim} is not in {@code 0..dim()-1}
     */
    public long stride(int dim) {
        return strides[Objects.checkIndex(dim, strides.length)];
    }

    /**
     * The number of dimensions, which is how many indices the element getters take.
     *
     * @return the rank; 0 for a scalar
     */
    public int dim() {
        return shape.length;
    }

    /**
     * The number of elements, as torch's {@code numel()}.
     *
     * @return the product of the sizes: 1 for a scalar, 0 if any size is 0
     */
    public long numel() {
        return numel;
    }

    /**
     * Where the view starts in its storage, as torch's {@code storage_offset()}.
     *
     * @return the index of the first element in the storage, in elements of {@link #dtype()} (not bytes)
     */
    public long storageOffset() {
        return storageOffset;
    }

    /**
     * The {@code requires_grad} flag torch saved; informational, as nothing here trains.
     *
     * @return true if the tensor was saved as requiring gradients (a parameter saved outside a state dict)
     */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * Whether torch's lazy conjugate bit is set: the element getters and bulk copies apply it, the raw byte
     * accessors do not.
     *
     * @return true if imaginary parts read negated
     */
    public boolean isConj() {
        return conj;
    }

    /**
     * Whether torch's lazy negative bit is set: the element getters and bulk copies apply it, the raw byte
     * accessors do not.
     *
     * @return true if every value reads negated
     */
    public boolean isNeg() {
        return neg;
    }

    /**
     * The bytes of the logical data: {@code numel() * dtype().elementSize()} (which {@link #of} ensures fits a
     * long), and for the packed quantized dtypes the packed bytes, {@code ceil(numel * bits / 8)}.
     *
     * @return the byte count
     */
    public long byteSize() {
        return packed(dtype) ? packedBytes(numel, dtype) : numel * dtype.elementSize();
    }

    /**
     * Whether the elements lie row-major and gap-free from the offset (torch's {@code is_contiguous()}), that is
     * whether {@link #contiguousBytes()} can hand them out without copying.
     *
     * @return true for a contiguous view; sizes of 1 are ignored, and an empty view is contiguous
     */
    public boolean isContiguous() {
        return contiguous;
    }

    // ---------------------------------------------------------------------------------------------
    // Raw bytes and copies

    /**
     * The view's bytes as a read-only slice of the storage, without copying. These are the stored
     * bytes: the conjugate and negative bits are not applied (see {@link #resolveConjAndNeg()}).
     *
     * @return {@link #byteSize()} little-endian bytes in row-major order, valid while the storage is
     * @throws IllegalStateException if the view is not contiguous (see {@link #contiguous()})
     */
    public MemorySegment contiguousBytes() {
        if (!contiguous) {
            throw new IllegalStateException("not contiguous: " + this + "; contiguous() makes a contiguous copy");
        }
        return numel == 0 ? EMPTY : data.asSlice(storageOffset * dtype.elementSize(), byteSize());
    }

    /**
     * This view if contiguous, else a row-major copy into a fresh storage with the same dtype and flags.
     *
     * @return a contiguous tensor with the same values, this one if no copy is needed
     * @throws MaterializationLimitException if the copy ({@link #byteSize()}) exceeds the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before copying
     * @throws IllegalStateException if the storage's memory was released (its checkpoint closed), or for a
     *     non-contiguous view of a packed quantized dtype (quint4x2, quint2x4), which torch cannot copy either
     */
    public Tensor contiguous() {
        if (contiguous) {
            return this;
        }
        if (packed(dtype)) {
            // torch 2.6 has no copy kernel for them either ("copy_kernel" not implemented for 'QUInt4x2')
            throw new IllegalStateException("contiguous() of a non-contiguous packed " + dtype + " view: " + this);
        }
        checkMaterialized("contiguous()", byteSize());
        return new Tensor(freshStorage(rowMajorCopy(), "contiguous copy"), dtype, 0, shape, rowMajorStrides(shape),
                numel, requiresGrad, conj, neg, quantizer);
    }

    /**
     * This view if neither the conjugate nor the negative bit is set, else a contiguous copy whose
     * stored values are the logical ones (imaginary parts negated for conj, every value negated for
     * neg; bit-exact sign flips for floating point, wrapping negation for integers) with both bits
     * cleared.
     *
     * @return a tensor with the same logical values and neither bit set, this one if no copy is needed
     * @throws MaterializationLimitException if the copy exceeds the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before copying
     * @throws IllegalStateException if the storage's memory was released (its checkpoint closed)
     */
    public Tensor resolveConjAndNeg() {
        if (!conj && !neg) {
            return this;
        }
        checkMaterialized("resolveConjAndNeg()", byteSize());
        return new Tensor(freshStorage(logicalCopy(0, numel), "resolved copy"), dtype, 0, shape,
                rowMajorStrides(shape), numel, requiresGrad, false, false);
    }

    /**
     * The logical elements {@code [from, to)} in row-major order, in fresh writable memory: the stored bytes
     * with the negative bit (every value negated) and the conjugate bit (imaginary parts negated) applied.
     */
    private MemorySegment logicalCopy(long from, long to) {
        MemorySegment bytes = Storage.allocate((to - from) * dtype.elementSize());
        copyRawTo(from, to, bytes);
        applyConjAndNeg(bytes);
        return bytes;
    }

    /**
     * Turns the stored elements in {@code bytes} (row-major, whole elements) into the logical ones: imaginary
     * parts negated for the conjugate bit, every value negated for the negative bit.
     */
    private void applyConjAndNeg(MemorySegment bytes) {
        if (!conj && !neg) {
            return;
        }
        int es = dtype.elementSize();
        long end = bytes.byteSize();
        if (dtype.kind() == DType.Kind.COMPLEX) {
            DType component = componentType(dtype);
            int half = es / 2;
            for (long at = 0; at < end; at += es) {
                if (neg) {
                    write(bytes, at, half, negateRaw(component, read(bytes, at, half)));
                }
                if (neg != conj) {
                    write(bytes, at + half, half, negateRaw(component, read(bytes, at + half, half)));
                }
            }
        } else {
            for (long at = 0; at < end; at += es) {
                write(bytes, at, es, negateRaw(dtype, read(bytes, at, es)));
            }
        }
    }

    /** The stored elements, row-major, in fresh writable memory. */
    private MemorySegment rowMajorCopy() {
        MemorySegment fresh = Storage.allocate(byteSize());
        copyRawTo(0, numel, fresh);
        return fresh;
    }

    private Storage freshStorage(MemorySegment bytes, String what) {
        return Storage.of(bytes, storage.key() + " (" + what + ")", storage.location(), storage.maxMaterializedBytes());
    }

    /** Refuses, before any allocation, an operation that would hold {@code bytes} of fresh memory at once. */
    private void checkMaterialized(String operation, long bytes) {
        MaterializationLimitException.check(operation, this, bytes, storage.maxMaterializedBytes());
    }

    /**
     * One block of {@link #blocks(long)}: the logical bytes of consecutive elements in row-major order.
     *
     * @param firstElement the row-major index of the block's first element (of the packed quantized dtypes, the
     *     index of the first value whose bits the block's first byte holds)
     * @param bytes        the elements' bytes, little-endian at the dtype's element size, read-only
     */
    public record Block(long firstElement, MemorySegment bytes) {
    }

    /**
     * The view's logical bytes in row-major order, little-endian at the dtype's element size, in consecutive
     * blocks of at most {@code maxBlockBytes} (and at least one element): what a format without strides
     * (safetensors) stores, what a digest of the values reads, and what two tensors with equal values have in
     * common whatever their strides. The conjugate and negative bits are applied, as
     * {@link #resolveConjAndNeg()} applies them; every other dtype gives its stored bytes (quantized codes,
     * bits dtypes). The packed quantized dtypes (quint4x2, quint2x4) give their packed bytes from the offset,
     * {@link #byteSize()} of them, whatever the strides, as {@link #toByteArray()} does (torch's
     * {@code int_repr()}); their blocks are cut at bytes, not values.
     *
     * <p>Where the view is contiguous and has neither bit, every block is a slice of the storage, not a copy (so
     * is every block of a packed dtype); otherwise each block is copied into fresh memory when the iterator
     * reaches it, so a tensor of any size is walked holding one block at a time. Block {@code k} starts at element
     * {@code k * max(1, maxBlockBytes / elementSize)}: the blocks depend on the element count, the dtype and
     * {@code maxBlockBytes} only, never on the strides, so two tensors of one dtype and shape can be compared block
     * by block. An empty tensor has no blocks. Each call of {@link Iterable#iterator()} walks the view afresh.
     *
     * <p>The iterator's {@code next()} throws {@link MaterializationLimitException} if a block to copy exceeds
     * the storage's {@link Storage#maxMaterializedBytes()} or the heap, and {@link IllegalStateException} if
     * the storage's memory was released (its checkpoint closed).
     *
     * @param maxBlockBytes the most bytes a block holds (a block holds one element if an element is larger)
     * @return the blocks, in order, computed as they are iterated
     * @throws IllegalArgumentException if {@code maxBlockBytes} is not positive
     */
    public Iterable<Block> blocks(long maxBlockBytes) {
        if (maxBlockBytes < 1) {
            throw new IllegalArgumentException("maxBlockBytes must be positive, got " + maxBlockBytes);
        }
        boolean packed = packed(dtype);
        // The unit a block is cut at: an element, or a byte of packed values.
        int unitBytes = packed ? 1 : dtype.elementSize();
        long units = packed ? byteSize() : numel;
        long perBlock = Math.max(1, maxBlockBytes / unitBytes);
        boolean sliced = packed || contiguous && !conj && !neg;
        return () -> new Iterator<>() {
            private long next;

            @Override
            public boolean hasNext() {
                return next < units;
            }

            @Override
            public Block next() {
                if (next >= units) {
                    throw new NoSuchElementException();
                }
                long from = next;
                long to = from + Math.min(perBlock, units - from);
                MemorySegment bytes;
                if (sliced) {
                    // read-only, as the storage's bytes are
                    bytes = data.asSlice((storageOffset + from) * unitBytes, (to - from) * unitBytes);
                } else {
                    checkMaterialized("blocks()", (to - from) * unitBytes);
                    bytes = logicalCopy(from, to).asReadOnly();
                }
                next = to;
                return new Block(packed ? from * (8 / dtype.valueBits()) : from, bytes);
            }
        };
    }

    /**
     * The stored bytes of the elements in row-major order of the shape, little-endian,
     * {@link #byteSize()} long. The conjugate and negative bits are not applied. For the packed quantized
     * dtypes, the packed bytes from the offset, whatever the strides (torch's {@code int_repr()}).
     *
     * @return a fresh array the caller owns
     * @throws MaterializationLimitException if {@link #byteSize()} exceeds what a Java array can hold, the
     *     storage's {@link Storage#maxMaterializedBytes()} or the heap
     * @throws IllegalStateException if the storage's memory was released (its checkpoint closed)
     */
    public byte[] toByteArray() {
        checkMaterialized("toByteArray()", byteSize());
        MaterializationLimitException.checkArrayLength("toByteArray()", this, byteSize());
        byte[] out = new byte[(int) byteSize()];
        if (packed(dtype)) {
            MemorySegment.copy(packedSlice(), 0, MemorySegment.ofArray(out), 0, out.length);
        } else {
            copyRawTo(0, numel, MemorySegment.ofArray(out));
        }
        return out;
    }

    /** The packed bytes of a packed quantized view: {@link #byteSize()} bytes from its offset, whatever its strides. */
    private MemorySegment packedSlice() {
        return data.asSlice(storageOffset, byteSize());
    }

    /** Copies the stored elements {@code [from, to)} (row-major indices) to the start of {@code dst}. */
    private void copyRawTo(long from, long to, MemorySegment dst) {
        int es = dtype.elementSize();
        forEachRun(from, to, (first, length, stride, position) -> {
            if (stride == 1) {
                MemorySegment.copy(data, first * es, dst, position * es, length * es);
                return;
            }
            // A strided run (a transpose, an expanded dimension): one load and one store per element of its
            // size, rather than one bulk copy call per element.
            switch (es) {
                case 1 -> {
                    for (long i = 0; i < length; i++) {
                        dst.set(ValueLayout.JAVA_BYTE, position + i, data.get(ValueLayout.JAVA_BYTE, first + i * stride));
                    }
                }
                case 2 -> {
                    for (long i = 0; i < length; i++) {
                        dst.setAtIndex(LE_SHORT, position + i, data.getAtIndex(LE_SHORT, first + i * stride));
                    }
                }
                case 4 -> {
                    for (long i = 0; i < length; i++) {
                        dst.setAtIndex(LE_INT, position + i, data.getAtIndex(LE_INT, first + i * stride));
                    }
                }
                case 8 -> {
                    for (long i = 0; i < length; i++) {
                        dst.setAtIndex(LE_LONG, position + i, data.getAtIndex(LE_LONG, first + i * stride));
                    }
                }
                default -> {
                    for (long i = 0; i < length; i++) {
                        MemorySegment.copy(data, (first + i * stride) * es, dst, (position + i) * es, es);
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Buffers and copies into the caller's memory: what native libraries and java.nio APIs take. Every
    // buffer returned is read-only and, where it holds bytes, little-endian: the order of the data, not
    // the big-endian default of ByteBuffer and MemorySegment.asByteBuffer().

    /**
     * The view's bytes as a read-only little-endian {@link ByteBuffer}, without copying. Unlike
     * {@code contiguousBytes().asByteBuffer()}, which is big-endian whatever the data, its order is the data's,
     * so its typed reads ({@code getFloat}, {@code asFloatBuffer()}, ...) read the values; a complex tensor's
     * buffer holds real and imaginary parts in turn. The buffer is direct when the storage is off-heap (a
     * mapped file, or a checkpoint loaded from a stream or an array), so native code can take its address, and
     * wraps a heap array otherwise ({@link ByteBuffer#isDirect()} tells). It is valid as long as the storage's
     * memory: once the checkpoint is closed, reading it from Java throws {@link IllegalStateException}, and
     * native code must not use its address any more.
     *
     * @return the buffer: position 0, limit and capacity {@link #byteSize()}
     * @throws IllegalStateException if the view is not contiguous ({@link #contiguous()} copies it), has the
     *     conjugate or negative bit set (its stored bytes are not its values; {@link #resolveConjAndNeg()}
     *     copies them), or has more than {@code Integer.MAX_VALUE} bytes, more than a buffer holds
     *     ({@link #contiguousBytes()} gives any size; {@link #narrow} gives a part)
     */
    public ByteBuffer asByteBuffer() {
        if (conj || neg) {
            throw new IllegalStateException("asByteBuffer() gives the stored bytes, which are not the values of a"
                    + " tensor with the conjugate or negative bit set: call resolveConjAndNeg() first (a copy): "
                    + this);
        }
        if (byteSize() > Integer.MAX_VALUE) {
            throw new IllegalStateException("asByteBuffer() of " + byteSize() + " bytes: a ByteBuffer holds at most "
                    + Integer.MAX_VALUE + "; use contiguousBytes() (a MemorySegment of any size) or narrow(): "
                    + this);
        }
        return contiguousBytes().asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The logical values as a read-only {@link FloatBuffer}, row-major. A view of the storage, as
     * {@link #asByteBuffer()} is, when the dtype is float32, the view contiguous, its first element 4-byte
     * aligned and the negative bit clear; otherwise a copy, converted as {@link #toFloatArray()} converts
     * (float16, bfloat16, float8, integers, bool and quantized codes).
     *
     * @return the buffer: position 0, limit and capacity {@link #numel()}
     * @throws IllegalStateException as {@link #toFloatArray()}
     * @throws MaterializationLimitException if a copy is needed and exceeds what {@link #toFloatArray()} may
     *     allocate
     */
    public FloatBuffer asFloatBuffer() {
        ByteBuffer view = dtype == DType.FLOAT32 ? valueView() : null;
        return view != null ? view.asFloatBuffer() : FloatBuffer.wrap(toFloatArray()).asReadOnlyBuffer();
    }

    /**
     * The logical values as a read-only {@link DoubleBuffer}, row-major: a view of the storage when the dtype is
     * float64, the view contiguous, its first element 8-byte aligned and the negative bit clear; otherwise a
     * copy, converted as {@link #toDoubleArray()} converts.
     *
     * @return the buffer: position 0, limit and capacity {@link #numel()}
     * @throws IllegalStateException as {@link #toDoubleArray()}
     * @throws MaterializationLimitException if a copy is needed and exceeds what {@link #toDoubleArray()} may
     *     allocate
     */
    public DoubleBuffer asDoubleBuffer() {
        ByteBuffer view = dtype == DType.FLOAT64 ? valueView() : null;
        return view != null ? view.asDoubleBuffer() : DoubleBuffer.wrap(toDoubleArray()).asReadOnlyBuffer();
    }

    /**
     * The values as a read-only {@link LongBuffer}, row-major: a view of the storage when the dtype is int64 or
     * uint64 (its raw bits, as {@link #getLong} reads them), the view contiguous, its first element 8-byte
     * aligned and the negative bit clear; otherwise a copy, as {@link #toLongArray()}.
     *
     * @return the buffer: position 0, limit and capacity {@link #numel()}
     * @throws IllegalStateException as {@link #toLongArray()}
     * @throws MaterializationLimitException if a copy is needed and exceeds what {@link #toLongArray()} may
     *     allocate
     */
    public LongBuffer asLongBuffer() {
        ByteBuffer view = dtype == DType.INT64 || dtype == DType.UINT64 ? valueView() : null;
        return view != null ? view.asLongBuffer() : LongBuffer.wrap(toLongArray()).asReadOnlyBuffer();
    }

    /**
     * The values as a read-only {@link IntBuffer}, row-major: a view of the storage when the dtype is int32 or
     * qint32, the view contiguous, its first element 4-byte aligned and the negative bit clear; otherwise a
     * copy, as {@link #toIntArray()} (only for dtypes whose every value fits an int).
     *
     * @return the buffer: position 0, limit and capacity {@link #numel()}
     * @throws IllegalStateException as {@link #toIntArray()}
     * @throws MaterializationLimitException if a copy is needed and exceeds what {@link #toIntArray()} may
     *     allocate
     */
    public IntBuffer asIntBuffer() {
        ByteBuffer view = dtype == DType.INT32 || dtype == DType.QINT32 ? valueView() : null;
        return view != null ? view.asIntBuffer() : IntBuffer.wrap(toIntArray()).asReadOnlyBuffer();
    }

    /**
     * The 16-bit elements of a 2-byte dtype as a read-only {@link ShortBuffer}, row-major: the values of int16,
     * the bit patterns of uint16, float16 ({@link Float#float16ToFloat} decodes one), bfloat16
     * ({@link BFloat16#toFloat(short)}) and bits16, with the negative bit applied. What a native library that
     * takes half-precision data wants. A view of the storage when the view is contiguous, its first element
     * 2-byte aligned and the negative bit clear; otherwise a copy.
     *
     * @return the buffer: position 0, limit and capacity {@link #numel()}
     * @throws IllegalStateException for a dtype that is not 2 bytes, or a complex one, or after the storage's
     *     memory was released (its checkpoint closed)
     * @throws MaterializationLimitException if a copy is needed and exceeds the storage's
     *     {@link Storage#maxMaterializedBytes()}, the heap or a Java array, checked before allocating
     */
    public ShortBuffer asShortBuffer() {
        if (dtype.elementSize() != Short.BYTES || dtype.kind() == DType.Kind.COMPLEX) {
            throw unsuitable("asShortBuffer");
        }
        ByteBuffer view = valueView();
        return (view != null ? view : valueCopy("asShortBuffer()")).asShortBuffer();
    }

    /**
     * The view of the storage a typed buffer reads its values from: the bytes, when they are the values
     * (contiguous, neither bit set), fit a buffer and start aligned to the element size; else null.
     */
    private ByteBuffer valueView() {
        if (!contiguous || conj || neg || byteSize() > Integer.MAX_VALUE) {
            return null;
        }
        MemorySegment bytes = contiguousBytes();
        return bytes.address() % dtype.elementSize() != 0 ? null
                : bytes.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The logical bytes, row-major, in a fresh read-only little-endian buffer. */
    private ByteBuffer valueCopy(String operation) {
        checkMaterialized(operation, byteSize());
        MaterializationLimitException.checkArrayLength(operation, this, byteSize());
        byte[] out = new byte[(int) byteSize()];
        copyTo(MemorySegment.ofArray(out));
        // asReadOnlyBuffer() resets the order to big-endian, so the order is set after it
        return ByteBuffer.wrap(out).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Copies the logical elements, row-major and little-endian, into the first {@link #byteSize()} bytes of
     * {@code dst}, the caller's memory (native, or a heap array): the stored bytes with the conjugate and
     * negative bits applied, so {@code dst} holds what {@link #resolveConjAndNeg()} would. Works for any view,
     * contiguous or not, of any size; allocates nothing, so {@link Storage#maxMaterializedBytes()} does not
     * apply. {@code dst} must not overlap this tensor's storage.
     *
     * @param dst writable memory of at least {@link #byteSize()} bytes
     * @throws IndexOutOfBoundsException if {@code dst} is smaller than {@link #byteSize()}
     * @throws IllegalArgumentException if {@code dst} is read-only
     * @throws IllegalStateException if the storage's memory or {@code dst}'s was released, or {@code dst} may
     *     not be accessed from this thread
     */
    public void copyTo(MemorySegment dst) {
        Objects.requireNonNull(dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("copyTo(MemorySegment) needs writable memory, not a read-only segment");
        }
        if (dst.byteSize() < byteSize()) {
            throw new IndexOutOfBoundsException("copyTo(MemorySegment) of " + byteSize() + " bytes into a segment of "
                    + dst.byteSize() + ": " + this);
        }
        MemorySegment target = dst.asSlice(0, byteSize());
        if (packed(dtype)) {
            MemorySegment.copy(packedSlice(), 0, target, 0, byteSize()); // the bytes toByteArray() gives
            return;
        }
        copyRawTo(0, numel, target);
        applyConjAndNeg(target);
    }

    // ---------------------------------------------------------------------------------------------
    // Element reads. Indices are 0-based, one per dimension, no negative indexing.

    /**
     * The logical value at {@code index} as a double: floating dtypes decoded (float16, bfloat16,
     * float8), integers converted (uint64 as unsigned; int64 beyond 2^53 rounds, use
     * {@link #getLong}), bool as 0 or 1, quantized dtypes as their raw integer code.
     *
     * @param index one 0-based index per dimension (none for a scalar)
     * @return the value, with the negative bit applied
     * @throws IllegalStateException for complex, bits, packed and placeholder dtypes
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public double getDouble(long... index) {
        requireScalar("getDouble");
        return decodeDouble(dtype, logicalRaw(elementOffset(index) * dtype.elementSize()));
    }

    /**
     * As {@link #getDouble} but as a float, rounded once from the exact value.
     *
     * @param index one 0-based index per dimension (none for a scalar)
     * @return the value, with the negative bit applied
     * @throws IllegalStateException for complex, bits, packed and placeholder dtypes
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public float getFloat(long... index) {
        requireScalar("getFloat");
        return decodeFloat(dtype, logicalRaw(elementOffset(index) * dtype.elementSize()));
    }

    /**
     * The value at {@code index} as a long: integers sign- or zero-extended per
     * {@link DType#isSigned()} (uint64 returns its raw bits), bool as 0 or 1, quantized dtypes as the
     * raw code; for the packed quantized dtypes (quint4x2, quint2x4) the code of that value, unpacked (of a
     * contiguous view only). For placeholder and bits dtypes it is the whole storage element, unsigned.
     *
     * @param index one 0-based index per dimension (none for a scalar)
     * @return the value, with the negative bit applied (integers wrap)
     * @throws IllegalStateException for floating and complex dtypes, and a non-contiguous packed quantized view
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public long getLong(long... index) {
        requireInteger("getLong");
        if (packed(dtype)) {
            requirePackedContiguous("getLong");
            return packedCode(elementOffset(index) - storageOffset); // row-major position: the view is contiguous
        }
        return decodeLong(dtype, logicalRaw(elementOffset(index) * dtype.elementSize()));
    }

    /**
     * The bool at {@code index} (any non-zero byte is {@code true}).
     *
     * @param index one 0-based index per dimension (none for a scalar)
     * @return the value
     * @throws IllegalStateException unless the dtype is bool
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public boolean getBoolean(long... index) {
        requireBool("getBoolean");
        return data.get(ValueLayout.JAVA_BYTE, elementOffset(index)) != 0;
    }

    /**
     * The real part of the complex value at {@code index} (negated if the negative bit is set).
     *
     * @param index one 0-based index per dimension (none for a scalar)
     * @return the real part, widened exactly to a double
     * @throws IllegalStateException unless the dtype is complex
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public double getReal(long... index) {
        return complexPart("getReal", index, 0, neg);
    }

    /**
     * The imaginary part of the complex value at {@code index} (negated if exactly one of the
     * negative and conjugate bits is set).
     *
     * @param index one 0-based index per dimension (none for a scalar)
     * @return the imaginary part, widened exactly to a double
     * @throws IllegalStateException unless the dtype is complex
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public double getImag(long... index) {
        return complexPart("getImag", index, dtype.elementSize() / 2, neg != conj);
    }

    /**
     * The value of a one-element tensor, whatever its number of dimensions, as a double: PyTorch's
     * {@code t.item()} for real dtypes. Floating dtypes are decoded, integers converted (int64 and uint64 beyond
     * 2^53 round: {@link #itemLong()} is exact), bool is 0 or 1, and a quantized tensor gives its real value, as
     * {@link #dequantize()} computes it (PyTorch's {@code item()} of a quantized tensor).
     *
     * @return the value
     * @throws IllegalStateException if the tensor does not have exactly one element, the dtype is complex
     *     ({@link #getReal} and {@link #getImag} read it), bits, packed or a placeholder, a quantized tensor has
     *     no quantizer, or after the storage's memory was released (its checkpoint closed)
     */
    public double item() {
        requireOneElement("item()");
        if (dtype.kind() == DType.Kind.QUANTIZED && dtype.oneValuePerElement()) {
            return dequantize().item();
        }
        requireScalar("item");
        return decodeDouble(dtype, logicalRaw(storageOffset * dtype.elementSize()));
    }

    /**
     * The value of a one-element integer or bool tensor, whatever its number of dimensions, exactly: as
     * {@link #getLong} reads it (uint64 gives its raw bits, {@link Long#toUnsignedString(long)} prints them).
     *
     * @return the value
     * @throws IllegalStateException if the tensor does not have exactly one element, or its dtype is not an
     *     integer or bool dtype of one value per element (a quantized tensor's value is real: {@link #item()}),
     *     or after the storage's memory was released (its checkpoint closed)
     */
    public long itemLong() {
        requireOneElement("itemLong()");
        DType.Kind kind = dtype.kind();
        if (!(kind == DType.Kind.INT || kind == DType.Kind.BOOL) || !dtype.oneValuePerElement()) {
            throw unsuitable("itemLong");
        }
        return decodeLong(dtype, logicalRaw(storageOffset * dtype.elementSize()));
    }

    private void requireOneElement(String operation) {
        if (numel != 1) {
            throw new IllegalStateException(operation + " needs a tensor of one element, and this one has " + numel
                    + ": " + this);
        }
    }

    private double complexPart(String operation, long[] index, int partOffset, boolean negate) {
        if (dtype.kind() != DType.Kind.COMPLEX) {
            throw unsuitable(operation);
        }
        DType component = componentType(dtype);
        int half = dtype.elementSize() / 2;
        long raw = read(data, elementOffset(index) * dtype.elementSize() + partOffset, half);
        return decodeDouble(component, negate ? negateRaw(component, raw) : raw);
    }

    private long elementOffset(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(
                    "tensor has " + shape.length + " dimensions but " + index.length + " indices were given");
        }
        long offset = storageOffset;
        for (int d = 0; d < shape.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException(
                        "index " + index[d] + " is out of bounds for dimension " + d + " with size " + shape[d]);
            }
            offset += index[d] * strides[d]; // at most the last element, validated by of()
        }
        return offset;
    }

    // ---------------------------------------------------------------------------------------------
    // Bulk copies, row-major in the shape, conj/neg applied: into fresh arrays (to*Array) or the caller's
    // (copyTo). Each kind has one routine that fills an array from a position.

    /**
     * All logical values as floats in row-major order; integers, bool and quantized codes converted as
     * by {@link #getFloat}.
     *
     * @return a fresh array of {@link #numel()} floats
     * @throws IllegalStateException if the dtype is not readable as scalars (see {@link #getDouble}), or
     *     after the storage's memory was released (its checkpoint closed)
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public float[] toFloatArray() {
        requireScalar("toFloatArray");
        float[] out = new float[arrayLength("toFloatArray()", Float.BYTES)];
        floatsInto(out, 0);
        return out;
    }

    /**
     * Copies the logical values, converted as by {@link #toFloatArray()}, row-major into
     * {@code dst[offset]} to {@code dst[offset + numel() - 1]}. Allocates nothing.
     *
     * @param dst the array to fill
     * @param offset where the first value goes
     * @throws IndexOutOfBoundsException if the values do not fit {@code dst} from {@code offset}
     * @throws IllegalStateException as {@link #toFloatArray()}
     */
    public void copyTo(float[] dst, int offset) {
        requireScalar("copyTo(float[])");
        checkDestination(dst.length, offset);
        floatsInto(dst, offset);
    }

    private void floatsInto(float[] out, int offset) {
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position + offset;
            int n = (int) length;
            if (stride == 1 && !neg) {
                switch (dtype) {
                    case FLOAT32 -> {
                        MemorySegment.copy(data, LE_FLOAT, from, out, at, n);
                        return;
                    }
                    case FLOAT16 -> {
                        Float16.toFloat(data, from, out, at, n);
                        return;
                    }
                    case BFLOAT16 -> {
                        BFloat16.toFloat(data, from, out, at, n);
                        return;
                    }
                    default -> {
                    }
                }
            }
            long step = stride * es;
            for (int i = 0; i < n; i++) {
                out[at + i] = decodeFloat(dtype, logicalRaw(from + i * step));
            }
        });
    }

    /**
     * All logical values as doubles in row-major order, converted as by {@link #getDouble}.
     *
     * @return a fresh array of {@link #numel()} doubles
     * @throws IllegalStateException if the dtype is not readable as scalars, or after the storage's memory
     *     was released (its checkpoint closed)
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public double[] toDoubleArray() {
        requireScalar("toDoubleArray");
        double[] out = new double[arrayLength("toDoubleArray()", Double.BYTES)];
        doublesInto(out, 0);
        return out;
    }

    /**
     * Copies the logical values, converted as by {@link #toDoubleArray()}, row-major into
     * {@code dst[offset]} to {@code dst[offset + numel() - 1]}. Allocates nothing.
     *
     * @param dst the array to fill
     * @param offset where the first value goes
     * @throws IndexOutOfBoundsException if the values do not fit {@code dst} from {@code offset}
     * @throws IllegalStateException as {@link #toDoubleArray()}
     */
    public void copyTo(double[] dst, int offset) {
        requireScalar("copyTo(double[])");
        checkDestination(dst.length, offset);
        doublesInto(dst, offset);
    }

    private void doublesInto(double[] out, int offset) {
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position + offset;
            int n = (int) length;
            if (stride == 1 && !neg && dtype == DType.FLOAT64) {
                MemorySegment.copy(data, LE_DOUBLE, from, out, at, n);
                return;
            }
            long step = stride * es;
            for (int i = 0; i < n; i++) {
                out[at + i] = decodeDouble(dtype, logicalRaw(from + i * step));
            }
        });
    }

    /**
     * All values as longs in row-major order, as by {@link #getLong}.
     *
     * @return a fresh array of {@link #numel()} longs
     * @throws IllegalStateException for floating and complex dtypes, for a non-contiguous view of a packed
     *     quantized dtype, or after the storage's memory was released (its checkpoint closed)
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public long[] toLongArray() {
        requireInteger("toLongArray");
        long[] out = new long[arrayLength("toLongArray()", Long.BYTES)];
        longsInto(out, 0);
        return out;
    }

    /**
     * Copies the values, as by {@link #toLongArray()}, row-major into {@code dst[offset]} to
     * {@code dst[offset + numel() - 1]}. Allocates nothing.
     *
     * @param dst the array to fill
     * @param offset where the first value goes
     * @throws IndexOutOfBoundsException if the values do not fit {@code dst} from {@code offset}
     * @throws IllegalStateException as {@link #toLongArray()}
     */
    public void copyTo(long[] dst, int offset) {
        requireInteger("copyTo(long[])");
        checkDestination(dst.length, offset);
        longsInto(dst, offset);
    }

    private void longsInto(long[] out, int offset) {
        if (packed(dtype)) {
            requirePackedContiguous("toLongArray");
            for (int i = 0; i < numel(); i++) {
                out[offset + i] = packedCode(i);
            }
            return;
        }
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position + offset;
            int n = (int) length;
            if (stride == 1 && !neg && es == Long.BYTES) { // int64, uint64 (raw bits)
                MemorySegment.copy(data, LE_LONG, from, out, at, n);
                return;
            }
            long step = stride * es;
            for (int i = 0; i < n; i++) {
                out[at + i] = decodeLong(dtype, logicalRaw(from + i * step));
            }
        });
    }

    /**
     * All values as ints in row-major order, as by {@link #getLong}; only for dtypes whose every value
     * fits an int (int32, qint32 and integer, bool, quantized or bits dtypes of at most 2 bytes).
     *
     * @return a fresh array of {@link #numel()} ints
     * @throws IllegalStateException for other dtypes, or after the storage's memory was released
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public int[] toIntArray() {
        requireIntSized("toIntArray");
        int[] out = new int[arrayLength("toIntArray()", Integer.BYTES)];
        intsInto(out, 0);
        return out;
    }

    /**
     * Copies the values, as by {@link #toIntArray()}, row-major into {@code dst[offset]} to
     * {@code dst[offset + numel() - 1]}. Allocates nothing.
     *
     * @param dst the array to fill
     * @param offset where the first value goes
     * @throws IndexOutOfBoundsException if the values do not fit {@code dst} from {@code offset}
     * @throws IllegalStateException as {@link #toIntArray()}
     */
    public void copyTo(int[] dst, int offset) {
        requireIntSized("copyTo(int[])");
        checkDestination(dst.length, offset);
        intsInto(dst, offset);
    }

    private void requireIntSized(String operation) {
        requireInteger(operation);
        int es = dtype.elementSize();
        if (es > Short.BYTES && !(es == Integer.BYTES && dtype.isSigned())) {
            throw unsuitable(operation);
        }
    }

    private void intsInto(int[] out, int offset) {
        if (packed(dtype)) {
            requirePackedContiguous("toIntArray");
            for (int i = 0; i < numel; i++) {
                out[offset + i] = (int) packedCode(i);
            }
            return;
        }
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position + offset;
            int n = (int) length;
            if (stride == 1 && !neg && es == Integer.BYTES) { // int32, qint32
                MemorySegment.copy(data, LE_INT, from, out, at, n);
                return;
            }
            long step = stride * es;
            for (int i = 0; i < n; i++) {
                out[at + i] = (int) decodeLong(dtype, logicalRaw(from + i * step));
            }
        });
    }

    /** Refuses a copy into an array of {@code length} from {@code offset} that the values would not fit. */
    private void checkDestination(int length, int offset) {
        Objects.checkFromIndexSize(offset, numel, length);
    }

    /**
     * All bools in row-major order.
     *
     * @return a fresh array of {@link #numel()} booleans
     * @throws IllegalStateException unless the dtype is bool, or after the storage's memory was released
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public boolean[] toBooleanArray() {
        requireBool("toBooleanArray");
        boolean[] out = new boolean[arrayLength("toBooleanArray()", 1)];
        forEachRun((first, length, stride, position) -> {
            int at = (int) position;
            for (int i = 0; i < (int) length; i++) {
                out[at + i] = data.get(ValueLayout.JAVA_BYTE, first + i * stride) != 0;
            }
        });
        return out;
    }

    /** The length of a bulk copy into an array of {@code elementBytes}-byte elements, refused if too large. */
    private int arrayLength(String operation, int elementBytes) {
        checkMaterialized(operation, MaterializationLimitException.bytes(numel, elementBytes));
        MaterializationLimitException.checkArrayLength(operation, this, numel);
        return (int) numel;
    }

    // ---------------------------------------------------------------------------------------------
    // Walking the elements in row-major order by contiguous inner runs

    /** Receives one run: {@code length} elements from element {@code first}, {@code stride} apart. */
    @FunctionalInterface
    private interface RunVisitor {
        /** {@code position} is the row-major index of the run's first element. */
        void visit(long first, long length, long stride, long position);
    }

    /** Visits every element in row-major order, one call per inner run ({@link #forEachRun(long, long, RunVisitor)}). */
    private void forEachRun(RunVisitor visitor) {
        forEachRun(0, numel, visitor);
    }

    /**
     * Visits the elements {@code [from, to)} of the row-major order (positions counted from {@code from}), one
     * call per inner run or the part of one inside the range. Size-1 dimensions are dropped and a dimension whose
     * stride steps exactly over the next inner one is merged into it, so a contiguous tensor is a single run, and
     * an odometer, set at {@code from} first, walks the remaining outer dimensions. This is the one walk of a
     * view's elements: the copies, the bulk reads and {@link #blocks(long)} all go through it.
     */
    private void forEachRun(long from, long to, RunVisitor visitor) {
        if (from >= to) {
            return;
        }
        // Coalesced dimensions, innermost first.
        long[] sizes = new long[shape.length];
        long[] steps = new long[shape.length];
        int n = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            if (n > 0 && stepsOver(strides[d], sizes[n - 1], steps[n - 1])) {
                sizes[n - 1] *= shape[d]; // bounded by numel
            } else {
                sizes[n] = shape[d];
                steps[n] = strides[d];
                n++;
            }
        }
        if (n == 0) {
            visitor.visit(storageOffset, 1, 1, 0); // one element: the range is [0, 1)
            return;
        }
        long[] counters = new long[n];
        long first = storageOffset;
        long rest = from;
        for (int d = 0; d < n; d++) {
            counters[d] = rest % sizes[d];
            rest /= sizes[d];
            first += counters[d] * steps[d]; // an element of the view: within the storage
        }
        long count = to - from;
        long position = 0;
        while (true) {
            long length = Math.min(sizes[0] - counters[0], count - position);
            visitor.visit(first, length, steps[0], position);
            position += length;
            if (position == count) {
                return;
            }
            // The inner run is done: rewind it, then advance the odometer; rewinding a wrapped digit keeps every
            // offset within the view.
            first -= counters[0] * steps[0];
            counters[0] = 0;
            int d = 1;
            for (; d < n; d++) {
                if (++counters[d] < sizes[d]) {
                    first += steps[d];
                    break;
                }
                counters[d] = 0;
                first -= (sizes[d] - 1) * steps[d];
            }
            if (d == n) {
                return; // past the last element (to <= numel makes this unreachable)
            }
        }
    }

    /** Whether {@code stride} equals {@code innerSize * innerStride}, decided without overflow. */
    private static boolean stepsOver(long stride, long innerSize, long innerStride) {
        return innerStride == 0 ? stride == 0 : stride % innerStride == 0 && stride / innerStride == innerSize;
    }

    // ---------------------------------------------------------------------------------------------
    // Element encodings

    private void requireScalar(String operation) {
        DType.Kind kind = dtype.kind();
        boolean ok = (kind == DType.Kind.FLOAT || kind == DType.Kind.INT || kind == DType.Kind.BOOL
                || kind == DType.Kind.QUANTIZED) && dtype.oneValuePerElement();
        if (!ok) {
            throw unsuitable(operation);
        }
    }

    private void requireInteger(String operation) {
        DType.Kind kind = dtype.kind();
        // Packed floats (float4_e2m1fn_x2: two values per byte) are read as their raw storage byte.
        if ((kind == DType.Kind.FLOAT && dtype.oneValuePerElement()) || kind == DType.Kind.COMPLEX) {
            throw unsuitable(operation);
        }
    }

    /**
     * torch reads the values of a packed view in row-major order from its offset, which is its layout only when the
     * view is contiguous; torch's own kernels then refuse (its {@code dequantize()} of a transposed quint4x2 view
     * fails), and so do the reads here.
     */
    private void requirePackedContiguous(String operation) {
        if (!contiguous) {
            throw new IllegalStateException(operation + " of a non-contiguous packed " + dtype
                    + " view (its values lie in row-major order whatever its strides): " + this);
        }
    }

    /** The code at row-major position {@code i} of a packed view: the low bits of a byte hold the first value. */
    private long packedCode(long i) {
        int bits = dtype.valueBits();
        long perByte = 8 / bits;
        int b = data.get(ValueLayout.JAVA_BYTE, storageOffset + i / perByte) & 0xFF;
        return (b >>> (int) (i % perByte * bits)) & ((1 << bits) - 1);
    }

    private void requireBool(String operation) {
        if (dtype != DType.BOOL) {
            throw unsuitable(operation);
        }
    }

    private IllegalStateException unsuitable(String operation) {
        return new IllegalStateException(operation + " is not supported for dtype " + dtype + ": " + this);
    }

    /** The stored bits of the element at {@code byteOffset}, with the negative bit applied. */
    private long logicalRaw(long byteOffset) {
        long raw = read(data, byteOffset, dtype.elementSize());
        return neg ? negateRaw(dtype, raw) : raw;
    }

    /** Reads a little-endian unsigned integer of {@code size} bytes. */
    private static long read(MemorySegment segment, long byteOffset, int size) {
        return switch (size) {
            case 1 -> segment.get(ValueLayout.JAVA_BYTE, byteOffset) & 0xFFL;
            case 2 -> segment.get(LE_SHORT, byteOffset) & 0xFFFFL;
            case 4 -> segment.get(LE_INT, byteOffset) & 0xFFFF_FFFFL;
            case 8 -> segment.get(LE_LONG, byteOffset);
            default -> throw new AssertionError(size);
        };
    }

    private static void write(MemorySegment segment, long byteOffset, int size, long raw) {
        switch (size) {
            case 1 -> segment.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) raw);
            case 2 -> segment.set(LE_SHORT, byteOffset, (short) raw);
            case 4 -> segment.set(LE_INT, byteOffset, (int) raw);
            case 8 -> segment.set(LE_LONG, byteOffset, raw);
            default -> throw new AssertionError(size);
        }
    }

    /** The float dtype of each half of a complex element. */
    private static DType componentType(DType complex) {
        return switch (complex) {
            case COMPLEX32 -> DType.FLOAT16;
            case COMPLEX64 -> DType.FLOAT32;
            case COMPLEX128 -> DType.FLOAT64;
            default -> throw new AssertionError(complex);
        };
    }

    /**
     * The stored bits of {@code -x} for {@code x} stored as {@code raw}, for a {@link #negatable} dtype
     * or a complex component type. Floating point flips the sign bit (bit-exact, NaNs stay NaN), except
     * that the fnuz formats have no negative zero (their 0x80 is NaN) so zero and NaN stay; integers
     * negate in two's complement, wrapping within the element width as torch does.
     */
    private static long negateRaw(DType t, long raw) {
        int bits = 8 * t.elementSize();
        return switch (t) {
            case FLOAT8_E5M2FNUZ, FLOAT8_E4M3FNUZ -> (raw & 0x7F) == 0 ? raw : raw ^ 0x80;
            case FLOAT16, BFLOAT16, FLOAT32, FLOAT64, FLOAT8_E5M2, FLOAT8_E4M3FN -> raw ^ (1L << (bits - 1));
            default -> bits == 64 ? -raw : -raw & ((1L << bits) - 1);
        };
    }

    private static double decodeDouble(DType t, long raw) {
        return switch (t) {
            case FLOAT64 -> Double.longBitsToDouble(raw);
            case UINT64 -> unsignedToDouble(raw);
            case INT64 -> (double) raw;
            default -> t.kind() == DType.Kind.FLOAT ? decodeFloat(t, raw) : decodeLong(t, raw);
        };
    }

    private static float decodeFloat(DType t, long raw) {
        return switch (t) {
            case FLOAT32 -> Float.intBitsToFloat((int) raw);
            case FLOAT16 -> Float.float16ToFloat((short) raw);
            case BFLOAT16 -> BFloat16.toFloat((short) raw);
            case FLOAT64 -> (float) Double.longBitsToDouble(raw);
            case FLOAT8_E5M2, FLOAT8_E4M3FN, FLOAT8_E5M2FNUZ, FLOAT8_E4M3FNUZ, FLOAT8_E8M0FNU ->
                    Float8.toFloat(t, (byte) raw);
            case UINT64 -> unsignedToFloat(raw);
            default -> (float) decodeLong(t, raw); // one rounding, also for int64
        };
    }

    /** Sign-extends signed one-value integer types; everything else is already zero-extended. */
    private static long decodeLong(DType t, long raw) {
        if (t == DType.BOOL) {
            return raw != 0 ? 1 : 0;
        }
        int shift = 64 - 8 * t.elementSize();
        return t.isSigned() && t.oneValuePerElement() ? raw << shift >> shift : raw;
    }

    private static double unsignedToDouble(long raw) {
        if (raw >= 0) {
            return (double) raw;
        }
        // Halve keeping the dropped bit as a sticky bit, so the single rounding happens as for the
        // full value, then double (exact).
        return (double) ((raw >>> 1) | (raw & 1)) * 2.0;
    }

    private static float unsignedToFloat(long raw) {
        if (raw >= 0) {
            return (float) raw;
        }
        return (float) ((raw >>> 1) | (raw & 1)) * 2.0f;
    }

    // ---------------------------------------------------------------------------------------------

    /** For example {@code Tensor[float32, shape=[2, 3], strides=[3, 1], offset=0, storage='0']}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Tensor[").append(dtype)
                .append(", shape=").append(Arrays.toString(shape))
                .append(", strides=").append(Arrays.toString(strides))
                .append(", offset=").append(storageOffset)
                .append(", storage='").append(storage.key()).append('\'');
        if (requiresGrad) {
            text.append(", requires_grad");
        }
        if (conj) {
            text.append(", conj");
        }
        if (neg) {
            text.append(", neg");
        }
        return text.append(']').toString();
    }
}
