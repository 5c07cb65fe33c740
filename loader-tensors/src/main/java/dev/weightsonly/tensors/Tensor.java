package dev.weightsonly.tensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable strided view of a {@link Storage}, as a torch tensor is: a dtype, a shape, strides and
 * a storage offset (all counted in elements of the dtype), plus the {@code requires_grad} flag and
 * torch's lazy conjugate and negative bits.
 *
 * <p>Creating a view never copies, and every view is validated against its storage when created
 * ({@link #of}), so element reads can never leave the storage. Reads return torch's <em>logical</em>
 * values: the negative bit negates every value and the conjugate bit negates imaginary parts. The raw
 * byte accessors ({@link #contiguousBytes()}, {@link #toByteArray()}) return the stored bytes, bits not
 * applied; {@link #resolveConjAndNeg()} materialises the logical values.
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
     * @param storage       the storage the view reads
     * @param dtype         the element type
     * @param storageOffset the first element's index in the storage, in elements
     * @param shape         the size of each dimension
     * @param strides       the step of each dimension, in elements
     * @return the view
     * @throws InvalidViewException if the claimed geometry does not fit, saying what was claimed and
     *     what was found
     */
    public static Tensor of(Storage storage, DType dtype, long storageOffset, long[] shape, long[] strides) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(dtype, "dtype");
        long[] size = Objects.requireNonNull(shape, "shape").clone();
        long[] stride = Objects.requireNonNull(strides, "strides").clone();
        long numel = validate(storage, dtype, storageOffset, size, stride);
        return new Tensor(storage, dtype, storageOffset, size, stride, numel, false, false, false);
    }

    /**
     * A row-major (C-contiguous) view of {@code shape} starting at {@code storageOffset}, with torch's
     * contiguous strides (a size-0 dimension counts as 1 when computing outer strides).
     *
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

    /** torch's contiguous strides: each is the product of the later sizes, a size 0 counting as 1. */
    private static long[] rowMajorStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long step = 1;
        try {
            for (int d = shape.length - 1; d >= 0; d--) {
                strides[d] = step;
                step = Math.multiplyExact(step, Math.max(shape[d], 1));
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

    /** This view with {@code requires_grad} set as given (stored only; nothing here computes gradients). */
    public Tensor withRequiresGrad(boolean requiresGrad) {
        return requiresGrad == this.requiresGrad ? this
                : new Tensor(storage, dtype, storageOffset, shape, strides, numel, requiresGrad, conj, neg, quantizer);
    }

    /**
     * This view with torch's conjugate bit set as given: reads then negate imaginary parts.
     *
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

    /** The quantizer of a quantized tensor; empty for every other tensor. */
    public java.util.Optional<Quantizer> quantizer() {
        return java.util.Optional.ofNullable(quantizer);
    }

    /**
     * The real values of a quantized tensor as a float32 tensor in fresh memory, computed as torch's CPU
     * kernels do, bit for bit: per tensor {@code ((float) q - zero_point) * (float) scale} in float; per
     * channel {@code (float) (((float) q - zero_point) * scale)} with the scale a double (float qparams:
     * {@code ((float) q - zero_point) * scale} all in float, the parameters rounded to float as ATen's
     * quantizer stores them). The two kernels round differently, and matching torch means following each.
     *
     * @throws IllegalStateException if this tensor has no quantizer or is packed, or after the storage's
     *     memory was released (its checkpoint closed)
     * @throws MaterializationLimitException if the codes, parameters and result held at once (12 bytes per
     *     element, 8 or 16 per channel) exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before anything is read
     */
    public Tensor dequantize() {
        if (quantizer == null) {
            throw new IllegalStateException("dequantize() needs a quantized tensor with a quantizer, not " + dtype);
        }
        if (!dtype.oneValuePerElement()) {
            throw new IllegalStateException("dequantize() of packed " + dtype + " is not supported");
        }
        // Held at once: the codes as longs, the float32 result, and the per-channel parameters.
        long channels = quantizer instanceof Quantizer.PerChannelAffine pc ? shape[pc.axis()] : 0;
        checkMaterialized("dequantize()", MaterializationLimitException.bytes(numel, Long.BYTES + Float.BYTES,
                channels, 2 * Double.BYTES));
        MaterializationLimitException.checkArrayLength("dequantize()", this, MaterializationLimitException.bytes(
                numel, Float.BYTES));
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

    private static boolean negatable(DType t) {
        return switch (t.kind()) {
            case COMPLEX -> true;
            case FLOAT -> t.oneValuePerElement() && t != DType.FLOAT8_E8M0FNU;
            case INT -> t.oneValuePerElement();
            default -> false;
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors

    /** The storage viewed; shared with every other view of it. */
    public Storage storage() {
        return storage;
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** The sizes of each dimension (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** The strides of each dimension in elements (a copy). */
    public long[] strides() {
        return strides.clone();
    }

    /** The size of dimension {@code dim} (0-based, no negative indexing). */
    public long size(int dim) {
        return shape[Objects.checkIndex(dim, shape.length)];
    }

    /** The stride of dimension {@code dim} in elements (0-based, no negative indexing). */
    public long stride(int dim) {
        return strides[Objects.checkIndex(dim, strides.length)];
    }

    /** The number of dimensions; 0 for a scalar. */
    public int dim() {
        return shape.length;
    }

    /** The number of elements (1 for a scalar). */
    public long numel() {
        return numel;
    }

    /** The offset of the first element in the storage, in elements of {@link #dtype()}. */
    public long storageOffset() {
        return storageOffset;
    }

    /** The saved {@code requires_grad} flag. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Whether torch's conjugate bit is set. */
    public boolean isConj() {
        return conj;
    }

    /** Whether torch's negative bit is set. */
    public boolean isNeg() {
        return neg;
    }

    /** {@code numel() * dtype().elementSize()}: the bytes of the logical data (which {@link #of} ensures fits a long). */
    public long byteSize() {
        return numel * dtype.elementSize();
    }

    /** Whether the elements lie row-major and gap-free from the offset (torch's {@code is_contiguous()}). */
    public boolean isContiguous() {
        return contiguous;
    }

    // ---------------------------------------------------------------------------------------------
    // Raw bytes and copies

    /**
     * The view's bytes as a read-only slice of the storage, without copying. These are the stored
     * bytes: the conjugate and negative bits are not applied (see {@link #resolveConjAndNeg()}).
     *
     * @throws IllegalStateException if the view is not contiguous (see {@link #contiguous()})
     */
    public MemorySegment contiguousBytes() {
        if (!contiguous) {
            throw new IllegalStateException("not contiguous: " + this);
        }
        return numel == 0 ? EMPTY : data.asSlice(storageOffset * dtype.elementSize(), byteSize());
    }

    /**
     * This view if contiguous, else a row-major copy into a fresh storage with the same dtype and flags.
     *
     * @throws MaterializationLimitException if the copy ({@link #byteSize()}) exceeds the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before copying
     * @throws IllegalStateException if the storage's memory was released (its checkpoint closed)
     */
    public Tensor contiguous() {
        if (contiguous) {
            return this;
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
     * @throws MaterializationLimitException if the copy exceeds the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap, checked before copying
     * @throws IllegalStateException if the storage's memory was released (its checkpoint closed)
     */
    public Tensor resolveConjAndNeg() {
        if (!conj && !neg) {
            return this;
        }
        checkMaterialized("resolveConjAndNeg()", byteSize());
        MemorySegment bytes = rowMajorCopy();
        int es = dtype.elementSize();
        long end = byteSize();
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
        return new Tensor(freshStorage(bytes, "resolved copy"), dtype, 0, shape, rowMajorStrides(shape), numel,
                requiresGrad, false, false);
    }

    /** The stored elements, row-major, in fresh writable memory. */
    private MemorySegment rowMajorCopy() {
        MemorySegment fresh = Storage.allocate(byteSize());
        copyRawTo(fresh);
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
     * The stored bytes of the elements in row-major order of the shape, little-endian,
     * {@link #byteSize()} long. The conjugate and negative bits are not applied.
     *
     * @throws MaterializationLimitException if {@link #byteSize()} exceeds what a Java array can hold, the
     *     storage's {@link Storage#maxMaterializedBytes()} or the heap
     * @throws IllegalStateException if the storage's memory was released (its checkpoint closed)
     */
    public byte[] toByteArray() {
        checkMaterialized("toByteArray()", byteSize());
        MaterializationLimitException.checkArrayLength("toByteArray()", this, byteSize());
        byte[] out = new byte[(int) byteSize()];
        copyRawTo(MemorySegment.ofArray(out));
        return out;
    }

    private void copyRawTo(MemorySegment dst) {
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
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
    // Element reads. Indices are 0-based, one per dimension, no negative indexing.

    /**
     * The logical value at {@code index} as a double: floating dtypes decoded (float16, bfloat16,
     * float8), integers converted (uint64 as unsigned; int64 beyond 2^53 rounds, use
     * {@link #getLong}), bool as 0 or 1, quantized dtypes as their raw integer code.
     *
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
     * raw code. For packed, placeholder and bits dtypes it is the whole storage element, unsigned.
     *
     * @throws IllegalStateException for floating and complex dtypes
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public long getLong(long... index) {
        requireInteger("getLong");
        return decodeLong(dtype, logicalRaw(elementOffset(index) * dtype.elementSize()));
    }

    /**
     * The bool at {@code index} (any non-zero byte is {@code true}).
     *
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
     * @throws IllegalStateException unless the dtype is complex
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws IllegalArgumentException if the number of indices is not {@link #dim()}
     * @throws IllegalStateException after the storage's memory was released (its checkpoint closed)
     */
    public double getImag(long... index) {
        return complexPart("getImag", index, dtype.elementSize() / 2, neg != conj);
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
    // Bulk copies, row-major in the shape, conj/neg applied

    /**
     * All logical values as floats in row-major order; integers, bool and quantized codes converted as
     * by {@link #getFloat}.
     *
     * @throws IllegalStateException if the dtype is not readable as scalars (see {@link #getDouble}), or
     *     after the storage's memory was released (its checkpoint closed)
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public float[] toFloatArray() {
        requireScalar("toFloatArray");
        float[] out = new float[arrayLength("toFloatArray()", Float.BYTES)];
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position;
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
        return out;
    }

    /**
     * All logical values as doubles in row-major order, converted as by {@link #getDouble}.
     *
     * @throws IllegalStateException if the dtype is not readable as scalars, or after the storage's memory
     *     was released (its checkpoint closed)
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public double[] toDoubleArray() {
        requireScalar("toDoubleArray");
        double[] out = new double[arrayLength("toDoubleArray()", Double.BYTES)];
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position;
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
        return out;
    }

    /**
     * All values as longs in row-major order, as by {@link #getLong}.
     *
     * @throws IllegalStateException for floating and complex dtypes, or after the storage's memory was
     *     released (its checkpoint closed)
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public long[] toLongArray() {
        requireInteger("toLongArray");
        long[] out = new long[arrayLength("toLongArray()", Long.BYTES)];
        int es = dtype.elementSize();
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position;
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
        return out;
    }

    /**
     * All values as ints in row-major order, as by {@link #getLong}; only for dtypes whose every value
     * fits an int (int32, qint32 and integer, bool, quantized or bits dtypes of at most 2 bytes).
     *
     * @throws IllegalStateException for other dtypes, or after the storage's memory was released
     * @throws MaterializationLimitException if the array would exceed a Java array, the storage's
     *     {@link Storage#maxMaterializedBytes()} or the heap (checked before allocating)
     */
    public int[] toIntArray() {
        requireInteger("toIntArray");
        int es = dtype.elementSize();
        if (es > Short.BYTES && !(es == Integer.BYTES && dtype.isSigned())) {
            throw unsuitable("toIntArray");
        }
        int[] out = new int[arrayLength("toIntArray()", Integer.BYTES)];
        forEachRun((first, length, stride, position) -> {
            long from = first * es;
            int at = (int) position;
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
        return out;
    }

    /**
     * All bools in row-major order.
     *
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

    /**
     * Visits the elements in row-major order, one call per inner run. Size-1 dimensions are dropped
     * and a dimension whose stride steps exactly over the next inner one is merged into it, so a
     * contiguous tensor is a single run, and an odometer walks the remaining outer dimensions.
     */
    private void forEachRun(RunVisitor visitor) {
        if (numel == 0) {
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
            visitor.visit(storageOffset, 1, 1, 0);
            return;
        }
        long[] counters = new long[n];
        long first = storageOffset;
        long position = 0;
        while (true) {
            visitor.visit(first, sizes[0], steps[0], position);
            position += sizes[0];
            int d = 1;
            // Advance the odometer; rewinding a wrapped digit keeps every offset within the view.
            for (; d < n; d++) {
                if (++counters[d] < sizes[d]) {
                    first += steps[d];
                    break;
                }
                counters[d] = 0;
                first -= (sizes[d] - 1) * steps[d];
            }
            if (d == n) {
                return;
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
