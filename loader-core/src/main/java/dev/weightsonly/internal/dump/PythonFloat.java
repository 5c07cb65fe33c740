package dev.weightsonly.internal.dump;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Formats a double as Python's {@code repr(float)} does: the shortest digits that round-trip, positional
 * between 1e-4 and 1e16, otherwise scientific with a two-digit signed exponent ({@code 1e-05}, {@code 1e+16}).
 * The dump uses it so that its text matches a dump printed by Python, number for number.
 */
public final class PythonFloat {

    private PythonFloat() {
    }

    public static String repr(double v) {
        if (v == 0) {
            return (1 / v < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortestDigits(Math.abs(v));
        String digits = shortest.unscaledValue().toString();
        int exponent = digits.length() - 1 - shortest.scale(); // value = d.ddd × 10^exponent
        String sign = v < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = shortest.toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String exp = String.format("%s%02d", exponent < 0 ? "-" : "+", Math.abs(exponent));
        return sign + mantissa + "e" + exp;
    }

    /**
     * The fewest significant digits that read back as {@code v}, correctly rounded. Not
     * {@code Double.toString}: it keeps at least two digits ({@code 4.9E-324} where Python says {@code 5e-324}).
     */
    private static BigDecimal shortestDigits(double v) {
        BigDecimal exact = new BigDecimal(v);
        for (int n = 1; n < 17; n++) {
            BigDecimal rounded = exact.round(new MathContext(n, RoundingMode.HALF_EVEN));
            if (rounded.doubleValue() == v) {
                return rounded.stripTrailingZeros();
            }
        }
        return exact.round(new MathContext(17, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }
}
