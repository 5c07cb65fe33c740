package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The service's request reader accepts exactly RFC 8259 arrays of numbers, and says why it refuses the rest. */
class FloatJsonTest {

    @Test
    void readsJsonNumbersInEveryForm() throws Exception {
        assertArrayEquals(new float[] {0, -0.0f, 1.5f, -2e-3f, 1e10f, 3},
                FloatJson.parseArray(" [0, -0.0 ,1.5,\n-2E-3,\t1e+10, 3 ] ", 6));
        assertArrayEquals(new float[0], FloatJson.parseArray("[]", 0));
    }

    @Test
    void refusesWhatJsonDoesNotAllow() {
        String[][] cases = {
                {"[01, 2]", "expected ']' at character 2"}, // no leading zeros: the number ends after "0"
                {"[1., 2]", "expected a number at character 1"},
                {"[.5, 2]", "expected a number at character 1"},
                {"[+1, 2]", "expected a number at character 1"},
                {"[1, 2,]", "expected a number at character 6"},
                {"[1 2]", "expected ']' at character 3"},
                {"[1, 2] x", "unexpected text after the array at character 6"},
                {"[1, 2", "expected ']' at character 5 (end of input)"},
                {"[NaN, 2]", "expected a number at character 1"},
                {"[\"1\", 2]", "expected a number at character 1"},
                {"", "expected '[' at character 0 (end of input)"},
                {"[1]", "expected an array of 2 numbers, got 1"},
                {"[1, 2, 3]", "expected an array of 2 numbers, got more"},
                {"[3.5e38, 1]", "value 0 (3.5e38) is outside the float range"},
        };
        for (String[] c : cases) {
            FloatJson.BadRequestException e = assertThrows(FloatJson.BadRequestException.class,
                    () -> FloatJson.parseArray(c[0], 2), c[0]);
            assertEquals(true, e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void writesFloatsThatReadBackExactly() throws Exception {
        float[] values = {0.1f, -7.25f, 1e-30f, Float.MAX_VALUE, Float.MIN_VALUE};
        String text = FloatJson.array(values);
        assertArrayEquals(values, FloatJson.parseArray(text, values.length));
        assertThrows(IllegalArgumentException.class, () -> FloatJson.array(new float[] {Float.NaN}));
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", FloatJson.string("a\"b\\c\n\u0001"));
    }
}
