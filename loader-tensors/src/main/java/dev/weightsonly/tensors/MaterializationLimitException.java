package dev.weightsonly.tensors;

import java.io.Serial;

/**
 * An operation that materialises values in fresh memory ({@link Tensor#contiguous()},
 * {@link Tensor#dequantize()}, the {@code toXxxArray()} copies, a {@link Tensor#reshape} or typed buffer
 * ({@link Tensor#asFloatBuffer()}, ...) that has to copy, a sparse tensor's {@code toDense()}) would
 * need more memory than allowed, so it was refused before allocating or computing anything.
 *
 * <p>A tensor's size comes from an untrusted file: a few hundred bytes can describe a stride-0 view or a sparse
 * tensor whose dense form is terabytes. The bound on one materialisation is the smaller of the storage's
 * {@link Storage#maxMaterializedBytes()} (for a loaded checkpoint, {@code LoadLimits.maxMaterializedBytes}) and
 * the JVM's maximum heap ({@code -Xmx}, as the memory MXBean reports it), which no single allocation can exceed; the count
 * includes every buffer the operation holds at once, not only its result. Java arrays also hold at most
 * {@code Integer.MAX_VALUE - 8} elements. It extends {@link IllegalStateException}, which these methods
 * documented for results too large for an array before.
 */
public final class MaterializationLimitException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Largest array length the JVM reliably allocates. */
    static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    /** The bytes the refused operation would have held at once; see {@link #requestedBytes()}. */
    private final long requestedBytes;
    /** The bound {@link #requestedBytes} exceeded; see {@link #limitBytes()}. */
    private final long limitBytes;

    private MaterializationLimitException(String message, long requestedBytes, long limitBytes) {
        super(message);
        this.requestedBytes = requestedBytes;
        this.limitBytes = limitBytes;
    }

    /**
     * How much fresh memory the refused operation needed.
     *
     * @return the bytes the operation would have held at once ({@link Long#MAX_VALUE} if that overflows a
     *     long); for {@link #checkArrayLength} the array length that was refused
     */
    public long requestedBytes() {
        return requestedBytes;
    }

    /**
     * The bound that was exceeded, so that a caller can tell which limit to raise.
     *
     * @return the smaller of {@code maxMaterializedBytes} and the JVM's maximum heap, in bytes; for
     *     {@link #checkArrayLength} the largest array length Java allocates
     */
    public long limitBytes() {
        return limitBytes;
    }

    /**
     * Refuses {@code operation} on {@code subject} unless {@code bytes} fits both {@code maxBytes} and the JVM's
     * maximum heap. Callers compute {@code bytes} with {@link #bytes} so that an overflow counts as too large.
     *
     * @param operation for example {@code "toDense()"}
     * @param subject what is materialised (its {@code toString()} names the tensor and its storage)
     * @param bytes the bytes the operation would hold at once, from {@link #bytes}; {@link Long#MAX_VALUE}
     *     stands for "more than a long counts"
     * @param maxBytes the caller's own bound, usually the storage's {@link Storage#maxMaterializedBytes()}
     * @throws MaterializationLimitException if it does not fit
     */
    public static void check(String operation, Object subject, long bytes, long maxBytes) {
        long heap = MaxHeap.BYTES;
        long limit = Math.min(maxBytes, heap);
        if (bytes > limit) {
            String which = maxBytes <= heap ? "maxMaterializedBytes (" + maxBytes + " bytes)"
                    : "the JVM's maximum heap (" + heap + " bytes)";
            throw new MaterializationLimitException(operation + " of " + subject + " needs "
                    + (bytes == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : Long.toString(bytes))
                    + " bytes of fresh memory, more than " + which + "; refused before allocating."
                    + " Raise LoadLimits.maxMaterializedBytes (and the heap) if this tensor is genuine,"
                    + " or read it through a view instead", bytes, limit);
        }
    }

    /**
     * Refuses an array of {@code length} elements (or bytes, for a byte array), which Java cannot allocate past
     * {@code Integer.MAX_VALUE - 8}. Callers check {@link #check} first, the more telling bound.
     *
     * @param operation for example {@code "toFloatArray()"}
     * @param subject what is materialised, named in the message
     * @param length the number of array elements the result needs
     * @throws MaterializationLimitException if no Java array can hold {@code length} elements
     */
    public static void checkArrayLength(String operation, Object subject, long length) {
        if (length > MAX_ARRAY_LENGTH) {
            throw new MaterializationLimitException(operation + " of " + subject + " needs an array of " + length
                    + " entries, more than a Java array holds (" + MAX_ARRAY_LENGTH + ")", length, MAX_ARRAY_LENGTH);
        }
    }

    /** The JVM's maximum heap, fixed for its life ({@code -Xmx}); {@link Long#MAX_VALUE} if it has none. */
    private static final class MaxHeap {
        static final long BYTES = maxHeap();

        private static long maxHeap() {
            long max = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
            return max > 0 ? max : Long.MAX_VALUE;
        }
    }

    /**
     * Adds up the buffers an operation holds at once, so that {@link #check} sees an overflow as "too large"
     * instead of a wrapped-around small number.
     *
     * @param countAndSizePairs element counts and element sizes in bytes, alternating: {@code count1, size1,
     *     count2, size2, ...} (an odd last value is ignored)
     * @return {@code count1 * size1 + count2 * size2 + ...}, or {@link Long#MAX_VALUE} if that overflows a long
     */
    public static long bytes(long... countAndSizePairs) {
        long total = 0;
        try {
            for (int i = 0; i + 1 < countAndSizePairs.length; i += 2) {
                total = Math.addExact(total, Math.multiplyExact(countAndSizePairs[i], countAndSizePairs[i + 1]));
            }
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
        return total;
    }
}
