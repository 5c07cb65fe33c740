package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

class Float8Test {
    private static void assertTable(DType type, IntToDoubleFunction reference) {
        for (int code = 0; code < 256; code++) {
            float actual = Float8.toFloat(type, (byte) code);
            double expected = reference.applyAsDouble(code);
            String what = type + " 0x" + Integer.toHexString(code);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), what + " should be NaN but was " + actual);
            } else {
                assertEquals(expected, actual, 0.0, what);
                assertEquals(Double.doubleToRawLongBits(expected) < 0, Math.copySign(1f, actual) < 0, what + " sign");
            }
        }
    }

    @Test
    void e4m3fn() {
        assertTable(DType.FLOAT8_E4M3FN,
                code -> (code & 0x7F) == 0x7F ? Double.NaN : Reference.minifloat(code, 4, 3, 7));
        assertEquals(448f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x7E));
        assertEquals(-448f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0xFE));
        assertTrue(Float.isNaN(Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x7F)));
        assertTrue(Float.isNaN(Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0xFF)));
        assertEquals(0x1p-9f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x01));
        assertEquals(0x1p-6f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x08));
        assertEquals(1f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x38));
        assertEquals(240f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x77)); // 0x78 is 256, a finite value
        assertEquals(256f, Float8.toFloat(DType.FLOAT8_E4M3FN, (byte) 0x78));
    }

    @Test
    void e5m2() {
        assertTable(DType.FLOAT8_E5M2, code -> {
            if ((code & 0x7C) == 0x7C) {
                return (code & 3) != 0 ? Double.NaN
                        : code >= 0x80 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            }
            return Reference.minifloat(code, 5, 2, 15);
        });
        assertEquals(57344f, Float8.toFloat(DType.FLOAT8_E5M2, (byte) 0x7B));
        assertEquals(Float.POSITIVE_INFINITY, Float8.toFloat(DType.FLOAT8_E5M2, (byte) 0x7C));
        assertEquals(Float.NEGATIVE_INFINITY, Float8.toFloat(DType.FLOAT8_E5M2, (byte) 0xFC));
        assertTrue(Float.isNaN(Float8.toFloat(DType.FLOAT8_E5M2, (byte) 0x7D)));
        assertEquals(0x1p-16f, Float8.toFloat(DType.FLOAT8_E5M2, (byte) 0x01));
        // e5m2 is the upper byte of an IEEE half: a cross-check independent of the reference.
        for (int code = 0; code < 256; code++) {
            float half = Float16.toFloat((short) (code << 8));
            float f8 = Float8.toFloat(DType.FLOAT8_E5M2, (byte) code);
            assertEquals(Float.floatToIntBits(half), Float.floatToIntBits(f8), "0x" + Integer.toHexString(code));
        }
    }

    @Test
    void e4m3fnuz() {
        assertTable(DType.FLOAT8_E4M3FNUZ, code -> code == 0x80 ? Double.NaN : Reference.minifloat(code, 4, 3, 8));
        assertTrue(Float.isNaN(Float8.toFloat(DType.FLOAT8_E4M3FNUZ, (byte) 0x80)));
        assertEquals(240f, Float8.toFloat(DType.FLOAT8_E4M3FNUZ, (byte) 0x7F));
        assertEquals(-240f, Float8.toFloat(DType.FLOAT8_E4M3FNUZ, (byte) 0xFF));
        assertEquals(0x1p-10f, Float8.toFloat(DType.FLOAT8_E4M3FNUZ, (byte) 0x01));
        assertEquals(0f, Float8.toFloat(DType.FLOAT8_E4M3FNUZ, (byte) 0x00));
    }

    @Test
    void e5m2fnuz() {
        assertTable(DType.FLOAT8_E5M2FNUZ, code -> code == 0x80 ? Double.NaN : Reference.minifloat(code, 5, 2, 16));
        assertEquals(57344f, Float8.toFloat(DType.FLOAT8_E5M2FNUZ, (byte) 0x7F));
        assertTrue(Float.isNaN(Float8.toFloat(DType.FLOAT8_E5M2FNUZ, (byte) 0x80)));
        assertEquals(0x1p-17f, Float8.toFloat(DType.FLOAT8_E5M2FNUZ, (byte) 0x01));
    }

    @Test
    void e8m0fnu() {
        assertTable(DType.FLOAT8_E8M0FNU, code -> code == 0xFF ? Double.NaN : Math.pow(2, code - 127));
        assertEquals(1f, Float8.toFloat(DType.FLOAT8_E8M0FNU, (byte) 0x7F));
        assertEquals(0x1p-127f, Float8.toFloat(DType.FLOAT8_E8M0FNU, (byte) 0x00));
        assertEquals(0x1p127f, Float8.toFloat(DType.FLOAT8_E8M0FNU, (byte) 0xFE));
        assertTrue(Float.isNaN(Float8.toFloat(DType.FLOAT8_E8M0FNU, (byte) 0xFF)));
    }

    @Test
    void refusesOtherDtypes() {
        assertThrows(IllegalArgumentException.class, () -> Float8.toFloat(DType.FLOAT16, (byte) 0));
        assertThrows(IllegalArgumentException.class, () -> Float8.toFloat(DType.UINT8, (byte) 0));
    }

    @Test
    void float4E2M1() {
        float[] expected = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
        for (int nibble = 0; nibble < 16; nibble++) {
            float actual = Float4E2M1.toFloat(nibble);
            assertEquals(Reference.minifloat(nibble, 2, 1, 1), actual, 0.0, "code " + nibble);
            assertEquals(nibble >= 8 ? -expected[nibble & 7] : expected[nibble], actual, 0.0);
            assertEquals(nibble >= 8, Math.copySign(1f, actual) < 0, "sign of code " + nibble);
        }
        assertThrows(IllegalArgumentException.class, () -> Float4E2M1.toFloat(16));
        assertThrows(IllegalArgumentException.class, () -> Float4E2M1.toFloat((byte) 0xF0 >> 4));
    }
}
