package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class BFloat16Test {
    @Test
    void decodesEveryBitPatternExactly() {
        for (int code = 0; code < 0x10000; code++) {
            float actual = BFloat16.toFloat((short) code);
            double expected = Reference.bfloat16(code);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), Integer.toHexString(code));
            } else {
                assertEquals(expected, actual, 0.0, Integer.toHexString(code));
                assertEquals(code >= 0x8000, Math.copySign(1.0f, actual) < 0, Integer.toHexString(code));
            }
        }
    }

    /** Exact round trip for all 65536 patterns, NaNs included (payload and sign kept). */
    @Test
    void roundTripsEveryBitPattern() {
        for (int code = 0; code < 0x10000; code++) {
            assertEquals((short) code, BFloat16.fromFloat(BFloat16.toFloat((short) code)), Integer.toHexString(code));
        }
    }

    @Test
    void nanStaysNaNEvenWhenOnlyLowPayloadBitsAreSet() {
        float nanWithLowPayload = Float.intBitsToFloat(0x7F80_0001);
        assertTrue(Float.isNaN(nanWithLowPayload));
        assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(nanWithLowPayload))));
        assertEquals((short) 0xFFC0, BFloat16.fromFloat(Float.intBitsToFloat(0xFF80_0001)));
    }

    @Test
    void spotValues() {
        assertEquals((short) 0x3F80, BFloat16.fromFloat(1.0f));
        assertEquals((short) 0x3F80, BFloat16.fromFloat(Float.intBitsToFloat(0x3F80_8000))); // tie, even below
        assertEquals((short) 0x3F82, BFloat16.fromFloat(Float.intBitsToFloat(0x3F81_8000))); // tie, even above
        assertEquals((short) 0x3F81, BFloat16.fromFloat(Float.intBitsToFloat(0x3F80_8001)));
        assertEquals((short) 0x7F80, BFloat16.fromFloat(Float.MAX_VALUE)); // beyond max + half ulp
        assertEquals((short) 0x7F7F, BFloat16.fromFloat(Float.intBitsToFloat(0x7F7F_7FFF)));
        assertEquals((short) 0xFF80, BFloat16.fromFloat(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x0001, BFloat16.fromFloat(Float.intBitsToFloat(0x0000_8001)));
    }

    @Test
    void roundsMidpointsToNearestEven() {
        for (int code = 0; code < 0x7F80; code++) {
            float mid = Float.intBitsToFloat(code << 16 | 0x8000);
            for (float f : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                assertEquals((short) Reference.roundBfloat16(f), BFloat16.fromFloat(f), "for " + f);
                assertEquals((short) Reference.roundBfloat16(-f), BFloat16.fromFloat(-f), "for " + -f);
            }
        }
    }

    @Property
    void roundsLikeTheReference(@ForAll int bits) {
        float f = Float.intBitsToFloat(bits);
        if (Float.isNaN(f)) {
            assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(f))));
        } else {
            assertEquals((short) Reference.roundBfloat16(f), BFloat16.fromFloat(f));
        }
    }

    @Test
    void bulkDecodesLittleEndian() {
        ByteBuffer buffer = ByteBuffer.allocate(2 * 0x10000).order(ByteOrder.LITTLE_ENDIAN);
        for (int code = 0; code < 0x10000; code++) {
            buffer.putShort(2 * code, (short) code);
        }
        float[] out = new float[0x10000];
        BFloat16.toFloat(MemorySegment.ofArray(buffer.array()), 0, out, 0, 0x10000);
        for (int code = 0; code < 0x10000; code++) {
            assertEquals(code << 16, Float.floatToRawIntBits(out[code]));
        }
        assertThrows(IndexOutOfBoundsException.class,
                () -> BFloat16.toFloat(MemorySegment.ofArray(new byte[3]), 0, new float[2], 0, 2));
    }
}
