package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.dump.CanonicalDump;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The legacy stream's storage keys and view keys share one dictionary in PyTorch's {@code _legacy_load}:
 * fixtures/legacy/gen_legacy_keys.py writes streams whose keys collide (a view key equal to a root key, a root
 * key equal to a view key, views in the key list, a key listed twice, a root declared again, clamped and
 * negative view bounds, a wrapping element count) and records what PyTorch 2.6's
 * {@code torch.load(weights_only=True)} returns for each. Every file torch loads loads here to the same canonical
 * dump, mapped and copied; every file it refuses is refused; the one documented difference (bytes no block
 * writes, which torch hands out uninitialised) is refused.
 */
class LegacyStorageKeysTest {

    static Path dir() {
        return Fixtures.dir().resolve("legacy");
    }

    static Stream<Arguments> cases() throws IOException {
        JsonNode expected = Json.parse(Files.readString(dir().resolve("expected.json")));
        List<Arguments> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.get("cases").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(Arguments.of(e.getKey(), e.getValue()));
        }
        return out.stream();
    }

    private static String dump(Checkpoint c) {
        return CanonicalDump.toJson(c.root(), 1000, 10_000_000);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void loadsAsPyTorchLoadsIt(String name, JsonNode expected) throws IOException {
        Path file = dir().resolve(name + ".pt");
        if (expected.has("weightsonly")) {
            // A documented difference (docs/SECURITY.md): refused, where torch returns uninitialised memory.
            assertEquals("loads", expected.get("torch").asText());
            MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class,
                    () -> Checkpoint.load(file));
            assertTrue(e.getMessage().contains("are written by no block of the stream"), e.getMessage());
            return;
        }
        if (expected.get("torch").asText().equals("refuses")) {
            assertThrows(CheckpointException.class, () -> Checkpoint.load(file), name);
            return;
        }
        String mapped;
        try (Checkpoint c = Checkpoint.load(file)) {
            mapped = dump(c);
        }
        String difference = Json.firstDifference(Json.parse(mapped), expected.get("dump"));
        assertNull(difference, name + " differs from PyTorch at " + difference + ": " + mapped);
        try (Checkpoint c = Checkpoint.load(Files.readAllBytes(file), name)) {
            assertEquals(mapped, dump(c), "a copying load reads the same");
        }
    }

    @Test
    void everyFileOfTheFolderHasPyTorchsVerdict() throws IOException {
        long files;
        try (var s = Files.list(dir())) {
            files = s.filter(p -> p.toString().endsWith(".pt")).count();
        }
        assertEquals(files, cases().count());
        assertTrue(files >= 14, "cases: " + files);
    }

    @Test
    void aViewKeyEqualToARootKeyIsThatRootItself() throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve("view_key_is_root_key.pt"))) {
            assertSame(c.stateDict().tensor("a").storage(), c.stateDict().tensor("b").storage());
        }
    }

    @Test
    void aStorageWrittenOnceIsASliceOfTheFileAndOneWrittenPiecewiseIsACopy() throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve("view_key_is_root_key.pt"))) {
            assertTrue(c.stateDict().tensor("a").storage().bytes().isMapped());
        }
        try (Checkpoint c = Checkpoint.load(dir().resolve("view_block_after_root.pt"))) {
            assertTrue(!c.stateDict().tensor("a").storage().bytes().isMapped());
            // the view's storage is a slice of the same copy: the view and the root see the same bytes
            assertEquals(c.stateDict().tensor("a").getFloat(1), c.stateDict().tensor("v").getFloat(0));
        }
    }
}
