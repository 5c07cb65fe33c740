package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.Torch26;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor cases of fixtures/tensors26 (gen.py, written and answered by PyTorch 2.6): per-channel quantizer
 * parameters of every dtype and layout and their list form, quantized views outside their storage, sparse tensors
 * with requires_grad, inside Parameters, with converted indices, batched and hybrid, and what torch's sparse
 * validation refuses. Each file gets torch's verdict and, when both load, torch's canonical dump; the dequantized
 * values of quantized tensors equal torch's bit for bit (or both refuse to dequantize), and the dense forms of sparse
 * tensors hash as torch's {@code to_dense()}. A case torch loads and weightsonly refuses on purpose names the
 * documented difference (docs/SECURITY.md) and a piece of the message.
 */
class TensorParity26Test {

    private static Path dir() {
        return Fixtures.dir().resolve("tensors26");
    }

    private static JsonNode cases() throws IOException {
        return Json.parse(Files.readString(dir().resolve("expected.json"))).get("cases");
    }

    static Stream<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        cases().fieldNames().forEachRemaining(names::add);
        return names.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void sameVerdictDumpAndValuesAsPyTorch26(String name) throws IOException {
        JsonNode expected = cases().get(name);
        Path file = dir().resolve(name + ".pt");
        String covers = name + " (" + expected.get("covers").asText() + ")";
        if (expected.has("weightsonly")) {
            JsonNode deliberate = expected.get("weightsonly");
            assertEquals("load", expected.get("verdict").asText(), covers + ": a deliberate refusal of a file torch loads");
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file).close(), covers);
            assertTrue(e.getMessage().contains(deliberate.get("message").asText()), covers + ": " + e.getMessage());
            String security = Files.readString(Torch26.repositoryRoot().resolve("docs/SECURITY.md"));
            assertTrue(security.contains("`" + deliberate.get("refuses").asText() + "`"), "documented id");
            return;
        }
        if (expected.get("verdict").asText().equals("refuse")) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file).close(),
                    covers + ": torch refuses with " + expected.get("error").asText());
            assertFalse(e.getMessage().isEmpty());
            return;
        }
        try (Checkpoint c = Checkpoint.load(file)) {
            String dump = CanonicalDump.toJson(c.root(), 1000, 10_000_000);
            assertNull(Json.firstDifference(Json.parse(dump), expected.get("dump")), covers + ": " + dump);
            PyDict root = (PyDict) c.root();
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!root.containsKey(e.getKey())) {
                    continue; // covers, verdict, dump
                }
                checkValues(covers + " [" + e.getKey() + "]", root.get(e.getKey()), e.getValue());
            }
        } catch (CheckpointException e) {
            fail(covers + ": torch loads it, weightsonly refuses: " + e.getMessage());
        }
    }

    private static void checkValues(String what, Object value, JsonNode expected) throws IOException {
        if (expected.has("dequantized_bits")) {
            float[] values = ((Tensor) value).dequantize().toFloatArray();
            JsonNode bits = expected.get("dequantized_bits");
            assertEquals(bits.size(), values.length, what);
            for (int i = 0; i < values.length; i++) {
                assertEquals(bits.get(i).longValue(), Float.floatToRawIntBits(values[i]) & 0xFFFF_FFFFL,
                        what + " element " + i + ": " + values[i]);
            }
        } else if (expected.has("dequantize_error")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, ((Tensor) value)::dequantize,
                    what + ": torch fails with " + expected.get("dequantize_error").asText());
            assertFalse(e.getMessage().isEmpty());
        } else if (expected.has("dense")) {
            Tensor dense = ((SparseTensor) value).toDense();
            JsonNode ours = Json.parse(CanonicalDump.toJson(dense, 1000, 10_000_000)).get("root").get("tensor");
            JsonNode theirs = expected.get("dense").get("tensor");
            for (String field : List.of("dtype", "shape", "sha256")) {
                assertEquals(theirs.get(field), ours.get(field), what + ": the dense form's " + field);
            }
        } else if (expected.get("dense_error").asText().contains("died")) {
            // torch's to_dense divides by a zero block size and dies: the values hold no element, all zeros here
            Tensor dense = ((SparseTensor) value).toDense();
            for (byte b : dense.toByteArray()) {
                assertEquals(0, b, what);
            }
        } else {
            assertThrows(UnsupportedOperationException.class, ((SparseTensor) value)::toDense,
                    what + ": torch fails with " + expected.get("dense_error").asText());
        }
    }

    @Test
    void theCasesCoverEachFinding() throws IOException {
        List<String> names = names().toList();
        for (String required : List.of("q_zp_stride0", "q_list_per_channel", "q_negative_offset_float_qparams",
                "s_coo_values_requires_grad", "s_storage_key_shared", "s_parameters", "s_batched_hybrid")) {
            assertTrue(names.contains(required), required);
        }
        assertTrue(Json.parse(Files.readString(dir().resolve("expected.json"))).get("torch").asText().startsWith("2.6"));
    }
}
