package dev.weightsonly.torch;

/** A quantization scheme global such as {@code torch.per_tensor_affine}. */
public enum QScheme {
    PER_TENSOR_AFFINE("per_tensor_affine"),
    PER_TENSOR_SYMMETRIC("per_tensor_symmetric"),
    PER_CHANNEL_AFFINE("per_channel_affine"),
    PER_CHANNEL_SYMMETRIC("per_channel_symmetric"),
    PER_CHANNEL_AFFINE_FLOAT_QPARAMS("per_channel_affine_float_qparams");

    private final String torchName;

    QScheme(String torchName) {
        this.torchName = torchName;
    }

    public String torchName() {
        return torchName;
    }

    @Override
    public String toString() {
        return "torch." + torchName;
    }
}
