package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.ZipWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The public API over real fixtures: state dicts, tensor paths, lifetime, concurrency and error messages. */
class CheckpointApiTest {

    @TempDir
    Path dir;

    private static String dump(Checkpoint c) {
        return CanonicalDump.toJson(c.root(), 1000, 10_000_000);
    }

    /** The keys of the root dict of a fixture's expected dump, in order. */
    private static List<String> expectedRootKeys(String fixture) {
        List<String> keys = new ArrayList<>();
        for (JsonNode pair : Json.parse(Fixtures.expectedJson(fixture)).get("root").get("dict")) {
            keys.add(pair.get(0).asText());
        }
        return keys;
    }

    // ---- state dicts ------------------------------------------------------------------------------------

    @Test
    void stateDictKeepsTheSavedOrder() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sd_mlp_nested"))) {
            StateDict sd = c.stateDict();
            List<String> expected = expectedRootKeys("sd_mlp_nested");
            assertEquals(25, expected.size());
            assertEquals(expected, List.copyOf(sd.names()));
            assertEquals(expected, List.copyOf(sd.asMap().keySet()));
            assertEquals(25, sd.size());
            Tensor conv = sd.tensor("layer1.0.conv1.weight");
            assertArrayEquals(new long[] {2, 2, 1, 1}, conv.shape());
            assertEquals(DType.FLOAT32, conv.dtype());
            Tensor tracked = sd.tensor("layer1.1.bn1.num_batches_tracked");
            assertEquals(DType.INT64, tracked.dtype());
            assertEquals(0, tracked.dim());
            assertTrue(sd.contains("head.fc.bias"));
            assertFalse(sd.contains("head.fc"));
            assertThrows(UnsupportedOperationException.class, () -> sd.asMap().clear());
            assertTrue(sd.toString().contains("25 tensors"));
        }
    }

    @Test
    void missingTensorNameListsSimilarNames() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sd_mlp_nested"))) {
            StateDict sd = c.stateDict();
            NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> sd.tensor("conv1.weight"));
            assertTrue(e.getMessage().startsWith(Fixtures.file("sd_mlp_nested").toString()), e.getMessage());
            assertTrue(e.getMessage().contains("no tensor 'conv1.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("similar names"), e.getMessage());
            assertTrue(e.getMessage().contains("layer1.0.conv1.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("layer1.1.conv1.weight"), e.getMessage());
            // "module." prefixes (DataParallel) point at the real name
            NoSuchElementException prefixed = assertThrows(NoSuchElementException.class,
                    () -> sd.tensor("module.head.fc.weight"));
            assertTrue(prefixed.getMessage().contains("head.fc.weight"), prefixed.getMessage());
            // nothing alike: the first names are listed
            NoSuchElementException unrelated = assertThrows(NoSuchElementException.class, () -> sd.tensor("zzz"));
            assertTrue(unrelated.getMessage().contains("it has 25 tensors, starting with stem.weight"),
                    unrelated.getMessage());
        }
    }

    @Test
    void stateDictOfATrainingCheckpointSaysWhereTheModelIs() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("train_checkpoint"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c::stateDict);
            assertTrue(e.getMessage().startsWith(Fixtures.file("train_checkpoint").toString()), e.getMessage());
            assertTrue(e.getMessage().contains("stateDict(\"model\")"), e.getMessage());
            assertTrue(e.getMessage().contains("'epoch'"), e.getMessage());

            StateDict model = c.stateDict("model");
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(model.names()));
            assertArrayEquals(new long[] {3, 4}, model.tensor("0.weight").shape());

            IllegalStateException nope = assertThrows(IllegalStateException.class, () -> c.stateDict("nope"));
            assertTrue(nope.getMessage().contains("has no key 'nope'"), nope.getMessage());
            for (String key : new String[] {"'epoch'", "'model'", "'optimizer'"}) {
                assertTrue(nope.getMessage().contains(key), nope.getMessage());
            }
            IllegalStateException notDict = assertThrows(IllegalStateException.class, () -> c.stateDict("epoch", "x"));
            assertTrue(notDict.getMessage().contains("not a dict"), notDict.getMessage());
            // the optimizer dict is not a state dict (int keys, non-tensors)
            assertThrows(IllegalStateException.class, () -> c.stateDict("optimizer"));
        }
    }

    @Test
    void tensorsArePathedFromTheRoot() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("train_checkpoint"))) {
            Map<String, Tensor> all = c.tensors();
            List<String> names = List.copyOf(all.keySet());
            assertEquals(List.of("model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"),
                    names.subList(0, 4));
            for (String path : new String[] {"optimizer.state.0.step", "optimizer.state.0.exp_avg",
                    "optimizer.state.0.exp_avg_sq", "optimizer.state.1.exp_avg", "optimizer.state.3.exp_avg_sq"}) {
                assertTrue(all.containsKey(path), path + " in " + names);
            }
            assertArrayEquals(new long[] {3, 4}, all.get("optimizer.state.0.exp_avg").shape());
            assertEquals(0, all.get("optimizer.state.0.step").dim());
            assertSame(c.stateDict("model").tensor("0.weight"), all.get("model.0.weight"));
            assertTrue(names.indexOf("model.2.bias") < names.indexOf("optimizer.state.0.step"));
            // Every tensor the load built is listed exactly once here (this file shares no tensor objects).
            assertEquals(c.tensorCount(), all.size());
        }
    }

    @Test
    void aBareTensorRootIsListedUnderRoot() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("tensor_root"))) {
            assertInstanceOf(Tensor.class, c.root());
            assertEquals(Map.of("<root>", c.root()), c.tensors());
            IllegalStateException e = assertThrows(IllegalStateException.class, c::stateDict);
            assertTrue(e.getMessage().contains("not a state dict"), e.getMessage());
        }
    }

    // ---- lifetime ---------------------------------------------------------------------------------------

    @Test
    void readingATensorAfterCloseOfAMappedLoadThrows() throws IOException {
        Checkpoint c = Checkpoint.load(Fixtures.file("big_tensor"));
        Tensor t = c.tensors().values().iterator().next();
        float first = t.toFloatArray()[0];
        assertTrue(Float.isFinite(first));
        c.close();
        assertThrows(IllegalStateException.class, () -> t.getDouble(0));
        assertThrows(IllegalStateException.class, t::toFloatArray);
        assertThrows(IllegalStateException.class, t::toByteArray);
        c.close(); // twice is harmless
    }

    @Test
    void readingATensorAfterCloseOfAStreamLoadThrows() throws IOException {
        Checkpoint c;
        try (InputStream in = Files.newInputStream(Fixtures.file("big_tensor"))) {
            c = Checkpoint.load(in, "big_tensor-stream");
        }
        assertFalse(c.isMapped());
        Tensor t = c.tensors().values().iterator().next();
        assertTrue(Float.isFinite(t.getFloat(0)));
        c.close();
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        assertThrows(IllegalStateException.class, t::toFloatArray);
    }

    @Test
    void readingATensorAfterCloseOfAByteArrayLoadThrows() throws IOException {
        Checkpoint c = Checkpoint.load(Fixtures.bytes("big_tensor"), "big_tensor-bytes");
        Tensor t = c.tensors().values().iterator().next();
        assertTrue(Float.isFinite(t.getFloat(0)));
        c.close();
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
    }

    @Test
    void aStreamLoadStaysValidAfterTheStreamIsClosed() throws IOException {
        String expected;
        try (Checkpoint mapped = Checkpoint.load(Fixtures.file("train_checkpoint"))) {
            expected = dump(mapped);
        }
        InputStream in = new ByteArrayInputStream(Fixtures.bytes("train_checkpoint"));
        try (Checkpoint c = Checkpoint.load(in, "train_checkpoint-stream")) {
            in.close();
            assertEquals(expected, dump(c));
            assertEquals("train_checkpoint-stream", c.source());
        }
    }

    @Test
    void aByteArrayLoadIgnoresLaterChangesToTheArray() throws IOException {
        byte[] bytes = Fixtures.bytes("sd_linear");
        try (Checkpoint c = Checkpoint.load(bytes, "sd_linear-bytes")) {
            String before = dump(c);
            java.util.Arrays.fill(bytes, (byte) 0);
            assertEquals(before, dump(c));
        }
    }

    // ---- concurrency ------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"train_checkpoint", "many_tensors", "views"})
    void concurrentLoadsOfOneFileGiveIdenticalDumps(String fixture) throws Exception {
        String expected;
        try (Checkpoint c = Checkpoint.load(Fixtures.file(fixture))) {
            expected = dump(c);
        }
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < threads * 4; i++) {
                int n = i;
                Callable<String> task = () -> {
                    start.await();
                    if (n % 2 == 0) {
                        try (Checkpoint c = Checkpoint.load(Fixtures.file(fixture))) {
                            return dump(c);
                        }
                    }
                    try (Checkpoint c = Checkpoint.load(Files.newInputStream(Fixtures.file(fixture)), fixture)) {
                        return dump(c);
                    }
                };
                results.add(pool.submit(task));
            }
            start.countDown();
            for (Future<String> f : results) {
                assertEquals(expected, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void oneMappedCheckpointIsReadableFromManyThreads() throws Exception {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("many_tensors"))) {
            String expected = dump(c);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    results.add(pool.submit(() -> dump(c)));
                }
                for (Future<String> f : results) {
                    assertEquals(expected, f.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    // ---- error messages ---------------------------------------------------------------------------------

    private Path write(String name, byte[] pkl, Object... records) throws IOException {
        ZipWriter w = ZipWriter.checkpoint("model", pkl);
        for (int i = 0; i < records.length; i += 2) {
            w.record("data/" + records[i], (byte[]) records[i + 1]);
        }
        Path p = dir.resolve(name);
        Files.write(p, w.bytes());
        return p;
    }

    @Test
    void pickleFailuresNameTheFileTheRecordAndTheOffset() throws IOException {
        byte[] pkl = PickleBuilder.protocol(2).emptyDict().str("a").integer(1).op('s')
                .global("os", "system").str("id").op(0x85).reduce().stop().bytes();
        Path p = write("evil.pt", pkl);
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().startsWith(p + ": model/data.pkl: at pickle offset "), e.getMessage());
        assertEquals(p.toString(), e.source());
        assertEquals("model/data.pkl", e.record().orElseThrow());
        assertEquals(12, e.pickleOffset()); // PROTO(2) EMPTY_DICT(1) BINUNICODE "a"(6) BININT1(2) SETITEM(1)
        assertTrue(e.getMessage().contains("at pickle offset 12: "), e.getMessage());
        assertTrue(e.detail().contains("os.system"), e.detail());

        byte[] truncated = java.util.Arrays.copyOf(pkl, 14);
        Path t = write("cut.pt", truncated);
        MalformedCheckpointException m = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(t));
        assertTrue(m.getMessage().startsWith(t + ": model/data.pkl: at pickle offset "), m.getMessage());
        assertTrue(m.pickleOffset() >= 0);
    }

    @Test
    void badTensorFailuresNameTheKeyBeingBuilt() throws IOException {
        byte[] floats = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3)
                .putFloat(4).array();
        byte[] pkl = PickleBuilder.protocol(2).global("collections", "OrderedDict").emptyTuple().reduce()
                .str("ok").tensorV2("torch.FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}).op('s')
                .str("w").tensorV2("torch.FloatStorage", "0", 4, 1, new long[] {4}, new long[] {1}).op('s')
                .stop().bytes();
        Path p = write("bad_view.pt", pkl, "0", floats);
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().startsWith(p + ": model/data.pkl: at pickle offset "), e.getMessage());
        assertTrue(e.getMessage().contains("building the value of key 'w'"), e.getMessage());
        assertTrue(e.getMessage().contains("storage '0' holds 16 bytes"), e.getMessage());
    }

    @Test
    void containerFailuresNameTheFileButNoOffset() throws IOException {
        Path p = dir.resolve("noversion.pt");
        Files.write(p, ZipWriter.checkpoint("model", PickleBuilder.protocol(2).emptyDict().stop().bytes())
                .remove("version").bytes());
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("at pickle offset"), e.getMessage());
        assertEquals(-1, e.pickleOffset());
    }

    @Test
    void aFileThatDoesNotExistIsUnreadableNotRefused() {
        Path missing = dir.resolve("absent.pt");
        // A CheckpointException (one catch for every failure of a load), of the kind that is no verdict on a file.
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(missing));
        assertInstanceOf(UnreadableCheckpointException.class, e, "a file system error, not a verdict on a checkpoint");
        assertEquals(missing + ": no such file", e.getMessage());
    }

    @Test
    void rootIsTheUnpickledObject() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sd_linear"))) {
            PyDict root = assertInstanceOf(PyDict.class, c.root());
            assertEquals(PyDict.Kind.ORDERED_DICT, root.kind());
            assertTrue(root.attributes().containsKey("_metadata"));
            assertTrue(c.toString().contains("mapped"));
            assertEquals(2, c.tensorCount());
            assertEquals(2, c.storageCount());
            assertSame(LoadLimits.defaults(), c.limits());
        }
    }

    @Test
    void valuesListWhatIsNotATensorByPath() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("train_checkpoint"))) {
            Map<String, Object> values = c.values();
            assertEquals(3L, values.get("epoch"));
            assertEquals(0.00025, values.get("optimizer.param_groups.0.lr"));
            assertEquals(0.9, values.get("optimizer.param_groups.0.betas.0"));
            assertEquals(dev.weightsonly.python.PyNone.NONE, values.get("optimizer.param_groups.0.foreach"));
            assertEquals(Boolean.FALSE, values.get("optimizer.param_groups.0.amsgrad"));
            assertEquals(List.of("epoch", "optimizer.param_groups.0.lr"), values.keySet().stream()
                    .filter(k -> k.equals("epoch") || k.equals("optimizer.param_groups.0.lr")).toList(), "path order");
            // No tensor, and no container: "optimizer.state" holds tensors, "optimizer.param_groups" dicts.
            assertTrue(values.keySet().stream().noneMatch(c.tensors()::containsKey), values.toString());
            assertFalse(values.containsKey("optimizer.state") || values.containsKey("optimizer.param_groups"));
            assertTrue(values.values().stream().noneMatch(v -> v instanceof Tensor || v instanceof PyDict));
            assertThrows(UnsupportedOperationException.class, () -> values.put("x", 1L));
        }
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sd_linear"))) {
            assertEquals(Map.of(), c.values(), "a state dict holds tensors only");
        }
    }
}
