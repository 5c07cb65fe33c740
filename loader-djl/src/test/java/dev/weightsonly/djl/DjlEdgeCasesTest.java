package dev.weightsonly.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.writer.TorchWriter;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shapes at the edges (0-dim scalars, empty tensors), state dicts that are not, and managers already closed. */
class DjlEdgeCasesTest {

    @Test
    void zeroDimensionalScalarsAndEmptyTensorsKeepTheirShapesAndValues(@TempDir Path dir) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("scale", tensor(DType.FLOAT32, floats(2.5f)));                       // torch.tensor(2.5)
        tensors.put("step", tensor(DType.INT64, longs(7)));                               // torch.tensor(7)
        tensors.put("none", tensor(DType.FLOAT32, new byte[0], 0, 3));                    // torch.empty(0, 3)
        tensors.put("flags", tensor(DType.BOOL, new byte[0], 0));                         // torch.empty(0, dtype=bool)
        Path file = dir.resolve("edges.pt");
        TorchWriter.save(tensors, file);
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                DjlCheckpoint weights = DjlCheckpoint.open(file, manager)) {
            for (NDArray array : new NDArray[] {weights.get("scale"),
                    NDArrays.copy(manager, "scale", tensors.get("scale"))}) {
                assertEquals(new Shape(), array.getShape());
                assertArrayEquals(new float[] {2.5f}, array.toFloatArray());
            }
            assertTrue(weights.isZeroCopy("scale"));
            for (NDArray array : new NDArray[] {weights.get("step"),
                    NDArrays.copy(manager, "step", tensors.get("step"))}) {
                assertEquals(new Shape(), array.getShape());
                assertArrayEquals(new long[] {7}, array.toLongArray());
            }
            for (NDArray array : new NDArray[] {weights.get("none"),
                    NDArrays.copy(manager, "none", tensors.get("none"))}) {
                assertEquals(new Shape(0, 3), array.getShape());
                assertEquals(DataType.FLOAT32, array.getDataType());
                assertEquals(0, array.toFloatArray().length);
            }
            assertFalse(weights.isZeroCopy("none"));   // nothing to share
            assertEquals(new Shape(0), weights.get("flags").getShape());
            assertEquals(DataType.BOOLEAN, weights.get("flags").getDataType());
        }
    }

    @Test
    void aStateDictWithAValueThatIsNotATensorIsRefusedSayingWhichAndNothingStaysOpen(@TempDir Path dir)
            throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("w", tensor(DType.FLOAT32, floats(1f, 2f), 2));
        root.put("epoch", 3L);
        Path file = dir.resolve("mixed.pt");
        TorchWriter.save(root, file);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> DjlCheckpoint.open(file, manager));
            assertTrue(e.getMessage().contains("'epoch' (int)"), e.getMessage());
            assertEquals(0, manager.getManagedArrays().size());
        }
    }

    @Test
    void aClosedManagerIsRefusedAndTheFileIsNotLeftMapped(@TempDir Path dir) throws IOException {
        Path file = Files.copy(Fixtures.file("resnet.pt"), dir.resolve("closed-manager.pt")).toRealPath();
        NDManager manager = NDManager.newBaseManager("PyTorch");
        manager.close();
        assertThrows(IllegalStateException.class, () -> DjlCheckpoint.open(file, manager));
        assertEquals(List.of(), Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(line -> line.endsWith(" " + file)).toList());
    }

    @Test
    void aDeflatedRecordIsSharedFromTheCheckpointsOwnInflatedCopy(@TempDir Path dir) throws IOException {
        // torch.save stores records; a re-zipped checkpoint deflates them, and weightsonly inflates each once, at
        // load, into the checkpoint's own off-heap memory (released with it): the engine shares that copy.
        Path deflated = dir.resolve("views_deflated.pt");
        try (ZipFile in = new ZipFile(Fixtures.file("views.pt").toFile());
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(deflated))) {
            for (ZipEntry entry : java.util.Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(entry.getName()));   // DEFLATED, ZipOutputStream's default
                try (InputStream data = in.getInputStream(entry)) {
                    data.transferTo(out);
                }
                out.closeEntry();
            }
        }
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                DjlCheckpoint weights = DjlCheckpoint.open(deflated, manager)) {
            assertTrue(weights.isZeroCopy("whole"));
            assertTrue(weights.isZeroCopy("rows"));
            assertArrayEquals(new float[] {4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f}, weights.get("rows").toFloatArray());
        }
    }

    private static Tensor tensor(DType dtype, byte[] bytes, long... shape) {
        return Tensor.contiguousView(Storage.copyOf(MemorySegment.ofArray(bytes), "0", "cpu"), dtype, 0, shape);
    }

    private static byte[] floats(float... values) {
        ByteBuffer out = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            out.putFloat(v);
        }
        return out.array();
    }

    private static byte[] longs(long... values) {
        ByteBuffer out = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            out.putLong(v);
        }
        return out.array();
    }
}
