package dev.weightsonly.tensors;

/**
 * Decoding of the five 8-bit floating-point dtypes.
 *
 * <ul>
 *   <li>{@link DType#FLOAT8_E5M2}: OCP E5M2, bias 15, IEEE-like (infinities, NaNs); max 57344.</li>
 *   <li>{@link DType#FLOAT8_E4M3FN}: OCP E4M3, bias 7, no infinities, NaN only at {@code S.1111.111};
 *       max 448.</li>
 *   <li>{@link DType#FLOAT8_E5M2FNUZ} / {@link DType#FLOAT8_E4M3FNUZ}: bias one larger (16 / 8), no
 *       infinities, no negative zero: {@code 0x80} is the only NaN; max 57344 / 240.</li>
 *   <li>{@link DType#FLOAT8_E8M0FNU}: an unsigned biased exponent only, value {@code 2^(code-127)},
 *       {@code 0xFF} is NaN.</li>
 * </ul>
 *
 * Every format has only 256 codes, so each is decoded once into a table; every value is exactly
 * representable as a float (2^-127, the smallest, is a float subnormal).
 */
public final class Float8 {
    private static final float[] E5M2 = minifloatTable(5, 2, 15, Special.IEEE);
    private static final float[] E4M3FN = minifloatTable(4, 3, 7, Special.FN);
    private static final float[] E5M2FNUZ = minifloatTable(5, 2, 16, Special.FNUZ);
    private static final float[] E4M3FNUZ = minifloatTable(4, 3, 8, Special.FNUZ);
    private static final float[] E8M0FNU = e8m0Table();

    /** How a format spends its codes on non-finite values. */
    private enum Special { IEEE, FN, FNUZ }

    private Float8() {
    }

    /**
     * The exact value of {@code bits} in the 8-bit format {@code type}.
     *
     * @param type which of the five float8 formats {@code bits} is in
     * @param bits the stored byte
     * @return the value, exact as a float; NaN for the format's NaN codes, an infinity only for E5M2
     * @throws IllegalArgumentException if {@code type} is not one of the five float8 dtypes
     */
    public static float toFloat(DType type, byte bits) {
        return table(type)[bits & 0xFF];
    }

    static float[] table(DType type) {
        return switch (type) {
            case FLOAT8_E5M2 -> E5M2;
            case FLOAT8_E4M3FN -> E4M3FN;
            case FLOAT8_E5M2FNUZ -> E5M2FNUZ;
            case FLOAT8_E4M3FNUZ -> E4M3FNUZ;
            case FLOAT8_E8M0FNU -> E8M0FNU;
            default -> throw new IllegalArgumentException(type + " is not a float8 dtype");
        };
    }

    /** Sign bit, {@code expBits} exponent bits, {@code manBits} mantissa bits, subnormals at exponent 0. */
    private static float[] minifloatTable(int expBits, int manBits, int bias, Special special) {
        int expMax = (1 << expBits) - 1;
        int manMax = (1 << manBits) - 1;
        float[] table = new float[256];
        for (int code = 0; code < 256; code++) {
            int exponent = (code >>> manBits) & expMax;
            int mantissa = code & manMax;
            boolean negative = (code & 0x80) != 0;
            float magnitude;
            if (special == Special.FNUZ && code == 0x80) {
                magnitude = Float.NaN; // the code that would be negative zero
            } else if (special == Special.IEEE && exponent == expMax) {
                magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
            } else if (special == Special.FN && exponent == expMax && mantissa == manMax) {
                magnitude = Float.NaN;
            } else if (exponent == 0) {
                magnitude = Math.scalb((float) mantissa, 1 - bias - manBits);
            } else {
                magnitude = Math.scalb((float) ((1 << manBits) | mantissa), exponent - bias - manBits);
            }
            table[code] = negative ? -magnitude : magnitude;
        }
        return table;
    }

    private static float[] e8m0Table() {
        float[] table = new float[256];
        for (int code = 0; code < 255; code++) {
            table[code] = Math.scalb(1.0f, code - 127);
        }
        table[255] = Float.NaN;
        return table;
    }
}
