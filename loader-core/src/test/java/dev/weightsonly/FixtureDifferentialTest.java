package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture written by real PyTorch (gen_fixtures.py) loads to the same canonical dump that PyTorch's
 * own printer (dump_checkpoint.py) produced: values, shapes, strides, offsets and shared storages.
 * Fixtures that a weights-only load must refuse are refused, with the construct named.
 */
class FixtureDifferentialTest {

    /** Fixtures that torch's weights-only loader refuses too, or that hold a tensor kind not rebuilt yet. */
    private static final Map<String, Refusal> REFUSED = Map.of(
            "frozenset_value", new Refusal(UnsupportedGlobalException.class,
                    "GLOBAL frozenset was not an allowed global by default"),
            "empty_bytes", new Refusal(UnsupportedGlobalException.class,
                    "GLOBAL bytes was not an allowed global by default"),
            "fairseq_dictionary", new Refusal(UnsupportedGlobalException.class,
                    "GLOBAL fairseq.data.dictionary.Dictionary was not an allowed global by default"));

    record Refusal(Class<? extends CheckpointException> type, String fragment) {
    }

    static Stream<Arguments> fixtures() {
        JsonNode index = Json.parse(readIndex());
        List<Arguments> out = new ArrayList<>();
        for (JsonNode f : index.get("fixtures")) {
            out.add(Arguments.of(f.get("name").asText()));
        }
        return out.stream();
    }

    private static String readIndex() {
        try {
            return java.nio.file.Files.readString(Fixtures.dir().resolve("index.json"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String dump(Checkpoint c) {
        return CanonicalDump.toJson(c.root(), 1000, 10_000_000);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void mappedLoadEqualsPyTorch(String name) throws IOException {
        Refusal refusal = REFUSED.get(name);
        if (refusal != null) {
            CheckpointException e = assertThrows(refusal.type(), () -> Checkpoint.load(Fixtures.file(name)));
            assertTrue(e.getMessage().contains(refusal.fragment()), e.getMessage());
            assertTrue(e.getMessage().startsWith(Fixtures.file(name).toString()), "names the file: " + e.getMessage());
            return;
        }
        try (Checkpoint c = Checkpoint.load(Fixtures.file(name))) {
            assertTrue(c.isMapped());
            String difference = Json.firstDifference(Json.parse(dump(c)), Json.parse(Fixtures.expectedJson(name)));
            assertNull(difference, name + " differs from PyTorch at " + difference);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void streamAndByteArrayLoadsEqualTheMappedLoad(String name) throws IOException {
        if (REFUSED.containsKey(name)) {
            return; // the refusal itself is covered above
        }
        byte[] bytes = Fixtures.bytes(name);
        String mapped;
        try (Checkpoint c = Checkpoint.load(Fixtures.file(name))) {
            mapped = dump(c);
        }
        try (Checkpoint c = Checkpoint.load(new ByteArrayInputStream(bytes), name)) {
            assertFalse(c.isMapped());
            assertEquals(mapped, dump(c));
        }
        try (Checkpoint c = Checkpoint.load(bytes, name)) {
            assertEquals(mapped, dump(c));
        }
        try (java.io.FileInputStream in = new java.io.FileInputStream(Fixtures.file(name).toFile());
                Checkpoint c = Checkpoint.load(in, name)) {
            assertFalse(c.isMapped());
            assertEquals(mapped, dump(c));
        }
    }

    @Test
    void everyFixtureInTheFolderIsInTheIndex() throws IOException {
        long files;
        try (var s = java.nio.file.Files.list(Fixtures.dir())) {
            files = s.filter(p -> p.toString().endsWith(".pt")).count();
        }
        assertEquals(files, fixtures().count());
        assertTrue(files >= 25, "fixtures present: " + files);
    }
}
