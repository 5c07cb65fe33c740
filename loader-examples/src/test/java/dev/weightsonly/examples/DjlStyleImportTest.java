package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Handing tensors to a native library: direct buffers, zero-copy where possible, values preserved. */
class DjlStyleImportTest {

    private static byte[] contents(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** The bytes a native library must see: logical values, row-major, little-endian (this machine's order). */
    private static byte[] expectedBytes(Tensor t) {
        return t.resolveConjAndNeg().toByteArray();
    }

    @Test
    void contiguousTensorsAreViewsOfTheMappingAndTheOthersAreCopied() throws Exception {
        assertEquals(ByteOrder.LITTLE_ENDIAN, ByteOrder.nativeOrder(), "these expectations are for little-endian hosts");
        try (Checkpoint checkpoint = Checkpoint.load(CnnInferenceTest.fixture("views.pt"))) {
            List<DjlStyleImport.NativeTensor> imported = DjlStyleImport.importStateDict(checkpoint.stateDict());
            assertEquals(13, imported.size());
            int zeroCopy = 0;
            for (DjlStyleImport.NativeTensor n : imported) {
                Tensor t = checkpoint.stateDict().tensor(n.name());
                assertTrue(n.data().isDirect(), n.name());
                assertEquals(ByteOrder.nativeOrder(), n.data().order(), n.name());
                assertEquals(0, n.data().position());
                assertEquals(t.byteSize(), n.data().remaining(), n.name());
                assertArrayEquals(t.shape(), n.shape(), n.name());
                assertEquals("float32", n.dataType());
                assertArrayEquals(expectedBytes(t), contents(n.data()), n.name());
                // Read as floats through the buffer, as a library's FloatBuffer view would.
                float[] viaBuffer = new float[(int) t.numel()];
                n.data().duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(viaBuffer);
                assertArrayEquals(t.toFloatArray(), viaBuffer, n.name());
                boolean expectZeroCopy = t.isContiguous() && t.numel() > 0;
                assertEquals(expectZeroCopy, n.zeroCopy(), n.name());
                if (n.zeroCopy()) {
                    zeroCopy++;
                    assertEquals(t.contiguousBytes().address(), MemorySegment.ofBuffer(n.data()).address(), n.name());
                    assertTrue(n.data().isReadOnly(), "a view of the read-only mapping");
                }
            }
            assertEquals(6, zeroCopy);
            // The non-contiguous ones include a transpose, a strided slice and an expanded (stride 0) view.
            Set<String> copied = Set.of("slice", "transpose", "expand", "column", "step", "empty_0x3", "empty_2x0");
            for (DjlStyleImport.NativeTensor n : imported) {
                assertEquals(copied.contains(n.name()), !n.zeroCopy(), n.name());
            }
        }
    }

    @Test
    void zeroCopyBuffersDieWithTheCheckpointAndCopiesDoNot() throws Exception {
        DjlStyleImport.NativeTensor view;
        DjlStyleImport.NativeTensor copy;
        try (Checkpoint checkpoint = Checkpoint.load(CnnInferenceTest.fixture("views.pt"))) {
            view = DjlStyleImport.importTensor("base", checkpoint.stateDict().tensor("base"));
            copy = DjlStyleImport.importTensor("transpose", checkpoint.stateDict().tensor("transpose"));
            assertTrue(view.zeroCopy() && !copy.zeroCopy());
        }
        assertThrows(IllegalStateException.class, () -> view.data().get(0));
        assertEquals(copy.data().getFloat(0), copy.data().getFloat(0)); // still readable
        assertEquals(120, copy.data().capacity());
    }

    @Test
    void everyDtypeDjlKnowsKeepsItsBytesAndGetsDjlsName() throws Exception {
        Map<String, String> names = Map.ofEntries(Map.entry("uint8", "uint8"), Map.entry("int8", "int8"),
                Map.entry("int16", "int16"), Map.entry("int32", "int32"), Map.entry("int64", "int64"),
                Map.entry("float16", "float16"), Map.entry("float32", "float32"), Map.entry("float64", "float64"),
                Map.entry("bfloat16", "bfloat16"), Map.entry("bool", "boolean"), Map.entry("complex64", "complex64"),
                Map.entry("f16_cols", "float16"), Map.entry("bf16_noncontig", "bfloat16"),
                Map.entry("int64_2d", "int64"), Map.entry("bool_0dim", "boolean"), Map.entry("int8_empty", "int8"));
        try (Checkpoint checkpoint = Checkpoint.load(CnnInferenceTest.fixture("dtypes.pt"))) {
            Map<String, Tensor> supported = new LinkedHashMap<>();
            names.keySet().forEach(n -> supported.put(n, checkpoint.stateDict().tensor(n)));
            for (DjlStyleImport.NativeTensor n : DjlStyleImport.importTensors(supported)) {
                Tensor t = supported.get(n.name());
                assertEquals(names.get(n.name()), n.dataType(), n.name());
                assertTrue(n.data().isDirect(), n.name());
                assertArrayEquals(expectedBytes(t), contents(n.data()), n.name());
                assertEquals(t.isContiguous() && t.numel() > 0, n.zeroCopy(), n.name());
            }
            // complex128 has no DJL type: the whole import is refused, naming the tensor, before anything is copied.
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DjlStyleImport.importStateDict(checkpoint.stateDict()));
            assertTrue(e.getMessage().startsWith("tensor 'complex128': DJL has no data type for complex128"),
                    e.getMessage());
        }
    }

    @Test
    void theNegativeAndConjugateBitsAreResolvedIntoACopy() throws Exception {
        try (Checkpoint checkpoint = Checkpoint.load(CnnInferenceTest.fixture("conj_neg_meta.pt"))) {
            for (Map.Entry<String, Tensor> e : checkpoint.tensors().entrySet()) {
                Tensor t = e.getValue();
                DjlStyleImport.NativeTensor n = DjlStyleImport.importTensor(e.getKey(), t);
                assertEquals(t.isContiguous() && !t.isConj() && !t.isNeg(), n.zeroCopy(), e.getKey());
                assertArrayEquals(expectedBytes(t), contents(n.data()), e.getKey());
            }
            Tensor negated = checkpoint.tensors().get("neg_view");
            assertTrue(negated.isNeg());
            float[] values = new float[(int) negated.numel()];
            DjlStyleImport.importTensor("neg_view", negated).data().asFloatBuffer().get(values);
            assertArrayEquals(negated.toFloatArray(), values); // the logical (negated) values
        }
    }

    @Test
    void aBigEndianPlatformGetsSwappedCopies() throws Exception {
        try (Checkpoint checkpoint = Checkpoint.load(CnnInferenceTest.fixture("dtypes.pt"))) {
            for (String name : new String[] {"float32", "float64", "int64_2d", "float16", "complex64", "f16_t"}) {
                Tensor t = checkpoint.stateDict().tensor(name);
                DjlStyleImport.NativeTensor n = DjlStyleImport.importTensor(name, t, ByteOrder.BIG_ENDIAN);
                assertFalse(n.zeroCopy(), name);
                assertTrue(n.data().isDirect());
                assertEquals(ByteOrder.BIG_ENDIAN, n.data().order());
                ByteBuffer b = n.data();
                switch (name) {
                    case "float32" -> {
                        float[] got = new float[(int) t.numel()];
                        b.asFloatBuffer().get(got);
                        assertArrayEquals(t.toFloatArray(), got);
                    }
                    case "float64" -> {
                        double[] got = new double[(int) t.numel()];
                        b.asDoubleBuffer().get(got);
                        assertArrayEquals(t.toDoubleArray(), got);
                    }
                    case "int64_2d" -> {
                        long[] got = new long[(int) t.numel()];
                        b.asLongBuffer().get(got);
                        assertArrayEquals(t.toLongArray(), got);
                    }
                    case "float16", "f16_t" -> {
                        float[] expected = t.toFloatArray();
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(Float.floatToIntBits(expected[i]),
                                    Float.floatToIntBits(Float.float16ToFloat(b.getShort(2 * i))), name + " " + i);
                        }
                    }
                    default -> { // complex64: each half swapped on its own
                        for (int i = 0; i < t.numel(); i++) {
                            assertEquals(t.getReal(i), b.getFloat(8 * i), 0.0);
                            assertEquals(t.getImag(i), b.getFloat(8 * i + 4), 0.0);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aCheckpointLoadedIntoMemoryIsAlsoImportedWithoutCopies() throws Exception {
        byte[] file = Files.readAllBytes(CnnInferenceTest.MODEL);
        try (Checkpoint checkpoint = Checkpoint.load(file, "cnn.pt")) {
            for (DjlStyleImport.NativeTensor n : DjlStyleImport.importStateDict(checkpoint.stateDict())) {
                assertTrue(n.zeroCopy() && n.data().isDirect(), n.name());
                assertEquals(checkpoint.stateDict().tensor(n.name()).contiguousBytes().address(),
                        MemorySegment.ofBuffer(n.data()).address());
            }
        }
    }

    @Test
    void mainListsWhatWasSharedAndWhatWasCopied() throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            DjlStyleImport.main(new String[] {CnnInferenceTest.fixture("views.pt").toString()});
        } finally {
            System.setOut(original);
        }
        List<String> lines = buffer.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(14, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).matches("base +float32 +\\[5, 6] +120 B  zero-copy \\(mapped at 0x\\p{XDigit}+\\)"),
                lines.get(0));
        assertTrue(lines.get(2).matches("transpose +float32 +\\[6, 5] +120 B  copied \\(not contiguous\\)"),
                lines.get(2));
        assertEquals("13 tensors: 6 zero-copy, 7 copied (236 bytes), LITTLE_ENDIAN byte order", lines.get(13));
    }
}
