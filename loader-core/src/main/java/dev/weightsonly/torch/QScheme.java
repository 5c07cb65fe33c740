package dev.weightsonly.torch;

/**
 * A quantization scheme global such as {@code torch.per_tensor_affine}, as a pickle names it (a quantized
 * observer's or a module's {@code qscheme} attribute). The quantized tensors themselves carry a
 * {@link dev.weightsonly.tensors.Quantizer} instead.
 */
public enum QScheme {
    /** {@code torch.per_tensor_affine}: one scale and zero point for the whole tensor. */
    PER_TENSOR_AFFINE("per_tensor_affine"),
    /** {@code torch.per_tensor_symmetric}: one scale for the whole tensor, zero point fixed by the dtype. */
    PER_TENSOR_SYMMETRIC("per_tensor_symmetric"),
    /** {@code torch.per_channel_affine}: a scale and zero point per index along one axis. */
    PER_CHANNEL_AFFINE("per_channel_affine"),
    /** {@code torch.per_channel_symmetric}: a scale per index along one axis, zero point fixed by the dtype. */
    PER_CHANNEL_SYMMETRIC("per_channel_symmetric"),
    /** {@code torch.per_channel_affine_float_qparams}: per channel, with floating-point zero points. */
    PER_CHANNEL_AFFINE_FLOAT_QPARAMS("per_channel_affine_float_qparams");

    private final String torchName;

    QScheme(String torchName) {
        this.torchName = torchName;
    }

    /**
     * The scheme's name in torch, for messages and the canonical dump.
     *
     * @return the name without the {@code torch.} prefix, such as {@code "per_tensor_affine"}
     */
    public String torchName() {
        return torchName;
    }

    @Override
    public String toString() {
        return "torch." + torchName;
    }
}
