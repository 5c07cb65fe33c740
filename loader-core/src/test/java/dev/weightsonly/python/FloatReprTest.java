package dev.weightsonly.python;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PyValues#floatRepr} is Python's {@code repr(float)}; {@link PyValues#float32Repr} has the digits of NumPy's
 * {@code str(np.float32(x))} (checked with NumPy) in Python's layout for a float.
 */
class FloatReprTest {

    @ParameterizedTest
    @CsvSource({
        "0.0, 0.0", "-0.0, -0.0", "1.0, 1.0", "0.1, 0.1", "1e-05, 1e-05", "0.0001, 0.0001",
        "5e-324, 5e-324", "2.2250738585072014e-308, 2.2250738585072014e-308", "1e+300, 1e+300",
        "1.7976931348623157e+308, 1.7976931348623157e+308", "-123456789.125, -123456789.125",
        "1e+16, 1e+16", "1000000000000000.0, 1000000000000000.0", "1e+22, 1e+22", "123.456, 123.456",
        "0.30000000000000004, 0.30000000000000004", "1.5e-07, 1.5e-07", "NaN, nan", "Infinity, inf",
        "-Infinity, -inf", "1e+100, 1e+100", "-2.5e-100, -2.5e-100"})
    void matchesPythonRepr(double value, String python) {
        assertEquals(python, PyValues.floatRepr(value));
    }

    @Property(tries = 2000)
    void readsBackAsTheSameDouble(@ForAll double value) {
        if (Double.isFinite(value)) {
            assertEquals(value, Double.parseDouble(PyValues.floatRepr(value)));
        }
    }

    /** The digits are NumPy's for the float32; the layout is Python's (NumPy writes 1.6777216e+07 and 1e-04). */
    @ParameterizedTest
    @CsvSource({
        "0.1, 0.1", "1.4e-45, 1e-45", "3.4028235e+38, 3.4028235e+38", "1.1754944e-38, 1.1754944e-38",
        "16777216.0, 16777216.0", "1e+16, 1e+16", "0.0001, 0.0001", "1e-05, 1e-05", "-2.5, -2.5",
        "0.3, 0.3", "Infinity, inf"})
    void float32IsTheShortestThatReadsBackAsTheSameFloat(float value, String numpy) {
        assertEquals(numpy, PyValues.float32Repr(value));
    }

    @Property(tries = 2000)
    void float32ReadsBackAsTheSameFloat(@ForAll float value) {
        if (Float.isFinite(value)) {
            assertEquals(value, Float.parseFloat(PyValues.float32Repr(value)));
        }
    }
}
