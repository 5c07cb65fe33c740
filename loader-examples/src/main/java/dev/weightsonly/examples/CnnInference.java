package dev.weightsonly.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Runs a convolutional network trained in PyTorch, in plain Java: the state dict is loaded weights-only
 * ({@link SmallCnn#load}), the forward pass is a few loops over float arrays ({@link Layers}), and the result is
 * compared with the outputs PyTorch computed for the same inputs.
 *
 * <pre>
 * CnnInference MODEL.pt SAMPLES.pt
 * </pre>
 *
 * <p>{@code MODEL.pt} is {@code torch.save(model.state_dict())} of the network in {@code gen_cnn.py};
 * {@code SAMPLES.pt} holds {@code inputs} and optionally PyTorch's {@code logits} and {@code classes}
 * ({@link ReferenceSamples}). One line per sample shows the Java logits and class, and PyTorch's class with the
 * largest logit difference when the file has them. Exit status: 0, or 1 when a class differs from PyTorch's or a
 * logit is more than {@value #TOLERANCE} away from it; 2 when a file cannot be used.
 */
public final class CnnInference {

    /** How far a logit may be from PyTorch's: float rounding differences only (PyTorch sums in its own order). */
    public static final double TOLERANCE = 1e-5;

    private CnnInference() {
    }

    /**
     * The network's answer for every sample, and how it compares with PyTorch's.
     *
     * @param logits        Java's logits, one row per sample
     * @param classes       Java's predicted classes
     * @param maxDifference the largest {@code |java - pytorch|} over all logits, or NaN without PyTorch logits
     * @param classMismatches how many samples PyTorch classifies differently (0 without PyTorch classes)
     */
    public record Result(float[][] logits, int[] classes, double maxDifference, int classMismatches) {

        /**
         * Whether Java agrees with PyTorch: same classes, logits within {@link #TOLERANCE}.
         *
         * @return true if no class differs and every logit is within the tolerance (true as well when the
         *     samples carry no PyTorch outputs to compare with)
         */
        public boolean agreesWithPyTorch() {
            return classMismatches == 0 && !(maxDifference > TOLERANCE);
        }
    }

    /**
     * Runs {@code network} on every sample and compares with the reference outputs where there are some.
     *
     * @param network the loaded network
     * @param samples the inputs, and PyTorch's logits and classes for them if the file has them
     * @return Java's logits and classes, with the largest logit difference and the number of class mismatches
     * @throws IllegalArgumentException if a sample is not one image of {@value SmallCnn#INPUT_LENGTH} values
     */
    public static Result run(SmallCnn network, ReferenceSamples samples) {
        int n = samples.size();
        float[][] logits = new float[n][];
        int[] classes = new int[n];
        double maxDifference = samples.logits() == null ? Double.NaN : 0;
        int mismatches = 0;
        for (int i = 0; i < n; i++) {
            logits[i] = network.logits(samples.inputs()[i]);
            classes[i] = SmallCnn.predictedClass(logits[i]);
            if (samples.logits() != null) {
                maxDifference = Math.max(maxDifference, maxAbsDifference(logits[i], samples.logits()[i]));
            }
            if (samples.classes() != null && samples.classes()[i] != classes[i]) {
                mismatches++;
            }
        }
        return new Result(logits, classes, maxDifference, mismatches);
    }

    /** The largest {@code |a[i] - b[i]|}; infinite when the lengths differ (a different number of classes). */
    static double maxAbsDifference(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(max, d);
        }
        return max;
    }

    /**
     * Runs the network on the samples and prints one line per sample and a verdict; exits with 0 when Java
     * agrees with PyTorch, 1 when it does not, 2 when a file cannot be used.
     *
     * @param args {@code MODEL.pt SAMPLES.pt}
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** What {@link #main} does, with the streams given and the exit status returned (used by the test). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 2) {
            err.println("usage: CnnInference MODEL.pt SAMPLES.pt");
            return 2;
        }
        SmallCnn network;
        ReferenceSamples samples;
        try {
            network = SmallCnn.load(Path.of(args[0]));
            samples = ReferenceSamples.load(Path.of(args[1]));
        } catch (NoSuchFileException e) {
            err.println("CnnInference: " + e.getFile() + ": no such file");
            return 2;
        } catch (IOException | IllegalArgumentException e) {
            err.println("CnnInference: " + String.valueOf(e.getMessage()).replace('\n', ' '));
            return 2;
        }
        out.printf(Locale.ROOT, "%s: %d parameters, %d classes%n", args[0], network.parameterCount(),
                network.classes());
        Result result = run(network, samples);
        for (int i = 0; i < samples.size(); i++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "sample %2d: class %d, logits %s", i,
                    result.classes()[i], format(result.logits()[i])));
            if (samples.classes() != null) {
                line.append(", PyTorch class ").append(samples.classes()[i]);
            }
            if (samples.logits() != null) {
                line.append(String.format(Locale.ROOT, ", max |diff| %.1e",
                        maxAbsDifference(result.logits()[i], samples.logits()[i])));
            }
            out.println(line);
        }
        if (samples.logits() != null || samples.classes() != null) {
            out.printf(Locale.ROOT, "%d samples: %d classes differ from PyTorch's, largest logit difference %.1e"
                    + " (tolerance %.0e): %s%n", samples.size(), result.classMismatches(), result.maxDifference(),
                    TOLERANCE, result.agreesWithPyTorch() ? "agrees with PyTorch" : "DISAGREES with PyTorch");
        }
        return result.agreesWithPyTorch() ? 0 : 1;
    }

    private static String format(float[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%8.4f", values[i]));
        }
        return sb.append(']').toString();
    }
}
