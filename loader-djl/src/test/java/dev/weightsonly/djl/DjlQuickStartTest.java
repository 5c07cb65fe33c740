package dev.weightsonly.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.weightsonly.Checkpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's DJL lines, compiled and run. */
class DjlQuickStartTest {

    @Test
    void readmeLines() throws Exception {
        Path file = Fixtures.file("resnet.pt");
        float[] out;
        // --- README: DJL ---
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            // 1. Weights as arrays over the mapped file (no copy), by PyTorch name:
            try (DjlCheckpoint weights = DjlCheckpoint.open(file, manager)) {
                NDArray fc = weights.get("fc.weight");                 // shape (10, 8), float32
                System.out.println(fc.getShape() + " zero-copy: " + weights.isZeroCopy("fc.weight"));
            }
            // 2. Or into a DJL model built with the same structure, checked as load_state_dict(strict=True):
            SmallResNet model = new SmallResNet();
            model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 8, 8));
            try (Checkpoint checkpoint = Checkpoint.load(file)) {
                LoadReport report = StateDictLoader.load(model, checkpoint.stateDict().asMap(), true);
                System.out.println(report.loaded().size() + " tensors loaded, ignored " + report.ignored());
            }
            NDArray x = manager.ones(new Shape(1, 3, 8, 8));
            out = model.forward(new ParameterStore(manager, false), new NDList(x), false).singletonOrThrow()
                    .toFloatArray();
        }
        // --- end ---
        assertEquals(10, out.length);
        assertTrue(Float.isFinite(out[0]));
    }
}
