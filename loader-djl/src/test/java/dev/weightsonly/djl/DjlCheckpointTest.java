package dev.weightsonly.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/** Arrays over the mapped file: proven to be views of it, equal to the tensors, and released with it. */
class DjlCheckpointTest {

    @Test
    void contiguousTensorsBecomeArraysInsideTheFilesMapping() throws IOException {
        Path file = Fixtures.file("resnet.pt").toAbsolutePath();
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                DjlCheckpoint weights = DjlCheckpoint.open(file, manager);
                Checkpoint reference = Checkpoint.load(file)) {
            List<long[]> mappings = mappingsOf(file);
            assertFalse(mappings.isEmpty(), "the file is not mapped");
            for (Map.Entry<String, Tensor> entry : reference.stateDict().asMap().entrySet()) {
                String name = entry.getKey();
                NDArray array = weights.get(name);
                assertTrue(weights.isZeroCopy(name), name);
                // the engine's own data pointer for the array (libtorch's data_ptr, as a direct buffer)
                long address = MemorySegment.ofBuffer(array.toByteBuffer(true)).address();
                assertTrue(mappings.stream().anyMatch(r -> address >= r[0] && address + array.size()
                        * array.getDataType().getNumOfBytes() <= r[1]),
                        name + " at 0x" + Long.toHexString(address) + " lies outside the mapping of " + file);
                assertEquals(List.of(boxed(entry.getValue().toDoubleArray())), List.of(boxed(array.toType(
                        ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray())), name);
            }
        }
    }

    @Test
    void viewsThatAreNotRowMajorOrCarryANegativeBitAreCopiedWithTheirLogicalValues() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                DjlCheckpoint views = DjlCheckpoint.open(Fixtures.file("views.pt"), manager)) {
            assertTrue(views.isZeroCopy("whole"));
            assertTrue(views.isZeroCopy("rows"));   // contiguous at an offset: a slice of the mapping
            assertEquals(List.of(4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f), List.of(boxed(views.get("rows").toFloatArray())));
            assertFalse(views.isZeroCopy("transposed"));
            assertEquals(List.of(0f, 3f, 1f, 4f, 2f, 5f), List.of(boxed(views.get("transposed").toFloatArray())));
            assertFalse(views.isZeroCopy("expanded"));
            assertEquals(List.of(0f, 1f, 2f, 0f, 1f, 2f), List.of(boxed(views.get("expanded").toFloatArray())));
            assertFalse(views.isZeroCopy("negated"));
            assertEquals(List.of(-1f, 2f), List.of(boxed(views.get("negated").toFloatArray())));
        }
    }

    @Test
    void closingReleasesTheArraysBeforeTheMapping() throws IOException {
        NDArray kept;
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            DjlCheckpoint weights = DjlCheckpoint.open(Fixtures.file("resnet.pt"), manager);
            kept = weights.get("fc.weight");
            weights.close();
            assertTrue(kept.isReleased(), "an array outlived the mapping it reads");
            assertThrows(IllegalStateException.class, () -> weights.get("fc.weight"));
            assertThrows(IllegalStateException.class, kept::toFloatArray);
            weights.close();   // idempotent
        }
    }

    @Test
    void closingTheParentManagerReleasesTheArraysToo() throws IOException {
        NDManager manager = NDManager.newBaseManager("PyTorch");
        try (DjlCheckpoint weights = DjlCheckpoint.open(Fixtures.file("resnet.pt"), manager)) {
            NDArray w = weights.get("fc.weight");
            manager.close();
            assertTrue(w.isReleased());
            assertThrows(IllegalStateException.class, () -> weights.get("fc.weight"));
        }
    }

    @Test
    void anUnknownKeyIsNamed() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                DjlCheckpoint weights = DjlCheckpoint.open(Fixtures.file("resnet.pt"), manager)) {
            NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> weights.get("fc.weights"));
            assertTrue(e.getMessage().contains("'fc.weights'"), e.getMessage());
        }
    }

    /** The address ranges of /proc/self/maps lines that map {@code file}. */
    private static List<long[]> mappingsOf(Path file) throws IOException {
        String real = file.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(line -> line.endsWith(" " + real))
                .map(line -> line.substring(0, line.indexOf(' ')).split("-"))
                .map(range -> new long[] {Long.parseUnsignedLong(range[0], 16), Long.parseUnsignedLong(range[1], 16)})
                .toList();
    }

    static Double[] boxed(double[] values) {
        Double[] out = new Double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    static Float[] boxed(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
