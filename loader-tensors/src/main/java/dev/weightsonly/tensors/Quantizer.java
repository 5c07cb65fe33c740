package dev.weightsonly.tensors;

import java.util.Objects;

/**
 * How the integers of a quantized tensor map to real values, as torch's quantizers define it:
 * {@code real = (q - zero_point) * scale}, with one scale and zero point for the whole tensor or one per
 * index along an axis.
 */
public sealed interface Quantizer permits Quantizer.PerTensorAffine, Quantizer.PerChannelAffine {

    /**
     * {@code torch.per_tensor_affine}: one scale (a double, as torch keeps it) and one zero point.
     *
     * @param scale the step between consecutive integer codes, in real units
     * @param zeroPoint the integer code that stands for real zero
     */
    record PerTensorAffine(double scale, long zeroPoint) implements Quantizer {
    }

    /**
     * {@code torch.per_channel_affine} (or {@code per_channel_affine_float_qparams}): one scale and zero
     * point per index along {@code axis}, as 1-D tensors (float64 scales and int64 zero points; float32
     * both for float qparams). As in ATen, {@code floatQParams} follows the zero points' dtype: torch saves
     * {@code per_channel_affine_float_qparams} under the {@code per_channel_affine} tag with floating zero
     * points, and dequantizes it as {@code ((float) q - zero_point) * scale} all in float.
     *
     * @param scales a 1-D tensor of one scale per index along {@code axis}
     * @param zeroPoints a 1-D tensor of one zero point per index along {@code axis}, as long as {@code scales}
     * @param axis the dimension of the quantized tensor the channels run along
     * @param floatQParams whether the zero points are floating point (torch's
     *     {@code per_channel_affine_float_qparams}), which changes how values are dequantized
     */
    record PerChannelAffine(Tensor scales, Tensor zeroPoints, int axis, boolean floatQParams) implements Quantizer {
        /**
         * Checks only that both tensors are present; their shapes are checked against the quantized tensor
         * when it is built, where the axis length is known.
         *
         * @throws NullPointerException if {@code scales} or {@code zeroPoints} is null
         */
        public PerChannelAffine {
            Objects.requireNonNull(scales, "scales");
            Objects.requireNonNull(zeroPoints, "zeroPoints");
        }
    }
}
