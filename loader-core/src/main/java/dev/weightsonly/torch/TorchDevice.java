package dev.weightsonly.torch;

/**
 * A {@code torch.device}, kept as the string {@code str(device)} prints ({@code cpu}, {@code cuda:0}).
 * weightsonly loads everything to the host; the device is information about where the tensor lived.
 */
public record TorchDevice(String name) {

    @Override
    public String toString() {
        return name;
    }
}
