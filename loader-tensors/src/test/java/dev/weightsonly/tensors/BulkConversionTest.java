package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The bulk float16 and bfloat16 decoders equal element-by-element decoding bit for bit, for every count
 * (odd ones end with a single element), any source byte offset (odd ones are unaligned) and any destination
 * index, and write nothing outside their range.
 */
class BulkConversionTest {

    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @FunctionalInterface
    private interface Bulk {
        void decode(MemorySegment src, long srcByteOffset, float[] dst, int dstIndex, int count);
    }

    @FunctionalInterface
    private interface One {
        float decode(short bits);
    }

    private static void agreesElementByElement(Bulk bulk, One one) {
        SplittableRandom random = new SplittableRandom(16);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(2 * 300 + 3);
            for (long i = 0; i < src.byteSize(); i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
            }
            for (int count : new int[] {0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 65, 127, 255, 299}) {
                for (int offset : new int[] {0, 1, 2, 3}) {
                    for (int dstIndex : new int[] {0, 1, 5}) {
                        float[] dst = new float[dstIndex + count + 2];
                        Arrays.fill(dst, 7f);
                        bulk.decode(src, offset, dst, dstIndex, count);
                        for (int i = 0; i < dst.length; i++) {
                            float expected = i < dstIndex || i >= dstIndex + count ? 7f
                                    : one.decode(src.get(LE_SHORT, offset + 2L * (i - dstIndex)));
                            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(dst[i]),
                                    "count " + count + ", offset " + offset + ", index " + dstIndex + ", element " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void bfloat16BulkEqualsElementByElement() {
        agreesElementByElement(BFloat16::toFloat, BFloat16::toFloat);
    }

    @Test
    void float16BulkEqualsElementByElement() {
        agreesElementByElement(Float16::toFloat, Float16::toFloat);
    }

    @Test
    void rangesAreCheckedBeforeAnythingIsWritten() {
        MemorySegment src = MemorySegment.ofArray(new byte[10]);
        for (Bulk bulk : new Bulk[] {BFloat16::toFloat, Float16::toFloat}) {
            float[] dst = new float[8];
            Arrays.fill(dst, 7f);
            assertThrows(IndexOutOfBoundsException.class, () -> bulk.decode(src, 2, dst, 0, 5));
            assertThrows(IndexOutOfBoundsException.class, () -> bulk.decode(src, 0, dst, 4, 5));
            assertThrows(IndexOutOfBoundsException.class, () -> bulk.decode(src, -1, dst, 0, 1));
            float[] untouched = new float[8];
            Arrays.fill(untouched, 7f);
            assertEquals(Arrays.toString(untouched), Arrays.toString(dst));
        }
    }
}
