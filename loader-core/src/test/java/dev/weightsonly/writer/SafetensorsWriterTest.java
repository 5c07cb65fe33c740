package dev.weightsonly.writer;

import dev.weightsonly.internal.writer.TensorBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.safetensors.SafetensorsDType;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.Python;
import dev.weightsonly.testing.Trees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SafetensorsWriter}: the reference writer's layout, row-major logical values whatever the strides
 * and lazy bits, shared views only by explicit choice; what it writes is read back by weightsonly with equal
 * values and accepted by the independent validator in gen_safetensors.py.
 */
class SafetensorsWriterTest {

    @TempDir
    Path tmp;

    /** A tensor's logical bytes: row-major, conjugate and negative bits applied. */
    static byte[] logical(Tensor t) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Iterator<TensorBytes.Block> it = TensorBytes.blocks(t); it.hasNext(); ) {
            out.writeBytes(it.next().bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
        return out.toByteArray();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static Tensor floats(String key, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.contiguousView(Storage.of(MemorySegment.ofArray(b.array()), key, "cpu"), DType.FLOAT32, 0,
                values.length);
    }

    private static Tensor bytes(DType dtype, String key, long[] shape, int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return Tensor.contiguousView(Storage.of(MemorySegment.ofArray(b), key, "cpu"), dtype, 0, shape);
    }

    @Test
    void headerAndDataAreLaidOutAsTheReferenceWriterLaysThemOut() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b", floats("b", 1f, 2f));
        tensors.put("a", floats("a", 3f));
        tensors.put("m", bytes(DType.BOOL, "m", new long[] {3}, 1, 0, 1));
        tensors.put("é", bytes(DType.UINT8, "e", new long[] {1}, 7));
        tensors.put("z", bytes(DType.UINT8, "z", new long[] {0}));
        tensors.put("c", Tensor.contiguousView(Storage.of(MemorySegment.ofArray(new byte[8]), "c", "cpu"), DType.INT64,
                0, 1));
        tensors.put("q\"\\\n", floats("q", 4f));
        Path out = tmp.resolve("m.safetensors");
        SafetensorsWriter.builder().metadata(Map.of("format", "pt")).build().write(tensors, out);
        byte[] file = Files.readAllBytes(out);
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        String header = new String(file, 8, n, StandardCharsets.UTF_8);
        // I64 before F32 before U8 before BOOL (descending alignment); names in UTF-8 byte order; serde_json
        // escapes; spaces to a multiple of 8.
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
                + "\"q\\\"\\\\\\n\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
                + "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[24,24]},"
                + "\"é\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[24,25]},"
                + "\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[25,28]}}";
        int jsonBytes = json.getBytes(StandardCharsets.UTF_8).length;
        assertEquals(0, n % 8);
        assertTrue(n - jsonBytes < 8);
        assertEquals(json + " ".repeat(n - jsonBytes), header);
        assertEquals(8 + n + 28, file.length);
        assertEquals(3f, b.getFloat(8 + n + 8));
        assertEquals(7, file[8 + n + 24]);
        assertArrayEquals(java.util.Arrays.copyOf(file, 8 + n),
                SafetensorsWriter.builder().metadata(Map.of("format", "pt")).build().header(tensors));
    }

    @Test
    void stridesAndLazyBitsAreWrittenAsRowMajorLogicalValues() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("conj_neg_meta"))) {
            Map<String, Tensor> tensors = c.stateDict().asMap();
            assertTrue(tensors.values().stream().anyMatch(t -> t.isConj()));
            assertTrue(tensors.values().stream().anyMatch(t -> t.isNeg() && !t.isContiguous()));
            Path out = tmp.resolve("lazy.safetensors");
            SafetensorsWriter.builder().sharedStorage(SharedStorage.COPY_EACH_VIEW).build().write(tensors, out);
            try (Checkpoint back = Checkpoint.load(out)) {
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    Tensor read = back.stateDict().tensor(e.getKey());
                    assertFalse(read.isConj() || read.isNeg());
                    assertTrue(read.isContiguous());
                    assertArrayEquals(logical(e.getValue()), read.toByteArray(), e.getKey());
                }
                Tensor imag = tensors.get("conj_imag");
                assertArrayEquals(imag.toDoubleArray(), back.stateDict().tensor("conj_imag").toDoubleArray());
            }
        }
    }

    @Test
    void viewsThatShareMemoryAreRefusedUnlessCopiesAreChosen() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sd_embedding_tied"))) {
            Map<String, Tensor> tensors = c.stateDict().asMap();
            Path out = tmp.resolve("tied.safetensors");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SafetensorsWriter.save(tensors, out));
            assertTrue(e.getMessage().startsWith("Some tensors share memory: 'embed.weight', 'head.weight'"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("SharedStorage.COPY_EACH_VIEW"), e.getMessage());
            assertFalse(Files.exists(out));
            SafetensorsWriter.builder().sharedStorage(SharedStorage.COPY_EACH_VIEW).build().write(tensors, out);
            try (Checkpoint back = Checkpoint.load(out)) {
                Tensor embed = back.stateDict().tensor("embed.weight");
                Tensor head = back.stateDict().tensor("head.weight");
                assertNotSame(embed.storage(), head.storage(), "safetensors cannot share: two copies");
                assertArrayEquals(embed.toFloatArray(), head.toFloatArray());
            }
        }
    }

    @Test
    void disjointViewsOfOneStorageAreNotShared() throws IOException {
        Storage s = Storage.of(MemorySegment.ofArray(new byte[24]), "s", "cpu");
        Map<String, Tensor> halves = new LinkedHashMap<>();
        halves.put("top", Tensor.of(s, DType.FLOAT32, 0, new long[] {3}, new long[] {1}));
        halves.put("bottom", Tensor.of(s, DType.FLOAT32, 3, new long[] {3}, new long[] {1}));
        halves.put("empty", Tensor.of(s, DType.FLOAT32, 1, new long[] {0}, new long[] {1}));
        SafetensorsWriter.save(halves, tmp.resolve("halves.safetensors"));
        halves.put("middle", Tensor.of(s, DType.FLOAT32, 2, new long[] {2}, new long[] {1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.save(halves, tmp.resolve("overlap.safetensors")));
        assertTrue(e.getMessage().contains("'bottom', 'middle', 'top' (storage 's')"), e.getMessage());
    }

    @Test
    void refusesWhatSafetensorsCannotHoldNamingTheTensor() {
        Tensor c128 = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(new byte[16]), "c", "cpu"),
                DType.COMPLEX128, 0, 1);
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.save(Map.of("w", c128), tmp.resolve("x.safetensors")));
        assertTrue(dtype.getMessage().startsWith("tensor 'w' has dtype complex128, which safetensors cannot store"),
                dtype.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.save(Map.of("__metadata__", floats("m", 1f)), tmp.resolve("x.safetensors")));
        IllegalArgumentException surrogate = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.save(Map.of("bad\ud800", floats("m", 1f)), tmp.resolve("x.safetensors")));
        assertTrue(surrogate.getMessage().contains("lone surrogate U+D800"), surrogate.getMessage());
    }

    @Test
    void progressCountsDataBytes() throws IOException {
        List<long[]> calls = new ArrayList<>();
        SafetensorsWriter.builder().progress((done, total) -> calls.add(new long[] {done, total})).build()
                .write(Map.of("a", floats("a", 1f, 2f, 3f)), tmp.resolve("p.safetensors"));
        assertArrayEquals(new long[] {0, 12}, calls.get(0));
        assertArrayEquals(new long[] {12, 12}, calls.get(calls.size() - 1));
    }

    @Test
    void aFileCanBeRewrittenOntoItselfWhileItIsMapped() throws IOException {
        Path file = tmp.resolve("self.safetensors");
        SafetensorsWriter.save(Map.of("w", floats("w", 1f, 2f)), file);
        try (Checkpoint c = Checkpoint.load(file)) {
            Map<String, Tensor> tensors = new TreeMap<>(c.stateDict().asMap());
            tensors.put("v", floats("v", 5f));
            SafetensorsWriter.save(tensors, file);
            assertEquals(2f, c.stateDict().tensor("w").getFloat(1), "the old mapping is still valid");
        }
        try (Checkpoint c = Checkpoint.load(file)) {
            assertEquals(List.of("v", "w"), List.copyOf(c.stateDict().names()));
        }
    }

    // ---- fixtures, validator, properties ----------------------------------------------------------------

    /**
     * PyTorch → safetensors → Java: every tensor of every fixture weightsonly loads, whose dtype safetensors
     * has a code for, written by Java and read back by Java with equal values; the independent validator in
     * gen_safetensors.py accepts every file, its layout included, and hashes the same bytes.
     */
    @Test
    void fixturesConvertedToSafetensorsReadBackEqualAndPassTheValidator() throws IOException {
        Map<Path, Map<String, byte[]>> written = new LinkedHashMap<>();
        for (JsonNode f : Json.parse(Files.readString(Fixtures.dir().resolve("index.json"))).get("fixtures")) {
            String name = f.get("name").asText();
            Checkpoint c;
            try {
                c = Checkpoint.load(Fixtures.file(name));
            } catch (CheckpointException refused) {
                continue;
            }
            try (c) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                Map<String, byte[]> expected = new LinkedHashMap<>();
                for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
                    if (SafetensorsDType.fromTorch(e.getValue().dtype()).isPresent()) {
                        tensors.put(e.getKey(), e.getValue());
                        expected.put(e.getKey(), logical(e.getValue()));
                    }
                }
                Path out = tmp.resolve(name + ".safetensors");
                SafetensorsWriter.builder().sharedStorage(SharedStorage.COPY_EACH_VIEW)
                        .metadata(Map.of("source", name)).build().write(tensors, out);
                try (Checkpoint back = Checkpoint.load(out)) {
                    assertEquals(expected.keySet(), back.stateDict().asMap().keySet(), name);
                    for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                        Tensor read = back.stateDict().tensor(e.getKey());
                        assertEquals(tensors.get(e.getKey()).dtype(), read.dtype());
                        assertArrayEquals(tensors.get(e.getKey()).shape(), read.shape());
                        assertArrayEquals(e.getValue(), read.toByteArray(), name + " " + e.getKey());
                    }
                    assertEquals(Map.of("source", name), back.metadata());
                }
                written.put(out, expected);
            }
        }
        assertTrue(written.size() >= 28, written.size() + " files");
        assertValidatorAccepts(written);
    }

    @Property(tries = 80)
    void randomTensorsRoundTripWithEqualValues(@ForAll long seed) throws IOException {
        Random random = new Random(seed);
        List<DType> dtypes = new ArrayList<>();
        for (SafetensorsDType code : SafetensorsDType.values()) {
            code.torchDType().ifPresent(dtypes::add);
        }
        PyDict tree = Trees.randomStateDict(random, dtypes, 1 + random.nextInt(8), PyDict.Kind.DICT, false);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tree.forEach((k, v) -> tensors.put((String) k, (Tensor) v));
        Path out = Files.createTempFile("random", ".safetensors");
        try {
            SafetensorsWriter.builder().sharedStorage(SharedStorage.COPY_EACH_VIEW).build().write(tensors, out);
            try (Checkpoint back = Checkpoint.load(out)) {
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    Tensor read = back.stateDict().tensor(e.getKey());
                    assertEquals(e.getValue().dtype(), read.dtype());
                    assertArrayEquals(e.getValue().shape(), read.shape());
                    assertArrayEquals(logical(e.getValue()), read.toByteArray());
                }
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void randomFilesPassTheValidator() throws IOException {
        Map<Path, Map<String, byte[]>> written = new LinkedHashMap<>();
        List<DType> dtypes = new ArrayList<>();
        for (SafetensorsDType code : SafetensorsDType.values()) {
            code.torchDType().ifPresent(dtypes::add);
        }
        for (int i = 0; i < 20; i++) {
            Random random = new Random(i);
            PyDict tree = Trees.randomStateDict(random, dtypes, 1 + random.nextInt(10), PyDict.Kind.DICT, false);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, byte[]> expected = new LinkedHashMap<>();
            tree.forEach((k, v) -> {
                tensors.put((String) k, (Tensor) v);
                expected.put((String) k, logical((Tensor) v));
            });
            Path out = tmp.resolve("random" + i + ".safetensors");
            SafetensorsWriter.builder().sharedStorage(SharedStorage.COPY_EACH_VIEW).build().write(tensors, out);
            written.put(out, expected);
        }
        assertValidatorAccepts(written);
    }

    private static void assertValidatorAccepts(Map<Path, Map<String, byte[]>> written) {
        List<String> args = new ArrayList<>();
        args.add(Python.resources("safetensors").resolve("gen_safetensors.py").toString());
        args.add("validate");
        written.keySet().forEach(p -> args.add(p.toString()));
        Python.Run r = Python.run(args);
        assertEquals(0, r.status(), r.err());
        int checked = 0;
        for (String line : r.out().split("\n")) {
            JsonNode v = Json.parse(line);
            Path file = Path.of(v.get("file").asText());
            assertTrue(v.get("ok").asBoolean(), file + ": " + v.path("error").asText());
            Map<String, byte[]> expected = written.get(file);
            assertEquals(expected.size(), v.get("tensors").size());
            for (JsonNode t : v.get("tensors")) {
                assertEquals(sha256(expected.get(t.get("name").asText())), t.get("sha256").asText());
            }
            checked++;
        }
        assertEquals(written.size(), checked);
    }

    // ---- blocks -----------------------------------------------------------------------------------------

    @Test
    void blocksCoverTheTensorInOrderWhateverTheStrides() {
        Random random = new Random(5);
        for (int i = 0; i < 200; i++) {
            DType dtype = Trees.LEGACY.get(random.nextInt(Trees.LEGACY.size()));
            long[] shape = Trees.shape(random, true);
            Tensor t = Trees.randomView(random, dtype, shape, "t");
            Tensor c = Tensor.contiguousView(Trees.storage(random, dtype, Math.max(t.numel(), 1), "c"), dtype, 0, shape);
            long blockBytes = dtype.elementSize() * (1L + random.nextInt(7));
            List<Long> starts = new ArrayList<>();
            List<Long> cStarts = new ArrayList<>();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (Iterator<TensorBytes.Block> it = TensorBytes.blocks(t, blockBytes); it.hasNext(); ) {
                TensorBytes.Block b = it.next();
                assertTrue(b.bytes().byteSize() <= Math.max(blockBytes, dtype.elementSize()));
                assertEquals(all.size() / dtype.elementSize(), b.firstElement());
                starts.add(b.firstElement());
                all.writeBytes(b.bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
            for (Iterator<TensorBytes.Block> it = TensorBytes.blocks(c, blockBytes); it.hasNext(); ) {
                cStarts.add(it.next().firstElement());
            }
            assertArrayEquals(t.toByteArray(), all.toByteArray(), t.toString());
            assertEquals(starts, cStarts, "blocks depend on the shape only");
        }
    }
}
