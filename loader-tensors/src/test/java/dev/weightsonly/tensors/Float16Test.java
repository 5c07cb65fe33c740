package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class Float16Test {
    @Test
    void decodesEveryBitPatternExactly() {
        for (int code = 0; code < 0x10000; code++) {
            float actual = Float16.toFloat((short) code);
            double expected = Reference.half(code);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), Integer.toHexString(code));
            } else {
                assertEquals(expected, actual, 0.0, Integer.toHexString(code));
                assertEquals(code >= 0x8000, Math.copySign(1.0f, actual) < 0, "sign of " + Integer.toHexString(code));
            }
        }
    }

    @Test
    void roundTripsEveryBitPattern() {
        for (int code = 0; code < 0x10000; code++) {
            float value = Float16.toFloat((short) code);
            short back = Float16.fromFloat(value);
            if (Float.isNaN(value)) {
                assertTrue(Float.isNaN(Float16.toFloat(back)), Integer.toHexString(code));
            } else {
                assertEquals((short) code, back, Integer.toHexString(code));
            }
        }
    }

    @Test
    void spotValues() {
        assertEquals(65504f, Float16.toFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, Float16.toFloat((short) 0x0001));
        assertEquals(0x1p-14f, Float16.toFloat((short) 0x0400));
        assertEquals(Float.POSITIVE_INFINITY, Float16.toFloat((short) 0x7C00));
        assertEquals((short) 0x7C00, Float16.fromFloat(65520f)); // tie at the top rounds to even = inf
        assertEquals((short) 0x7BFF, Float16.fromFloat(65519.996f));
        assertEquals((short) 0x0000, Float16.fromFloat(0x1p-25f)); // tie between 0 and 2^-24: even is 0
        assertEquals((short) 0x0001, Float16.fromFloat(Math.nextUp(0x1p-25f)));
        assertEquals((short) 0x8000, Float16.fromFloat(-0.0f));
        assertEquals((short) 0x3C00, Float16.fromFloat(1.0f));
    }

    /** Every midpoint between neighbouring finite halves, and the floats just beside it. */
    @Test
    void roundsMidpointsToNearestEven() {
        for (int code = 0; code < 0x7C00; code++) {
            double next = code + 1 == 0x7C00 ? 65536.0 : Reference.half(code + 1);
            float mid = (float) ((Reference.half(code) + next) / 2);
            for (float f : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                assertEquals((short) Reference.roundHalf(f), Float16.fromFloat(f), "for " + f);
                assertEquals((short) Reference.roundHalf(-f), Float16.fromFloat(-f), "for " + -f);
            }
        }
    }

    /** A sweep over the float bit patterns (every 4093rd, covering every exponent). */
    @Test
    void roundsASweepOfAllFloats() {
        for (long bits = 0; bits <= 0xFFFF_FFFFL; bits += 4093) {
            float f = Float.intBitsToFloat((int) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) Reference.roundHalf(f), Float16.fromFloat(f), "for " + f);
            }
        }
    }

    @Property
    void roundsLikeTheReference(@ForAll int bits) {
        float f = Float.intBitsToFloat(bits);
        if (Float.isNaN(f)) {
            assertTrue(Float.isNaN(Float16.toFloat(Float16.fromFloat(f))));
        } else {
            assertEquals((short) Reference.roundHalf(f), Float16.fromFloat(f));
        }
    }

    @Test
    void bulkDecodesLittleEndian() {
        ByteBuffer buffer = ByteBuffer.allocate(2 * 0x10000 + 3).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(0, (byte) 0x55);
        for (int code = 0; code < 0x10000; code++) {
            buffer.putShort(1 + 2 * code, (short) code);
        }
        float[] out = new float[0x10000 + 2];
        Float16.toFloat(MemorySegment.ofArray(buffer.array()), 1, out, 1, 0x10000);
        for (int code = 0; code < 0x10000; code++) {
            assertEquals(Float.floatToRawIntBits(Float16.toFloat((short) code)), Float.floatToRawIntBits(out[1 + code]));
        }
        assertEquals(0f, out[0]);
        assertEquals(0f, out[0x10001]);
    }

    @Test
    void bulkChecksBothRangesBeforeWriting() {
        MemorySegment src = MemorySegment.ofArray(new byte[8]);
        float[] out = new float[4];
        assertThrows(IndexOutOfBoundsException.class, () -> Float16.toFloat(src, 2, out, 0, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> Float16.toFloat(src, 0, out, 1, 4));
        assertArrayEquals(new float[4], out);
    }
}
