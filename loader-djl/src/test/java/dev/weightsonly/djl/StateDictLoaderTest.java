package dev.weightsonly.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PyTorch's names for DJL parameters, and load_state_dict's strict and non-strict reports. */
class StateDictLoaderTest {

    @Test
    void djlBlocksAreNamedAsTheSamePyTorchModulesAre() throws IOException {
        try (Checkpoint weights = Checkpoint.load(Fixtures.file("resnet.pt"))) {
            ParameterNames names = ParameterNames.of(new SmallResNet());
            List<String> expected = weights.stateDict().names().stream()
                    .filter(k -> !k.endsWith("num_batches_tracked")).toList();
            assertEquals(expected, List.copyOf(names.parameters().keySet()));
            assertEquals(List.of("stem.1.num_batches_tracked", "layer1.0.bn1.num_batches_tracked",
                    "layer1.0.bn2.num_batches_tracked"), names.countersWithoutParameter());
        }
    }

    @Test
    void nonStrictLoadsWhatFitsAndReportsTheRestLikePyTorch() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint weights = Checkpoint.load(Fixtures.file("resnet.pt"))) {
            SmallResNet model = new SmallResNet();
            model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 8, 8));
            Map<String, Tensor> partial = new LinkedHashMap<>(weights.stateDict().asMap());
            Tensor fcBias = partial.remove("fc.bias");
            partial.put("head.weight", fcBias);
            float[] biasBefore = model.getParameters().get("03fc_bias").getArray().toFloatArray();

            LoadReport report = StateDictLoader.load(model, partial, false);
            assertEquals(List.of("fc.bias"), report.missing());
            assertEquals(List.of("head.weight"), report.unexpected());
            assertFalse(report.isComplete());
            assertArrayEquals(biasBefore, model.getParameters().get("03fc_bias").getArray().toFloatArray());
            assertArrayEquals(weights.stateDict().tensor("fc.weight").toFloatArray(),
                    model.getParameters().get("03fc_weight").getArray().toFloatArray());

            StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                    () -> StateDictLoader.load(new SmallResNetInitialised(manager).model, partial, true));
            assertEquals("Error(s) in loading state_dict for SmallResNet:\n\t"
                    + "Missing key(s) in state_dict: \"fc.bias\". \n\t"
                    + "Unexpected key(s) in state_dict: \"head.weight\". ", e.getMessage());
            assertEquals(List.of("fc.bias"), e.report().missing());
        }
    }

    @Test
    void aTensorOfAnotherDtypeIsConvertedAsCopyDoes() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint dtypes = Checkpoint.load(Fixtures.file("dtypes.pt"))) {
            Linear linear = Linear.builder().setUnits(2).build();
            linear.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
            Tensor doubles = dtypes.stateDict().tensor("float64");
            LoadReport report = StateDictLoader.load(linear, Map.of("weight", doubles), false);
            assertEquals(List.of("weight"), report.loaded());
            assertEquals(List.of("bias"), report.missing());
            assertEquals(DataType.FLOAT32, linear.getParameters().get("weight").getArray().getDataType());
            assertArrayEquals(doubles.toFloatArray(), linear.getParameters().get("weight").getArray().toFloatArray());
        }
    }

    @Test
    void aBlockWithoutArraysIsRefusedWithTheFix() throws IOException {
        try (Checkpoint weights = Checkpoint.load(Fixtures.file("resnet.pt"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> StateDictLoader.load(new SmallResNet(), weights.stateDict().asMap(), true));
            assertTrue(e.getMessage().contains("call block.initialize("), e.getMessage());
        }
    }

    @Test
    void twoParametersThatWouldShareAPyTorchKeyAreRefusedNotSilentlyHalfLoaded() {
        // DJL accepts two children of one name (it stores them as "01fc" and "02fc"); PyTorch cannot have them, and
        // one key would fill only one of the two parameters while the other is neither loaded nor reported missing.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParameterNames.of(new TwoChildrenNamedFc()));
        assertTrue(e.getMessage().contains("01fc.weight and 02fc.weight")
                && e.getMessage().contains("'fc.weight'") && e.getMessage().contains("distinct names"),
                e.getMessage());
        // a ParallelBlock's children are named by class ("01Linear", "02Linear"): the same clash
        IllegalArgumentException parallel = assertThrows(IllegalArgumentException.class, () -> ParameterNames.of(
                new ParallelBlock(lists -> lists.get(0), List.of(Linear.builder().setUnits(2).build(),
                        Linear.builder().setUnits(2).build()))));
        assertTrue(parallel.getMessage().contains("'Linear.weight'"), parallel.getMessage());
    }

    /** A custom block whose two children were added under one name. */
    private static final class TwoChildrenNamedFc extends AbstractBlock {
        TwoChildrenNamedFc() {
            addChildBlock("fc", Linear.builder().setUnits(2).build());
            addChildBlock("fc", Linear.builder().setUnits(2).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                PairList<String, Object> params) {
            return inputs;
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return inputs;
        }
    }

    /** A second, freshly initialised model for the strict attempt (the first was changed by the lenient load). */
    private static final class SmallResNetInitialised {
        final SmallResNet model = new SmallResNet();

        SmallResNetInitialised(NDManager manager) {
            model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 8, 8));
        }
    }
}
