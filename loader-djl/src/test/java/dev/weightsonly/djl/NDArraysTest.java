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
import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import dev.weightsonly.tensors.Storage;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every dtype DJL has, copied and mapped, to the same bits; every other refused by name. */
class NDArraysTest {

    private static final Map<String, DataType> DJL_TYPES = Map.ofEntries(
            Map.entry("float16", DataType.FLOAT16), Map.entry("bfloat16", DataType.FLOAT32),
            Map.entry("float32", DataType.FLOAT32), Map.entry("float64", DataType.FLOAT64),
            Map.entry("int8", DataType.INT8), Map.entry("uint8", DataType.UINT8), Map.entry("int16", DataType.INT32),
            Map.entry("int32", DataType.INT32), Map.entry("int64", DataType.INT64), Map.entry("bool", DataType.BOOLEAN),
            Map.entry("uint16", DataType.INT32), Map.entry("uint32", DataType.INT64));

    private static final java.util.Set<String> WIDENED = java.util.Set.of("bfloat16", "int16", "uint16", "uint32");

    @Test
    void everyDtypeDjlHoldsArrivesWithItsBitsCopiedOrMappedAndTheRestWidenedExactly() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint checkpoint = Checkpoint.load(Fixtures.file("dtypes.pt"));
                DjlCheckpoint mapped = DjlCheckpoint.open(Fixtures.file("dtypes.pt"), manager)) {
            Map<String, Tensor> tensors = checkpoint.stateDict().asMap();
            assertEquals(DJL_TYPES.keySet(), tensors.keySet());
            for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
                String name = entry.getKey();
                Tensor tensor = entry.getValue();
                NDArray copy = NDArrays.copy(manager, name, tensor);
                boolean keepsBits = !WIDENED.contains(name);
                for (NDArray array : new NDArray[] {copy, mapped.get(name)}) {
                    assertEquals(DJL_TYPES.get(name), array.getDataType(), name);
                    assertEquals(new Shape(2, 3), array.getShape(), name);
                    if (keepsBits) {
                        assertArrayEquals(tensor.toByteArray(), bytes(array.toByteBuffer()), name);
                    } else {
                        // widened: the same numbers, exactly
                        assertArrayEquals(tensor.toDoubleArray(),
                                array.toType(DataType.FLOAT64, false).toDoubleArray(), name);
                    }
                }
                assertEquals(keepsBits, mapped.isZeroCopy(name), name);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"complex64", "float8_e4m3fn", "quint8", "uint64"})
    void aDtypeDjlLacksIsRefusedByTensorNameAndNothingStaysOpen(String dtype) throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DjlCheckpoint.open(Fixtures.file(dtype + ".pt"), manager));
            assertTrue(e.getMessage().contains("tensor 'w' has dtype " + dtype), e.getMessage());
            assertEquals(0, manager.getManagedArrays().size());
            assertFalse(NDArrays.dataType(DType.valueOf(dtype.toUpperCase(java.util.Locale.ROOT))).isPresent());
        }
    }

    @Test
    void aQuantizedTensorIsRefusedWithTheFix() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint checkpoint = Checkpoint.load(Fixtures.file("quint8.pt"))) {
            Tensor q = checkpoint.stateDict().tensor("w");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NDArrays.copy(manager, "w", q));
            assertTrue(e.getMessage().contains("Tensor.dequantize()"), e.getMessage());
            assertArrayEquals(new float[] {0f, 1f, 2f, 3f, 4f, 5f},
                    NDArrays.copy(manager, "w", q.dequantize()).toFloatArray());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"BFLOAT16", "INT16", "UINT16"})
    void aTensorUnder2GiBThatWideningTakesOver2GiBIsRefusedByNameBeforeAnythingIsAllocated(String dtype) {
        // 2^30 - 1 two-byte elements: 2 GiB - 2 bytes in the file, 4 GiB - 4 as DJL's float32 / int32. A stride-0
        // view over one element stands for the tensor, so the test maps nothing large.
        Tensor big = Tensor.of(Storage.copyOf(MemorySegment.ofArray(new byte[2]), "0", "cpu"),
                DType.valueOf(dtype), 0, new long[] {(1L << 30) - 1}, new long[] {0});
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NDArrays.copy(manager, "embed.weight", big));
            assertTrue(e.getMessage().startsWith("tensor 'embed.weight' holds 1073741823 elements (2147483646 bytes, "
                    + "4294967292 bytes as DJL's "), e.getMessage());
            assertTrue(e.getMessage().contains("at most 2^31-1 bytes"), e.getMessage());
            assertEquals(0, manager.getManagedArrays().size());
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
