package dev.weightsonly.examples;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Inputs and, when present, PyTorch's outputs for them, as {@code gen_cnn.py} saves them in
 * {@code cnn_reference.pt}: a dict with {@code inputs} ({@code [n, 1, 8, 8]} or {@code [n, 64]}, floating point)
 * and optionally {@code logits} ({@code [n, classes]}) and {@code classes} ({@code [n]}, int64).
 *
 * <p>The reference is itself a weights-only checkpoint, read with the library, so the comparison needs no
 * second file format. The arrays are copies: the checkpoint is closed before this returns.
 *
 * @param inputs  one row of {@value SmallCnn#INPUT_LENGTH} pixels per sample
 * @param logits  PyTorch's logits per sample, or null if the file has none
 * @param classes PyTorch's predicted class per sample, or null if the file has none
 */
public record ReferenceSamples(float[][] inputs, float[][] logits, long[] classes) {

    /**
     * Reads {@code file}.
     *
     * @param file a reference file as {@code gen_cnn.py} writes it
     * @return copies of the inputs and of PyTorch's outputs (the checkpoint is closed)
     * @throws IOException if the file cannot be read or is refused
     * @throws IllegalArgumentException if it is not shaped as described above; the message names the file
     */
    public static ReferenceSamples load(Path file) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.load(file)) {
            StateDict dict;
            try {
                dict = checkpoint.stateDict();
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            if (!dict.contains("inputs")) {
                throw new IllegalArgumentException(file + ": no 'inputs' tensor; it has " + dict.names());
            }
            Tensor inputs = dict.tensor("inputs");
            long[] shape = inputs.shape();
            if (shape.length < 2 || shape[0] > Integer.MAX_VALUE / SmallCnn.INPUT_LENGTH
                    || inputs.numel() != shape[0] * SmallCnn.INPUT_LENGTH) {
                throw new IllegalArgumentException(file + ": 'inputs' has shape " + Arrays.toString(shape)
                        + ", expected [n, 1, 8, 8] or [n, 64]");
            }
            int n = (int) shape[0];
            float[][] rows = rows(inputs.toFloatArray(), n);
            float[][] logits = null;
            if (dict.contains("logits")) {
                Tensor t = dict.tensor("logits");
                if (t.dim() != 2 || t.size(0) != n) {
                    throw new IllegalArgumentException(file + ": 'logits' has shape " + Arrays.toString(t.shape())
                            + ", expected [" + n + ", classes]");
                }
                logits = rows(t.toFloatArray(), n);
            }
            long[] classes = null;
            if (dict.contains("classes")) {
                Tensor t = dict.tensor("classes");
                if (t.dim() != 1 || t.size(0) != n) {
                    throw new IllegalArgumentException(file + ": 'classes' has shape " + Arrays.toString(t.shape())
                            + ", expected [" + n + "]");
                }
                classes = t.toLongArray();
            }
            return new ReferenceSamples(rows, logits, classes);
        }
    }

    private static float[][] rows(float[] flat, int n) {
        int width = n == 0 ? 0 : flat.length / n;
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return rows;
    }

    /**
     * How many samples there are.
     *
     * @return the number of input rows
     */
    public int size() {
        return inputs.length;
    }
}
