package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sharded Hugging Face checkpoint written with PyTorch (fixtures/sharded/gen_sharded.py). */
class ShardedCheckpointTest {

    static final Path DIR = Fixtures.dir().resolve("sharded");

    @Test
    void loadsAsOneStateDictEqualToPyTorch() throws IOException {
        try (Checkpoint c = Checkpoint.loadSharded(DIR.resolve("pytorch_model.bin.index.json"))) {
            String expected = Files.readString(DIR.resolve("expected.json"));
            assertNull(Json.firstDifference(Json.parse(CanonicalDump.toJson(c.root(), 100, 100_000)),
                    Json.parse(expected)));
            StateDict sd = c.stateDict();
            assertEquals(7, sd.size());
            for (Tensor t : sd.asMap().values()) {
                assertTrue(t.storage().bytes().isMapped(), "each shard is mapped");
            }
            assertEquals(7, c.tensorCount());
        }
    }

    @Test
    void closingTheCheckpointReleasesEveryShard() throws IOException {
        Tensor t;
        try (Checkpoint c = Checkpoint.loadSharded(DIR.resolve("pytorch_model.bin.index.json"))) {
            t = c.stateDict().tensor("3.weight");
            t.getFloat(0, 0);
        }
        assertThrows(IllegalStateException.class, () -> t.getFloat(0, 0));
    }

    @Test
    void shardNamesMustStayInTheIndexFolder() {
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class,
                () -> Checkpoint.loadSharded(DIR.resolve("traversal.index.json")));
        assertTrue(e.getMessage().contains("'../dtypes.pt'") && e.getMessage().contains("not a plain file name"),
                e.getMessage());
    }

    @Test
    void aTensorMustBeInTheShardTheIndexNames() {
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class,
                () -> Checkpoint.loadSharded(DIR.resolve("misplaced.index.json")));
        assertTrue(e.getMessage().contains("which does not hold it"), e.getMessage());
    }

    @Test
    void aMalformedIndexIsRefused(@TempDir Path dir) throws IOException {
        Path index = dir.resolve("bad.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"x.bin\", \"a\": \"y.bin\"}}");
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class,
                () -> Checkpoint.loadSharded(index));
        assertTrue(e.getMessage().contains("duplicate key"), e.getMessage());
        Files.writeString(index, "{\"metadata\": {}}");
        assertThrows(MalformedCheckpointException.class, () -> Checkpoint.loadSharded(index));
    }
}
