package dev.weightsonly.tensors;

/**
 * Decoding of FP4 E2M1 ({@code float4_e2m1fn_x2} holds two per byte): 1 sign bit, 2 exponent bits
 * (bias 1), 1 mantissa bit, no infinities or NaNs. The 16 codes are 0, 0.5, 1, 1.5, 2, 3, 4, 6 and
 * their negatives.
 *
 * <p>Packing: in a {@link DType#FLOAT4_E2M1FN_X2} byte {@code b} the <em>first</em> value is the low
 * nibble {@code b & 0xF} and the second the high nibble {@code (b >>> 4) & 0xF}.
 */
public final class Float4E2M1 {
    private static final float[] VALUES = {
        0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
    };

    private Float4E2M1() {
    }

    /**
     * The value of a 4-bit code.
     *
     * @param nibble the code, 0..15: one half of a packed byte, already shifted and masked
     * @return one of the 16 values the format has (exact as a float)
     * @throws IllegalArgumentException if {@code nibble} is outside 0..15 (a sign-extended byte shifted
     *     right is a common mistake this catches)
     */
    public static float toFloat(int nibble) {
        if ((nibble & ~0xF) != 0) {
            throw new IllegalArgumentException("FP4 code must be in 0..15 but was " + nibble);
        }
        return VALUES[nibble];
    }
}
