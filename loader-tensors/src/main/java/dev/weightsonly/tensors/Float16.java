package dev.weightsonly.tensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * IEEE 754 binary16 ({@code torch.float16}) conversions.
 *
 * <p>Backed by {@link Float#float16ToFloat} and {@link Float#floatToFloat16} (JDK 20+), which the tests
 * check against an independent reference for all 65536 bit patterns and for every rounding midpoint:
 * the JDK methods are exact, round to nearest even, keep NaNs NaN and handle subnormals.
 */
public final class Float16 {
    static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Float16() {
    }

    /**
     * The exact float value of a binary16 bit pattern (every binary16 value is representable as a float).
     *
     * @param bits the 16 bits of a binary16, as stored in a {@link DType#FLOAT16} tensor
     * @return the same value as a float; NaN payloads and the sign of zero are kept
     */
    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /**
     * The binary16 nearest to {@code value}, ties to even; overflow gives infinity, NaN stays NaN.
     *
     * @param value any float
     * @return the binary16 bit pattern, as a {@link DType#FLOAT16} tensor stores it
     */
    public static short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * Decodes {@code count} little-endian binary16 values starting at byte {@code srcByteOffset} of
     * {@code src} into {@code dst[dstIndex..dstIndex+count)}. Both ranges are checked before anything
     * is written.
     *
     * @param src the bytes to read, usually a tensor's storage
     * @param srcByteOffset where the first binary16 value starts in {@code src}, in bytes (needs no alignment)
     * @param dst the array that receives the floats
     * @param dstIndex the index in {@code dst} of the first float written
     * @param count how many values to decode
     * @throws IndexOutOfBoundsException if either range is out of bounds
     */
    public static void toFloat(MemorySegment src, long srcByteOffset, float[] dst, int dstIndex, int count) {
        Objects.checkFromIndexSize(dstIndex, count, dst.length);
        Objects.checkFromIndexSize(srcByteOffset, 2L * count, src.byteSize());
        // One loop over an exact slice: no per-element bounds arithmetic on the whole storage.
        MemorySegment in = src.asSlice(srcByteOffset, 2L * count);
        for (int i = 0; i < count; i++) {
            dst[dstIndex + i] = Float.float16ToFloat(in.getAtIndex(LE_SHORT, i));
        }
    }
}
