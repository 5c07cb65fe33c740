package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Quantizer;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Per-channel quantization with float zero points ({@code per_channel_affine_float_qparams}, saved by torch under
 * the {@code per_channel_affine} tag with float32 zero points) dequantizes to exactly PyTorch 2.6's values
 * (fixtures/quantized26/gen.py wrote the file and torch's own {@code dequantize()} of it).
 */
class FloatQParamsTest {

    private static Path dir() {
        return Fixtures.dir().resolve("quantized26");
    }

    private static JsonNode reference() throws IOException {
        return Json.parse(Files.readString(dir().resolve("float_qparams.dequantized.json"))).get("tensors");
    }

    static Stream<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        reference().fieldNames().forEachRemaining(names::add);
        return names.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void dequantizeEqualsPyTorch26BitForBit(String name) throws IOException {
        JsonNode expected = reference().get(name);
        try (Checkpoint c = Checkpoint.load(dir().resolve("float_qparams.pt"))) {
            Tensor q = c.stateDict().tensor(name);
            Quantizer.PerChannelAffine pc = assertInstanceOf(Quantizer.PerChannelAffine.class,
                    q.quantizer().orElseThrow());
            assertTrue(pc.floatQParams(), "float zero points make a float-qparams quantizer");
            assertEquals(expected.get("axis").intValue(), pc.axis());
            Tensor d = q.dequantize();
            assertEquals(DType.FLOAT32, d.dtype());
            long[] shape = new long[expected.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = expected.get("shape").get(i).longValue();
            }
            assertArrayEquals(shape, d.shape());
            float[] values = d.toFloatArray();
            JsonNode bits = expected.get("float32_bits");
            assertEquals(bits.size(), values.length);
            for (int i = 0; i < values.length; i++) {
                assertEquals(bits.get(i).longValue(), Float.floatToRawIntBits(values[i]) & 0xFFFF_FFFFL,
                        name + " element " + i + ": " + values[i]);
            }
        }
    }
}
