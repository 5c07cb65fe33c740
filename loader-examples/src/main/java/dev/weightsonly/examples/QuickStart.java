package dev.weightsonly.examples;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.Tensor;
import java.nio.file.Path;
import java.util.Arrays;

/** The README's quick start: load a state dict, look at one tensor, copy its values out. */
public final class QuickStart {

    private QuickStart() {
    }

    /**
     * Prints every tensor's name, dtype and shape, then one value of {@code 0.weight}.
     *
     * @param args a state dict file, or none for the test fixture {@code sd_conv_bn.pt} (run from the repository)
     * @throws Exception if the file cannot be loaded; the example lets it propagate to stay short
     */
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args.length > 0 ? args[0] : "loader-core/src/test/resources/fixtures/sd_conv_bn.pt");
        try (Checkpoint checkpoint = Checkpoint.load(file)) {         // maps the file; no tensor bytes copied
            StateDict weights = checkpoint.stateDict();                  // names -> tensors, in saved order
            for (String name : weights.names()) {
                Tensor t = weights.tensor(name);
                System.out.println(name + " " + t.dtype() + " " + Arrays.toString(t.shape()));
            }
            Tensor kernel = weights.tensor("0.weight");
            float[] values = kernel.toFloatArray();                      // row-major copy into a Java array
            System.out.println("0.weight[0,0,0,0] = " + kernel.getFloat(0, 0, 0, 0) + ", "
                    + values.length + " values");
        }
    }
}
