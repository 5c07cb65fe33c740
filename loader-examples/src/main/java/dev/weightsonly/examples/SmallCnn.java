package dev.weightsonly.examples;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The small convolutional network trained by {@code gen_cnn.py}, run in plain Java:
 * {@code conv (Conv2d(1, C, k)) -> ReLU -> MaxPool2d(2) -> Flatten -> fc1 (Linear) -> ReLU -> fc2 (Linear)} on one
 * 8x8 single-channel image (64 floats, row-major).
 *
 * <p>The weights are copied out of the checkpoint into {@code float[]}s when the network is built. For a network
 * of a few kilobytes that is the right trade: the forward pass reads plain arrays (no bounds-checked segment
 * reads in the inner loops), and the network no longer depends on the checkpoint, which can be closed at once.
 * For large models one would keep the zero-copy {@link Tensor} views instead (see {@link DjlStyleImport}).
 *
 * <p>The sizes (channels, kernel, hidden width, classes) are read from the tensors' shapes, and every shape is
 * checked against the others before any input is seen, so a checkpoint of another model is refused with a
 * message saying which tensor does not fit, not with an {@link ArrayIndexOutOfBoundsException} later.
 * Instances are immutable and safe to share between threads.
 */
public final class SmallCnn {

    /** Images are {@value} x {@value} pixels, one channel. */
    public static final int SIDE = 8;
    // The channel count comes from the file: bounded before it sizes anything (a stride-0 view can claim any).
    private static final long MAX_CHANNELS = 1 << 16;
    /** The length of an input: {@code SIDE * SIDE}. */
    public static final int INPUT_LENGTH = SIDE * SIDE;
    private static final int POOL = 2;
    private static final String[] NAMES = {"conv.weight", "conv.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};

    private final float[] convWeight;
    private final float[] convBias;
    private final int kernel;
    private final float[] fc1Weight;
    private final float[] fc1Bias;
    private final float[] fc2Weight;
    private final float[] fc2Bias;

    private SmallCnn(float[] convWeight, float[] convBias, int kernel, float[] fc1Weight, float[] fc1Bias,
            float[] fc2Weight, float[] fc2Bias) {
        this.convWeight = convWeight;
        this.convBias = convBias;
        this.kernel = kernel;
        this.fc1Weight = fc1Weight;
        this.fc1Bias = fc1Bias;
        this.fc2Weight = fc2Weight;
        this.fc2Bias = fc2Bias;
    }

    /**
     * Loads the network from a {@code torch.save(model.state_dict())} file: the checkpoint is loaded weights-only
     * (a malicious file is refused with a {@link dev.weightsonly.CheckpointException}), the weights copied out,
     * and the checkpoint closed again.
     *
     * @param file the state dict file
     * @return the network, holding copies of its weights
     * @throws IOException if the file cannot be read or is refused
     * @throws IllegalArgumentException if it loads but is not this network; the message names the file
     */
    public static SmallCnn load(Path file) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.load(file)) {
            StateDict weights;
            try {
                weights = checkpoint.stateDict();
            } catch (IllegalStateException notAStateDict) {
                throw new IllegalArgumentException(notAStateDict.getMessage(), notAStateDict);
            }
            try {
                return fromStateDict(weights);
            } catch (IllegalArgumentException wrongModel) {
                throw new IllegalArgumentException(file + ": " + wrongModel.getMessage(), wrongModel);
            }
        }
    }

    /**
     * Builds the network from an open state dict, copying the six tensors it needs ({@code conv.weight},
     * {@code conv.bias}, {@code fc1.weight}, {@code fc1.bias}, {@code fc2.weight}, {@code fc2.bias}; floating
     * point of any width). Other entries are ignored.
     *
     * @param weights an open state dict; the network keeps copies, so it may be closed afterwards
     * @return the network
     * @throws IllegalArgumentException if a tensor is missing, not floating point, or of a shape that does not
     *     fit the others; the message says which and why
     */
    public static SmallCnn fromStateDict(StateDict weights) {
        for (String name : NAMES) {
            if (!weights.contains(name)) {
                throw new IllegalArgumentException("not the small CNN of gen_cnn.py: no tensor '" + name
                        + "'; the state dict has " + weights.names());
            }
            if (weights.tensor(name).dtype().kind() != DType.Kind.FLOAT) {
                throw new IllegalArgumentException("'" + name + "' is " + weights.tensor(name).dtype()
                        + ", not floating point");
            }
        }
        Tensor conv = weights.tensor("conv.weight");
        long[] c = conv.shape();
        requireShape(c.length == 4 && c[0] >= 1 && c[0] <= MAX_CHANNELS && c[1] == 1 && c[2] == c[3] && c[2] >= 1
                && c[2] <= SIDE - POOL + 1, "conv.weight", c, "[channels, 1, k, k] with at most " + MAX_CHANNELS
                + " channels and k at most " + (SIDE - POOL + 1)
                        + " (the convolution's output must fill a pooling window)");
        int channels = (int) c[0];
        int kernel = (int) c[2];
        requireShape(Arrays.equals(weights.tensor("conv.bias").shape(), new long[] {channels}), "conv.bias",
                weights.tensor("conv.bias").shape(), "[" + channels + "] (one per conv channel)");
        long pooled = (SIDE - kernel + 1) / POOL;
        long flat = channels * pooled * pooled;
        long[] f1 = weights.tensor("fc1.weight").shape();
        requireShape(f1.length == 2 && f1[1] == flat, "fc1.weight", f1,
                "[hidden, " + flat + "] (" + channels + " channels x " + pooled + " x " + pooled + " after pooling)");
        long hidden = f1[0];
        requireShape(Arrays.equals(weights.tensor("fc1.bias").shape(), new long[] {hidden}), "fc1.bias",
                weights.tensor("fc1.bias").shape(), "[" + hidden + "]");
        long[] f2 = weights.tensor("fc2.weight").shape();
        requireShape(f2.length == 2 && f2[1] == hidden && f2[0] >= 1, "fc2.weight", f2, "[classes, " + hidden + "]");
        requireShape(Arrays.equals(weights.tensor("fc2.bias").shape(), new long[] {f2[0]}), "fc2.bias",
                weights.tensor("fc2.bias").shape(), "[" + f2[0] + "]");
        return new SmallCnn(weights.tensor("conv.weight").toFloatArray(), weights.tensor("conv.bias").toFloatArray(),
                kernel, weights.tensor("fc1.weight").toFloatArray(), weights.tensor("fc1.bias").toFloatArray(),
                weights.tensor("fc2.weight").toFloatArray(), weights.tensor("fc2.bias").toFloatArray());
    }

    private static void requireShape(boolean ok, String name, long[] shape, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("'" + name + "' has shape " + Arrays.toString(shape) + ", expected "
                    + expected);
        }
    }

    /**
     * How many classes the network scores.
     *
     * @return the length of every {@link #logits} result
     */
    public int classes() {
        return fc2Bias.length;
    }

    /**
     * How many parameters (weights and biases) the network has, as PyTorch's
     * {@code sum(p.numel() for p in model.parameters())}.
     *
     * @return the number of floats the network holds
     */
    public int parameterCount() {
        return convWeight.length + convBias.length + fc1Weight.length + fc1Bias.length + fc2Weight.length
                + fc2Bias.length;
    }

    /**
     * The network's output for one image: one unnormalised score per class, as PyTorch's {@code model(x)} returns
     * in eval mode.
     *
     * @param image {@value #INPUT_LENGTH} pixel values, row by row
     * @return one score per class, a fresh array
     * @throws IllegalArgumentException if {@code image} does not have {@value #INPUT_LENGTH} values
     */
    public float[] logits(float[] image) {
        if (image.length != INPUT_LENGTH) {
            throw new IllegalArgumentException("an image is " + INPUT_LENGTH + " values (" + SIDE + " x " + SIDE
                    + "), not " + image.length);
        }
        int channels = convBias.length;
        int convSide = SIDE - kernel + 1;
        float[] x = Layers.relu(Layers.conv2d(image, 1, SIDE, convWeight, convBias, kernel));
        x = Layers.maxPool2d(x, channels, convSide, POOL);       // already flat: [channels, side, side] row-major
        x = Layers.relu(Layers.linear(x, fc1Weight, fc1Bias));
        return Layers.linear(x, fc2Weight, fc2Bias);
    }

    /**
     * The predicted class of {@code logits}: the index of the largest score, as PyTorch's {@code argmax}.
     *
     * @param logits the scores {@link #logits} returned
     * @return the index of the largest score (the first, on a tie)
     */
    public static int predictedClass(float[] logits) {
        return Layers.argmax(logits);
    }
}
