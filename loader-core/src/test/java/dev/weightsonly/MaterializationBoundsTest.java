package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.MaterializationLimitException;
import dev.weightsonly.tensors.Quantizer;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.writer.TorchWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, class 12: work and memory are bounded wherever values are materialised after a load, not only at
 * the load. Legal files of a few hundred bytes describe dense forms of 16 GiB or stride-0 views of billions of
 * elements; each materialisation is refused with {@link MaterializationLimitException} before it allocates.
 * Runs in loader-core's 64 MiB-heap execution too: these were OutOfMemoryErrors and an endless loop.
 */
class MaterializationBoundsTest {

    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return Fixtures.dir().resolve("materialize26").resolve(name);
    }

    private static SparseTensor sparse(Checkpoint c, String key) {
        return (SparseTensor) ((Map<?, ?>) c.root()).get(key);
    }

    /** Refused with the documented exception, naming the operation and the size; never an Error. */
    private static MaterializationLimitException refused(Executable materialise, String operation) {
        MaterializationLimitException e = assertThrows(MaterializationLimitException.class, materialise);
        assertTrue(e.getMessage().startsWith(operation), e.getMessage());
        assertTrue(e.requestedBytes() > e.limitBytes(), e.getMessage());
        return e;
    }

    @Test
    void toDenseOfASixteenGibDenseFormIsRefusedBeforeAllocating() throws IOException {
        try (Checkpoint c = Checkpoint.load(fixture("dense_16gib.pt"))) {
            SparseTensor huge = sparse(c, "huge");
            assertArrayEquals(new long[] {Integer.MAX_VALUE - 8}, huge.size());
            MaterializationLimitException e = refused(huge::toDense, "toDense()");
            assertTrue(e.requestedBytes() >= 8L * (Integer.MAX_VALUE - 8), e.getMessage());
            assertTrue(e.getMessage().contains("SparseTensor[torch.sparse_coo, size=[2147483639], float64] (values in storage"),
                    e.getMessage());
        }
    }

    @Test
    void toDenseWithTwoToTheFortyEntriesOfNothingReturnsAtOnce() throws IOException {
        try (Checkpoint c = Checkpoint.load(fixture("nnz_2pow40.pt"))) {
            SparseTensor empty = sparse(c, "empty");
            assertEquals(1L << 40, empty.values().size(0));
            Tensor dense = assertTimeoutPreemptively(Duration.ofSeconds(10), empty::toDense);
            assertArrayEquals(new long[] {0}, dense.shape());
            assertEquals(0, dense.numel());
        }
    }

    /** A per-tensor qint8 view of 600 million elements, all stride 0 over one stored byte. */
    private Path strideZeroQuantized() throws IOException {
        Storage one = Storage.of(MemorySegment.ofArray(new byte[] {7}), "0", "cpu");
        Tensor q = Tensor.of(one, DType.QINT8, 0, new long[] {600_000_000L}, new long[] {0})
                .withQuantizer(new Quantizer.PerTensorAffine(0.5, 3));
        Path file = tmp.resolve("stride0_qint8.pt");
        TorchWriter.save(Map.of("q", q), file);
        return file;
    }

    @Test
    void dequantizeOfAStrideZeroViewIsRefusedBeforeAllocating() throws IOException {
        try (Checkpoint c = Checkpoint.load(strideZeroQuantized())) {
            Tensor q = c.stateDict().tensor("q");
            // 8 bytes of codes and 4 of result per element: 7.2 GB, over the default 4 GiB and any test heap.
            MaterializationLimitException e = refused(q::dequantize, "dequantize()");
            assertEquals(12L * 600_000_000L, e.requestedBytes());
            assertTrue(e.getMessage().contains("shape=[600000000], strides=[0]"), e.getMessage());
            refused(q::contiguous, "contiguous()");
            refused(q::toLongArray, "toLongArray()");
            refused(q::toFloatArray, "toFloatArray()");
            refused(q::toByteArray, "toByteArray()");
        }
    }

    @Test
    void theHeapBoundsMaterialisationEvenWithoutAConfiguredLimit() throws IOException {
        LoadOptions unlimited = LoadOptions.builder()
                .limits(LoadLimits.builder().maxMaterializedBytes(Long.MAX_VALUE).build()).build();
        try (Checkpoint c = Checkpoint.load(strideZeroQuantized(), unlimited)) {
            Tensor q = c.stateDict().tensor("q");
            assertEquals(Long.MAX_VALUE, q.storage().maxMaterializedBytes());
            MaterializationLimitException e = refused(q::contiguous, "contiguous()");
            assertTrue(e.getMessage().contains("the JVM's maximum heap (" + e.limitBytes() + " bytes)"), e.getMessage());
            assertTrue(e.limitBytes() < 7_200_000_000L, "every heap a test runs on is smaller than the view");
        }
    }

    @Test
    void theCheckpointsLimitIsCarriedByItsStoragesAndTheirCopies() throws IOException {
        Storage floats = Storage.of(MemorySegment.ofArray(new byte[4 * 1000]), "0", "cpu");
        Path file = tmp.resolve("small.pt");
        TorchWriter.save(Map.of("w", Tensor.of(floats, DType.FLOAT32, 0, new long[] {10, 100},
                new long[] {1, 10})), file);
        LoadOptions small = LoadOptions.builder()
                .limits(LoadLimits.builder().maxMaterializedBytes(4000).build()).build();
        try (Checkpoint c = Checkpoint.load(file, small)) {
            Tensor w = c.stateDict().tensor("w");
            assertEquals(4000, w.storage().maxMaterializedBytes());
            Tensor copy = w.contiguous(); // 4000 bytes: exactly the limit
            assertEquals(4000, copy.storage().maxMaterializedBytes());
            assertEquals(1000, copy.toFloatArray().length);
            MaterializationLimitException e = refused(copy::toDoubleArray, "toDoubleArray()");
            assertEquals(8000, e.requestedBytes());
            assertEquals(4000, e.limitBytes());
        }
        try (Checkpoint c = Checkpoint.load(file)) {
            assertEquals(LoadLimits.defaults().maxMaterializedBytes(), c.stateDict().tensor("w").storage()
                    .maxMaterializedBytes());
            assertEquals(1000, c.stateDict().tensor("w").toDoubleArray().length);
        }
    }
}
