package dev.weightsonly.tensors;

/**
 * Independent reference decoders for the tests, written from the format definitions (sign, biased
 * exponent, mantissa) with double arithmetic and Math.pow, sharing no code with the library.
 */
final class Reference {
    private Reference() {
    }

    /** The finite value of a sign/exponent/mantissa code, ignoring special encodings. */
    static double minifloat(int code, int expBits, int manBits, int bias) {
        int sign = (code >> (expBits + manBits)) & 1;
        int exponent = (code >> manBits) & ((1 << expBits) - 1);
        int mantissa = code & ((1 << manBits) - 1);
        double fraction = mantissa / Math.pow(2, manBits);
        double magnitude = exponent == 0
                ? fraction * Math.pow(2, 1 - bias)
                : (1 + fraction) * Math.pow(2, exponent - bias);
        return sign == 1 ? -magnitude : magnitude;
    }

    /** IEEE binary16. */
    static double half(int code) {
        int exponent = (code >> 10) & 0x1F;
        if (exponent == 0x1F) {
            if ((code & 0x3FF) != 0) {
                return Double.NaN;
            }
            return (code & 0x8000) != 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return minifloat(code & 0xFFFF, 5, 10, 15);
    }

    /** bfloat16: sign, 8 exponent bits (bias 127), 7 mantissa bits, IEEE specials. */
    static double bfloat16(int code) {
        int exponent = (code >> 7) & 0xFF;
        if (exponent == 0xFF) {
            if ((code & 0x7F) != 0) {
                return Double.NaN;
            }
            return (code & 0x8000) != 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return minifloat(code & 0xFFFF, 8, 7, 127);
    }

    /**
     * Round-to-nearest-even encoding of a finite or infinite {@code value} into a 16-bit format whose
     * non-negative codes increase with their values up to the infinity code {@code infCode};
     * {@code beyondMax} is the value the rounding treats the infinity code as having (2^emax+1).
     */
    static int roundToNearestEven(float value, java.util.function.IntToDoubleFunction decode, int infCode,
                                  double beyondMax) {
        double magnitude = Math.abs((double) value);
        int signBit = (Float.floatToRawIntBits(value) < 0) ? 0x8000 : 0;
        if (Double.isInfinite(magnitude) || magnitude >= beyondMax) {
            return signBit | infCode;
        }
        // Largest code whose value is <= magnitude.
        int lo = 0;
        int hi = infCode - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (decode.applyAsDouble(mid) <= magnitude) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        double below = decode.applyAsDouble(lo);
        if (below == magnitude) {
            return signBit | lo;
        }
        double above = lo + 1 == infCode ? beyondMax : decode.applyAsDouble(lo + 1);
        double toBelow = magnitude - below;
        double toAbove = above - magnitude;
        int code = toBelow < toAbove ? lo : toAbove < toBelow ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
        return signBit | code;
    }

    static int roundHalf(float value) {
        return roundToNearestEven(value, Reference::half, 0x7C00, 65536.0);
    }

    static int roundBfloat16(float value) {
        return roundToNearestEven(value, Reference::bfloat16, 0x7F80, Math.pow(2, 128));
    }
}
