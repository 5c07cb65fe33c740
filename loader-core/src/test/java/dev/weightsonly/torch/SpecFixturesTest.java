package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Float4E2M1;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Formats newer than the PyTorch on this machine, built from the spec by fixtures/spec/gen_spec_fixtures.py:
 * every v3 dtype (all 256 codes of each float8), the 2.x records, a big-endian file. Element values are
 * compared with the generator's independently decoded ones.
 */
class SpecFixturesTest {

    static Path dir() {
        return Fixtures.dir().resolve("spec");
    }

    static Stream<Arguments> tensors() throws IOException {
        JsonNode expected = Json.parse(Files.readString(dir().resolve("expected.json")));
        List<Arguments> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> files = expected.fields(); files.hasNext(); ) {
            Map.Entry<String, JsonNode> file = files.next();
            for (Iterator<Map.Entry<String, JsonNode>> ts = file.getValue().fields(); ts.hasNext(); ) {
                Map.Entry<String, JsonNode> t = ts.next();
                out.add(Arguments.of(file.getKey(), t.getKey(), t.getValue()));
            }
        }
        return out.stream();
    }

    private static double number(JsonNode n) {
        if (n.isTextual()) {
            return switch (n.asText()) {
                case "nan" -> Double.NaN;
                case "inf" -> Double.POSITIVE_INFINITY;
                case "-inf" -> Double.NEGATIVE_INFINITY;
                case "-0.0" -> -0.0;
                default -> throw new IllegalArgumentException(n.asText());
            };
        }
        return n.doubleValue();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tensors")
    void elementsEqualTheSpec(String file, String name, JsonNode expected) throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve(file + ".pt"))) {
            StateDict sd = c.stateDict();
            Tensor t = sd.tensor(name);
            assertEquals(expected.get("dtype").asText(), t.dtype().torchName());
            long[] shape = new long[expected.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = expected.get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, t.shape());
            JsonNode values = expected.get("values");
            long[] index = new long[shape.length];
            for (int i = 0; i < values.size(); i++) {
                JsonNode v = values.get(i);
                switch (t.dtype().kind()) {
                    case COMPLEX -> {
                        assertEquals(number(v.get(0)), t.getReal(index), file + " " + name + " real " + i);
                        assertEquals(number(v.get(1)), t.getImag(index), file + " " + name + " imag " + i);
                    }
                    case FLOAT -> {
                        if (t.dtype() == DType.FLOAT4_E2M1FN_X2) {
                            long raw = t.getLong(index);
                            assertEquals(v.asLong(), raw);
                            JsonNode nibbles = expected.get("nibbles").get(i);
                            assertEquals(number(nibbles.get(0)), Float4E2M1.toFloat((int) (raw & 0xF)));
                            assertEquals(number(nibbles.get(1)), Float4E2M1.toFloat((int) (raw >> 4)));
                        } else {
                            assertEquals(number(v), t.getDouble(index), file + " " + name + " code " + i);
                        }
                    }
                    default -> {
                        if (t.dtype() == DType.UINT64) {
                            assertEquals(number(v), t.getDouble(index), name + " " + i);
                        } else {
                            assertEquals(v.asLong(), t.getLong(index), name + " " + i);
                        }
                    }
                }
                for (int d = shape.length - 1; d >= 0 && ++index[d] == shape[d]; d--) {
                    index[d] = 0;
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void everySpecFileLoadsMappedWithEachStorageASliceOfTheFile(String file) throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve(file + ".pt"))) {
            for (Tensor t : c.tensors().values()) {
                assertTrue(c.isMapped());
                if (!file.equals("big_endian") || t.dtype().elementSize() == 1 || t.dtype() == DType.UINT16) {
                    assertTrue(t.storage().bytes().isMapped(), file + " " + t);
                }
            }
        }
    }

    static Stream<String> files() {
        return Stream.of("v3_float8", "v3_new_dtypes", "records_2x", "big_endian");
    }
}
