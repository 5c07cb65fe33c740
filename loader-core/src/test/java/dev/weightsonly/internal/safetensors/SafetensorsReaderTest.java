package dev.weightsonly.internal.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.Python;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The safetensors reader against files written to the format's definition by gen_safetensors.py (committed
 * with index.json, which says what the reference reader does with each), and against hostile headers built
 * here. Every file is read the way users read it, through {@link Checkpoint#load(Path)}.
 */
class SafetensorsReaderTest {

    @TempDir
    Path tmp;

    static Path dir() {
        return Python.resources("safetensors");
    }

    static Stream<String> cases() throws IOException {
        JsonNode index = Json.parse(Files.readString(dir().resolve("index.json")));
        List<String> names = new ArrayList<>();
        index.get("cases").forEach(c -> names.add(c.get("name").asText()));
        return names.stream();
    }

    static JsonNode indexCase(String name) {
        try {
            for (JsonNode c : Json.parse(Files.readString(dir().resolve("index.json"))).get("cases")) {
                if (c.get("name").asText().equals(name)) {
                    return c;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError(name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void readsOrRefusesAsTheReferenceDoes(String name) throws IOException {
        JsonNode c = indexCase(name);
        Path file = dir().resolve(c.get("file").asText());
        String expect = c.get("expect").asText();
        if (expect.equals("ok")) {
            try (Checkpoint checkpoint = Checkpoint.load(file)) {
                assertTrue(checkpoint.isMapped());
                PyDict root = assertInstanceOf(PyDict.class, checkpoint.root());
                assertEquals(PyDict.Kind.DICT, root.kind());
                List<String> names = new ArrayList<>();
                root.keySet().forEach(k -> names.add((String) k));
                List<String> expectedNames = new ArrayList<>();
                c.get("tensors").forEach(t -> expectedNames.add(t.get("name").asText()));
                assertEquals(expectedNames, names, "tensors in the order of their data");
                for (JsonNode t : c.get("tensors")) {
                    Tensor tensor = (Tensor) root.get(t.get("name").asText());
                    DType dtype = SafetensorsDType.fromCode(t.get("dtype").asText()).orElseThrow().torchDType()
                            .orElseThrow();
                    assertEquals(dtype, tensor.dtype());
                    long[] shape = new long[t.get("shape").size()];
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = t.get("shape").get(i).asLong();
                    }
                    assertArrayEquals(shape, tensor.shape());
                    assertTrue(tensor.isContiguous());
                    assertEquals(t.get("hex").asText(), HexFormat.of().formatHex(tensor.toByteArray()));
                }
                assertEquals(Json.parse(c.get("metadata").toString()),
                        Json.parse(new com.fasterxml.jackson.databind.ObjectMapper()
                                .writeValueAsString(checkpoint.metadata())));
                assertEquals(names.size(), checkpoint.tensorCount());
            }
            return;
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file));
        assertTrue(e.getMessage().startsWith(file + ": safetensors: "), e.getMessage());
        if (c.has("java")) { // weightsonly differs from the reference on purpose; "why" says why
            JsonNode java = c.get("java");
            Class<?> type = java.get("refusal").asText().equals("unsupported") ? UnsupportedCheckpointException.class
                    : MalformedCheckpointException.class;
            assertInstanceOf(type, e, e.getMessage());
            assertTrue(e.getMessage().contains(java.get("message").asText()), e.getMessage());
        } else {
            assertInstanceOf(MalformedCheckpointException.class, e, e.getMessage());
            assertTrue(e.getMessage().endsWith("(" + c.get("error").asText() + ")"), e.getMessage());
        }
        if (c.has("tensor")) {
            assertTrue(e.getMessage().contains("'" + c.get("tensor").asText() + "'"), "names the tensor: "
                    + e.getMessage());
        }
        // The same bytes from a stream get the same verdict.
        byte[] bytes = Files.readAllBytes(file);
        CheckpointException s = assertThrows(CheckpointException.class,
                () -> Checkpoint.load(new ByteArrayInputStream(bytes), "x.safetensors"));
        assertEquals(e.getClass(), s.getClass());
        assertEquals(e.detail(), s.detail());
    }

    @Test
    void everyCaseFileIsInTheIndex() throws IOException {
        try (Stream<Path> files = Files.list(dir())) {
            assertEquals(files.filter(p -> p.toString().endsWith(".safetensors")).count(), cases().count());
        }
    }

    @Test
    void tensorsAreReadOnlyZeroCopySlicesOfOneMapping() throws IOException {
        Path file = dir().resolve("basic.safetensors");
        try (Checkpoint c = Checkpoint.load(file)) {
            Tensor w = c.stateDict().tensor("weight");
            assertEquals(-2.5f, w.getFloat(0, 1));
            MemorySegment bytes = w.contiguousBytes();
            assertTrue(bytes.isReadOnly());
            assertTrue(bytes.isMapped() || bytes.isNative(), "a slice of the mapping, not a heap copy");
            assertThrows(IllegalArgumentException.class, () -> bytes.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertEquals(Map.of("format", "pt", "note", "written by gen_safetensors.py"), c.metadata());
            assertEquals(List.of("format", "note"), List.copyOf(c.metadata().keySet()), "header order");
            Tensor b = c.stateDict().tensor("bias");
            assertFalse(w.storage() == b.storage(), "one storage per tensor: the format has no sharing");
        }
        try (Checkpoint c = Checkpoint.load(file)) {
            Tensor w = c.stateDict().tensor("weight");
            c.close();
            assertThrows(IllegalStateException.class, () -> w.getFloat(0, 0));
        }
    }

    @Test
    void torchCheckpointsHaveNoMetadata() throws IOException {
        try (Checkpoint c = Checkpoint.load(dev.weightsonly.testing.Fixtures.file("sd_linear"))) {
            assertEquals(Map.of(), c.metadata());
        }
    }

    @Test
    void aSafetensorsNameIsReadAsSafetensorsWhateverItsFirstBytes() throws IOException {
        Path p = tmp.resolve("weird.safetensors");
        Files.write(p, bytes(8, "[]      "));
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().contains("(InvalidHeaderDeserialization)"), e.getMessage());
        Path q = tmp.resolve("weird.bin");
        Files.write(q, bytes(8, "[]      "));
        assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(q)); // not recognised at all
    }

    // ---- limits -----------------------------------------------------------------------------------------

    @Test
    void tooManyTensorsHitsMaxTensors() throws IOException {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < 5; i++) {
            h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"U8\",\"shape\":[0],")
                    .append("\"data_offsets\":[0,0]}");
        }
        Path p = write("many.safetensors", h.append('}').toString(), new byte[0]);
        LoadOptions options = LoadOptions.builder().limits(LoadLimits.builder().maxTensors(4).build()).build();
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> Checkpoint.load(p, options));
        assertEquals("maxTensors", e.limitName());
        Checkpoint.load(p, LoadOptions.builder().limits(LoadLimits.builder().maxTensors(5).build()).build()).close();
    }

    @Test
    void aHugeViewHitsMaxTensorElements() throws IOException {
        Path p = write("big.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[4,4],\"data_offsets\":[0,16]}}",
                new byte[16]);
        LoadOptions options = LoadOptions.builder().limits(LoadLimits.builder().maxTensorElements(15).build()).build();
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> Checkpoint.load(p, options));
        assertEquals("maxTensorElements", e.limitName());
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void longNamesAndManyDimensionsHitTheirLimits() throws IOException {
        Path p = write("long.safetensors", "{\"" + "n".repeat(100) + "\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1],"
                + "\"data_offsets\":[0,1]}}", new byte[1]);
        LimitExceededException name = assertThrows(LimitExceededException.class, () -> Checkpoint.load(p,
                LoadOptions.builder().limits(LoadLimits.builder().maxStringBytes(99).build()).build()));
        assertEquals("maxStringBytes", name.limitName());
        LimitExceededException rank = assertThrows(LimitExceededException.class, () -> Checkpoint.load(p,
                LoadOptions.builder().limits(LoadLimits.builder().maxContainerLength(3).build()).build()));
        assertEquals("maxContainerLength", rank.limitName());
    }

    @Test
    void rowMajorStridesThatOverflowAreUnsupported() throws IOException {
        Path p = write("strides.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0,4611686018427387904,4],"
                + "\"data_offsets\":[0,0]}}", new byte[0]);
        UnsupportedCheckpointException e = assertThrows(UnsupportedCheckpointException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("strides"), e.getMessage());
    }

    // ---- the header API ---------------------------------------------------------------------------------

    @Test
    void headerReportsItsLayout() throws IOException {
        byte[] bytes = Files.readAllBytes(dir().resolve("header_order_differs.safetensors"));
        SafetensorsHeader h = SafetensorsHeader.read("x", MemorySegment.ofArray(bytes));
        assertEquals(List.of("a", "b", "c"), h.tensors().stream().map(SafetensorsHeader.Entry::name).toList());
        assertEquals(8 + h.headerLength(), h.dataStart());
        assertEquals(0, h.headerLength() % 8);
        SafetensorsHeader.Entry b = h.tensors().get(1);
        assertEquals(SafetensorsDType.I64, b.dtype());
        assertEquals(4, b.begin());
        assertEquals(12, b.end());
        long[] shape = b.shape();
        shape[0] = 99;
        assertArrayEquals(new long[] {1}, b.shape(), "entries are immutable");
        assertThrows(UnsupportedOperationException.class, () -> h.tensors().clear());
        assertThrows(IllegalArgumentException.class, () -> h.views(MemorySegment.ofArray(new byte[3])));
        Map<String, Tensor> views = h.views(MemorySegment.ofArray(bytes));
        assertEquals(2L, views.get("b").getLong(0));
    }

    @Test
    void dtypeCodesMapBothWays() {
        for (SafetensorsDType code : SafetensorsDType.values()) {
            assertSame(code, SafetensorsDType.fromCode(code.code()).orElseThrow());
            code.torchDType().ifPresent(d -> assertSame(code, SafetensorsDType.fromTorch(d).orElseThrow()));
        }
        assertEquals(DType.FLOAT8_E4M3FN, SafetensorsDType.F8_E4M3.torchDType().orElseThrow());
        assertTrue(SafetensorsDType.fromTorch(DType.COMPLEX128).isEmpty());
        assertTrue(SafetensorsDType.fromCode("f32").isEmpty(), "codes are case-sensitive");
        assertTrue(SafetensorsDType.F4.torchDType().isEmpty());
    }

    private Path write(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = h.length + (8 - h.length % 8) % 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        while (b.position() < 8 + padded) {
            b.put((byte) ' ');
        }
        b.put(data);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static byte[] bytes(long n, String header) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(header.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }
}
