package dev.weightsonly.djl;

import java.nio.file.Path;

/** The files gen_models.py writes with PyTorch 2.6 (src/test/resources/djl). */
final class Fixtures {

    private Fixtures() {
    }

    static Path file(String name) {
        return Path.of("src", "test", "resources", "djl", name);
    }

    /** The largest absolute difference between two arrays of the same length. */
    static double maxAbsDifference(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError(expected.length + " values expected, " + actual.length + " given");
        }
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= max)) {
                max = d;  // NaN propagates: a NaN output never passes a tolerance check
            }
        }
        return max;
    }
}
