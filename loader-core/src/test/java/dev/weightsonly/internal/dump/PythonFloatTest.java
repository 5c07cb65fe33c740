package dev.weightsonly.internal.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PythonFloatTest {

    @ParameterizedTest
    @CsvSource({
        "0.0, 0.0", "-0.0, -0.0", "1.0, 1.0", "0.1, 0.1", "1e-05, 1e-05", "0.0001, 0.0001",
        "5e-324, 5e-324", "2.2250738585072014e-308, 2.2250738585072014e-308", "1e+300, 1e+300",
        "1.7976931348623157e+308, 1.7976931348623157e+308", "-123456789.125, -123456789.125",
        "1e+16, 1e+16", "1000000000000000.0, 1000000000000000.0", "1e+22, 1e+22", "123.456, 123.456",
        "0.30000000000000004, 0.30000000000000004", "1.5e-07, 1.5e-07"})
    void matchesPythonRepr(double value, String python) {
        assertEquals(python, PythonFloat.repr(value));
    }

    @Property(tries = 2000)
    void readsBackAsTheSameDouble(@ForAll double value) {
        if (Double.isFinite(value)) {
            assertEquals(value, Double.parseDouble(PythonFloat.repr(value)));
        }
    }
}
