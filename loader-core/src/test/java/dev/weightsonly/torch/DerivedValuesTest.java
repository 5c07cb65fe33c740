package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Quantizer;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** dequantize() and toDense() equal what PyTorch computes from the same files (gen_derived_values.py). */
class DerivedValuesTest {

    static JsonNode derived() throws IOException {
        return Json.parse(Files.readString(Fixtures.dir().resolve("derived_values.json")));
    }

    static Stream<String> quantizedNames() throws IOException {
        List<String> names = new ArrayList<>();
        derived().get("dequantized").fieldNames().forEachRemaining(names::add);
        return names.stream();
    }

    static Stream<String> sparseNames() throws IOException {
        List<String> names = new ArrayList<>();
        derived().get("dense").fieldNames().forEachRemaining(names::add);
        return names.stream();
    }

    private static double number(JsonNode n) {
        return n.isTextual() ? (n.asText().equals("-0.0") ? -0.0 : Double.NaN) : n.doubleValue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("quantizedNames")
    void dequantizeEqualsPyTorchBitForBit(String name) throws IOException {
        JsonNode expected = derived().get("dequantized").get(name);
        try (Checkpoint c = Checkpoint.load(Fixtures.file("quantized"))) {
            Tensor q = c.stateDict().tensor(name);
            assertEquals(DType.Kind.QUANTIZED, q.dtype().kind());
            assertTrue(q.quantizer().isPresent());
            Tensor d = q.dequantize();
            assertEquals(DType.FLOAT32, d.dtype());
            assertArrayEquals(q.shape(), d.shape());
            float[] values = d.toFloatArray();
            JsonNode want = expected.get("values");
            assertEquals(want.size(), values.length);
            for (int i = 0; i < values.length; i++) {
                assertEquals((float) number(want.get(i)), values[i], name + " element " + i);
            }
        }
    }

    @Test
    void perChannelQuantizerHoldsItsScalesZeroPointsAndAxis() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("quantized"))) {
            Tensor q = c.stateDict().tensor("q_pc");
            Quantizer.PerChannelAffine pc = assertInstanceOf(Quantizer.PerChannelAffine.class, q.quantizer().orElseThrow());
            assertEquals(q.size(pc.axis()), pc.scales().numel());
            assertEquals(DType.FLOAT64, pc.scales().dtype());
            assertEquals(DType.INT64, pc.zeroPoints().dtype());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sparseNames")
    void toDenseEqualsPyTorch(String name) throws IOException {
        JsonNode expected = derived().get("dense").get(name);
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sparse"))) {
            SparseTensor s = assertInstanceOf(SparseTensor.class, ((PyDict) c.root()).get(name));
            Tensor dense = s.toDense();
            assertEquals(expected.get("dtype").asText(), dense.dtype().torchName());
            long[] shape = new long[expected.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = expected.get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, dense.shape());
            double[] values = dense.toDoubleArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(number(expected.get("values").get(i)), values[i], name + " element " + i);
            }
        }
    }

    @Test
    void denseOfAnIntTensorIsExact() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sparse"))) {
            SparseTensor s = (SparseTensor) ((PyDict) c.root()).get("coo_int");
            assertArrayEquals(new long[] {0, 7, -8, 0}, s.toDense().toLongArray());
        }
    }
}
