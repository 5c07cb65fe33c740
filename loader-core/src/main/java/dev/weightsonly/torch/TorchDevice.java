package dev.weightsonly.torch;

/**
 * A {@code torch.device}, kept as the string {@code str(device)} prints ({@code cpu}, {@code cuda:0}).
 * weightsonly loads everything to the host; the device is information about where the tensor lived.
 *
 * @param name the device as {@code str(device)} prints it, such as {@code "cpu"} or {@code "cuda:0"}
 */
public record TorchDevice(String name) {

    @Override
    public String toString() {
        return name;
    }
}
