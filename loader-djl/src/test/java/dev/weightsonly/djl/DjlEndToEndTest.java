package dev.weightsonly.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PyTorch models rebuilt from DJL blocks, their weights loaded from PyTorch state dicts by weightsonly, give
 * PyTorch's outputs (computed by gen_models.py with PyTorch 2.6) on the same inputs, within 1e-5, in DJL's real
 * PyTorch engine (libtorch 2.7.1).
 */
class DjlEndToEndTest {

    private static final double TOLERANCE = 1e-5;

    @Test
    void smallResNetWithBatchNormGivesPyTorchsOutputs() throws Exception {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint io = Checkpoint.load(Fixtures.file("resnet_io.pt"))) {
            SmallResNet model = new SmallResNet();
            model.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 8, 8));
            LoadReport report;
            try (Checkpoint weights = Checkpoint.load(Fixtures.file("resnet.pt"))) {
                report = StateDictLoader.load(model, weights.stateDict().asMap(), true);
                assertEquals(weights.stateDict().size() - 3, report.loaded().size());
            }
            // The checkpoint is closed: the block holds copies, as it must to be trained or kept.
            assertEquals(List.of(), report.missing());
            assertEquals(List.of(), report.unexpected());
            assertEquals(List.of("stem.1.num_batches_tracked", "layer1.0.bn1.num_batches_tracked",
                    "layer1.0.bn2.num_batches_tracked"), report.ignored());
            assertOutputsEqual(manager, model, io.stateDict());
        }
    }

    @Test
    void transformerEncoderLayerGivesPyTorchsOutputs() throws Exception {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint weights = Checkpoint.load(Fixtures.file("encoder.pt"));
                Checkpoint io = Checkpoint.load(Fixtures.file("encoder_io.pt"))) {
            EncoderLayer model = new EncoderLayer(16, 2, 32);
            model.initialize(manager, DataType.FLOAT32, new Shape(2, 5, 16));
            LoadReport report = StateDictLoader.load(model, weights.stateDict().asMap(), true);
            assertTrue(report.isComplete(), report.toString());
            assertEquals(List.copyOf(weights.stateDict().names()).stream().sorted().toList(),
                    report.loaded().stream().sorted().toList());
            assertOutputsEqual(manager, model, io.stateDict());
        }
    }

    @Test
    void withoutTheCheckpointsWeightsTheOutputsDiffer() throws Exception {
        // The control for the two tests above: the same blocks with DJL's own initial weights miss PyTorch's outputs.
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint io = Checkpoint.load(Fixtures.file("encoder_io.pt"))) {
            EncoderLayer model = new EncoderLayer(16, 2, 32);
            model.initialize(manager, DataType.FLOAT32, new Shape(2, 5, 16));
            float[] actual = forward(manager, model, io.stateDict().tensor("input"));
            assertTrue(Fixtures.maxAbsDifference(io.stateDict().tensor("output").toFloatArray(), actual) > 0.1);
        }
    }

    @Test
    void torchScriptWeightsEqualWhatLibtorchReadsFromTheArchive() throws Exception {
        try (Model model = Model.newInstance("resnet_ts", "PyTorch");
                Checkpoint archive = Checkpoint.load(Fixtures.file("resnet_ts.pt"),
                        LoadOptions.builder().torchScriptWeights(true).build())) {
            model.load(Fixtures.file("resnet_ts.pt").toAbsolutePath().getParent(), "resnet_ts");
            Block block = model.getBlock();
            Map<String, Tensor> ours = archive.tensors();
            int compared = 0;
            for (Pair<String, Parameter> parameter : block.getParameters()) {
                NDArray theirs = parameter.getValue().getArray();
                Tensor tensor = ours.get("data." + parameter.getKey());
                assertTrue(tensor != null, "weightsonly has no tensor for libtorch's parameter " + parameter.getKey()
                        + " in " + ours.keySet());
                assertEquals(theirs.getShape(), new Shape(tensor.shape()), parameter.getKey());
                assertEquals(List.of(toBoxed(theirs.toFloatArray())), List.of(toBoxed(tensor.toFloatArray())),
                        parameter.getKey());
                compared++;
            }
            // libtorch lists the module's parameters (not its batch-norm buffers): 3 convs + 1 bias, 3 norms x 2, fc x 2
            assertEquals(12, compared);
            // and the archive's state agrees with the state dict saved beside it
            try (Checkpoint stateDict = Checkpoint.load(Fixtures.file("resnet.pt"))) {
                for (Map.Entry<String, Tensor> entry : stateDict.stateDict().asMap().entrySet()) {
                    Tensor inArchive = ours.get("data." + entry.getKey());
                    assertTrue(inArchive != null, entry.getKey());
                    assertEquals(List.of(toBoxed(entry.getValue().toDoubleArray())),
                            List.of(toBoxed(inArchive.toDoubleArray())), entry.getKey());
                }
            }
        }
    }

    private static void assertOutputsEqual(NDManager manager, Block model, StateDict io) {
        float[] expected = io.tensor("output").toFloatArray();
        float[] actual = forward(manager, model, io.tensor("input"));
        double difference = Fixtures.maxAbsDifference(expected, actual);
        assertTrue(difference <= TOLERANCE, "max |DJL - PyTorch| = " + difference);
    }

    private static float[] forward(NDManager manager, Block model, Tensor input) {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray x = NDArrays.copy(scratch, "input", input);
            NDArray y = model.forward(new ParameterStore(scratch, false), new NDList(x), false).singletonOrThrow();
            return y.toFloatArray();
        }
    }

    private static Float[] toBoxed(float[] values) {
        Float[] boxed = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }

    private static Double[] toBoxed(double[] values) {
        Double[] boxed = new Double[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }

    @Test
    void aShapeThatDiffersIsRefusedAsPyTorchWordsItAndNothingChanges() throws Exception {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint weights = Checkpoint.load(Fixtures.file("encoder.pt"))) {
            EncoderLayer model = new EncoderLayer(16, 2, 24);   // dim_feedforward 24, the file has 32
            model.initialize(manager, DataType.FLOAT32, new Shape(2, 5, 16));
            float[] before = model.getParameters().get("02linear1_weight").getArray().toFloatArray();
            StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                    () -> StateDictLoader.load(model, weights.stateDict().asMap(), true));
            assertTrue(e.getMessage().startsWith("Error(s) in loading state_dict for EncoderLayer:\n\t"), e.getMessage());
            assertTrue(e.getMessage().contains("size mismatch for linear1.weight: copying a param with shape "
                    + "torch.Size([32, 16]) from checkpoint, the shape in current model is torch.Size([24, 16])."),
                    e.getMessage());
            assertEquals(List.of(toBoxed(before)), List.of(toBoxed(
                    model.getParameters().get("02linear1_weight").getArray().toFloatArray())));
        }
    }
}
