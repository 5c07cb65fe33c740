package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.Python;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture written by PyTorch 2.6 (fixtures26/gen_fixtures26.py, run by {@code tools/torch26}) loads to
 * the canonical dump PyTorch 2.6 printed for it (NAME.expected.json): mapped, from a stream and from a byte
 * array. TorchParityTest gives the same files to PyTorch 2.6 again at test time.
 */
class Fixture26DifferentialTest {

    static Path dir() {
        return Python.resources("fixtures26");
    }

    static JsonNode index() {
        try {
            return Json.parse(Files.readString(dir().resolve("index.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<String> fixtures() {
        List<String> names = new ArrayList<>();
        index().get("fixtures").forEach(f -> names.add(f.get("name").asText()));
        return names.stream();
    }

    static Stream<String> loadable() {
        return fixtures();
    }

    @Test
    void batchedCompressedSparseLoads() throws IOException {
        // once refused by name (not yet supported); now read and validated batch by batch, as torch 2.6 does
        try (Checkpoint c = Checkpoint.load(dir().resolve("sparse_batched26.pt"))) {
            dev.weightsonly.torch.SparseTensor csr = c.sparseTensors().get("csr_batched");
            assertEquals(java.util.List.of(2L, 4L, 4L), java.util.Arrays.stream(csr.size()).boxed().toList());
            assertEquals(2, csr.compressedIndices().dim());
            assertEquals(java.util.List.of(2L, 5L),
                    java.util.Arrays.stream(csr.compressedIndices().shape()).boxed().toList());
        }
    }

    private static String dump(Checkpoint c) {
        return CanonicalDump.toJson(c.root(), 1000, 10_000_000);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loadable")
    void loadsAsPyTorch26LoadsIt(String name) throws IOException {
        Path file = dir().resolve(name + ".pt");
        JsonNode expected = Json.parse(Files.readString(dir().resolve(name + ".expected.json")));
        String mapped;
        try (Checkpoint c = Checkpoint.load(file)) {
            assertTrue(c.isMapped());
            mapped = dump(c);
        }
        String difference = Json.firstDifference(Json.parse(mapped), expected);
        assertNull(difference, name + " differs from PyTorch 2.6 at " + difference);
        byte[] bytes = Files.readAllBytes(file);
        try (Checkpoint c = Checkpoint.load(new ByteArrayInputStream(bytes), name)) {
            assertFalse(c.isMapped());
            assertEquals(mapped, dump(c), "stream");
        }
        try (Checkpoint c = Checkpoint.load(bytes, name)) {
            assertEquals(mapped, dump(c), "byte array");
        }
        try (FileInputStream in = new FileInputStream(file.toFile()); Checkpoint c = Checkpoint.load(in, name)) {
            assertEquals(mapped, dump(c), "file stream");
        }
    }

    @Test
    void theIndexListsEveryFixtureAndCoversTheIssue() throws IOException {
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pt")).forEach(n -> files.add(n.replace(".pt", "")));
        }
        Set<String> listed = new TreeSet<>(fixtures().toList());
        assertEquals(files, listed);
        for (String name : listed) {
            assertTrue(Files.isRegularFile(dir().resolve(name + ".expected.json")), name);
            assertTrue(Files.size(dir().resolve(name + ".pt")) < 16_384, name + " stays small");
        }
        assertTrue(index().get("torch").asText().startsWith("2.6"), "written by PyTorch 2.6");
        for (String required : List.of("sd_transformer26", "sd_conv26", "train_adamw26", "float8_26", "uint26",
                "complex32_26", "bfloat16_26", "sparse26", "sparse_batched26", "quantized26", "conj_neg26", "meta26", "params_frozen26",
                "proto4_26", "proto5_26", "legacy26")) {
            assertTrue(listed.contains(required), required);
        }
    }
}
