package dev.weightsonly.examples;

/**
 * The few layers a small convolutional network needs, in plain Java over row-major {@code float[]}s, with
 * PyTorch's semantics: {@code Conv2d} is a cross-correlation (the kernel is not flipped), {@code MaxPool2d}
 * drops a trailing row or column that does not fill a window, {@code Linear} computes {@code x W^T + b}.
 *
 * <p>Sums are accumulated in double and rounded to float once per output. PyTorch sums in float in an order
 * of its own choosing (vectorised, blocked), so neither order reproduces the other bit for bit; a double
 * accumulator keeps this side within half an ulp of the exact result, so the difference to PyTorch is only
 * PyTorch's own rounding, a few ulps.
 *
 * <p>Nothing here allocates beyond the output array, and nothing checks shapes: {@link SmallCnn} validates the
 * weights once when it is built, so the hot path stays simple.
 */
final class Layers {

    private Layers() {
    }

    /**
     * {@code Conv2d(inChannels, outChannels, k)}, stride 1, no padding: {@code input} is
     * {@code [inChannels, side, side]}, {@code weight} {@code [outChannels, inChannels, k, k]}, {@code bias}
     * {@code [outChannels]}; the result is {@code [outChannels, side - k + 1, side - k + 1]}.
     */
    static float[] conv2d(float[] input, int inChannels, int side, float[] weight, float[] bias, int k) {
        int outChannels = bias.length;
        int outSide = side - k + 1;
        float[] out = new float[outChannels * outSide * outSide];
        for (int o = 0; o < outChannels; o++) {
            for (int y = 0; y < outSide; y++) {
                for (int x = 0; x < outSide; x++) {
                    double sum = bias[o];
                    for (int i = 0; i < inChannels; i++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                sum += (double) weight[((o * inChannels + i) * k + ky) * k + kx]
                                        * input[(i * side + y + ky) * side + x + kx];
                            }
                        }
                    }
                    out[(o * outSide + y) * outSide + x] = (float) sum;
                }
            }
        }
        return out;
    }

    /** {@code ReLU}, in place: negative values become 0 (NaN stays NaN, as in PyTorch). */
    static float[] relu(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0) {
                values[i] = 0;
            }
        }
        return values;
    }

    /**
     * {@code MaxPool2d(window)} with stride {@code window}: {@code input} is {@code [channels, side, side]}, the
     * result {@code [channels, side / window, side / window]} (floor, as PyTorch's default {@code ceil_mode=False}).
     */
    static float[] maxPool2d(float[] input, int channels, int side, int window) {
        int outSide = side / window;
        float[] out = new float[channels * outSide * outSide];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outSide; y++) {
                for (int x = 0; x < outSide; x++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int dy = 0; dy < window; dy++) {
                        for (int dx = 0; dx < window; dx++) {
                            float v = input[(c * side + y * window + dy) * side + x * window + dx];
                            // PyTorch propagates NaN through max pooling; Math.max does too.
                            max = Math.max(max, v);
                        }
                    }
                    out[(c * outSide + y) * outSide + x] = max;
                }
            }
        }
        return out;
    }

    /** {@code Linear(in, out)}: {@code weight} is {@code [out, in]} (PyTorch's layout), {@code bias} {@code [out]}. */
    static float[] linear(float[] input, float[] weight, float[] bias) {
        int in = input.length;
        float[] out = new float[bias.length];
        for (int o = 0; o < out.length; o++) {
            double sum = bias[o];
            for (int i = 0; i < in; i++) {
                sum += (double) weight[o * in + i] * input[i];
            }
            out[o] = (float) sum;
        }
        return out;
    }

    /** The index of the largest value, the first on ties (as {@code torch.argmax} on CPU). */
    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
