package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.writer.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {

    @TempDir
    Path tmp;

    private static Tensor floats(long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.contiguousView(Storage.of(MemorySegment.ofArray(b.array()), "f", "cpu"), DType.FLOAT32, 0, shape);
    }

    @Test
    void equalFilesExitZero() {
        Path st = tmp.resolve("linear.safetensors");
        assertEquals(0, Cli.run("convert", Cli.fixture("sd_linear.pt").toString(), st.toString()).status());
        Cli.Run r = Cli.run("verify", Cli.fixture("sd_linear.pt").toString(), "--against", st.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("equal: 2 tensors with the same names, dtypes, shapes and values\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void differencesAreListedFirstOnesFirst() throws IOException {
        Map<String, Tensor> changed = new LinkedHashMap<>();
        try (Checkpoint c = Checkpoint.load(Cli.fixture("sd_linear.pt"))) {
            Tensor w = c.stateDict().tensor("weight");
            float[] values = w.toFloatArray();
            values[5] = values[5] + 1f; // element [1, 1] of the 3x4 weight
            values[7] = -0.0f == values[7] ? 0.0f : values[7] * 2; // another one
            changed.put("weight", floats(w.shape(), values));
            changed.put("extra", floats(new long[] {1}, 1f));
        }
        Path st = tmp.resolve("changed.safetensors");
        SafetensorsWriter.save(changed, st);
        Cli.Run r = Cli.run("verify", Cli.fixture("sd_linear.pt").toString(), "--against", st.toString());
        assertEquals(1, r.status(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals("different: 3 differences:", lines[0]);
        assertTrue(lines[1].matches("  values differ: weight: 2 of 12 elements, the first at \\[1, 1]: \\S+ vs \\S+"),
                lines[1]);
        assertEquals("  only in " + Cli.fixture("sd_linear.pt") + ": bias", lines[2]);
        assertEquals("  only in " + st + ": extra", lines[3]);

        Map<String, Tensor> reshaped = new LinkedHashMap<>();
        try (Checkpoint c = Checkpoint.load(Cli.fixture("sd_linear.pt"))) {
            Tensor w = c.stateDict().tensor("weight");
            reshaped.put("weight", floats(new long[] {4, 3}, w.toFloatArray()));
            reshaped.put("bias", Tensor.contiguousView(Storage.of(MemorySegment.ofArray(new byte[6]), "b", "cpu"),
                    DType.FLOAT16, 0, 3));
        }
        Path other = tmp.resolve("other.safetensors");
        SafetensorsWriter.save(reshaped, other);
        Cli.Run s = Cli.run("verify", Cli.fixture("sd_linear.pt").toString(), "--against", other.toString());
        assertEquals(1, s.status());
        assertTrue(s.out().contains("  shape differs: weight: [3, 4] vs [4, 3]\n"), s.out());
        assertTrue(s.out().contains("  dtype differs: bias: float32 vs float16\n"), s.out());
    }

    @Test
    void signedZerosAndNaNPayloadsCount() throws IOException {
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        SafetensorsWriter.save(Map.of("x", floats(new long[] {2}, 0.0f, Float.NaN)), a);
        SafetensorsWriter.save(Map.of("x", floats(new long[] {2}, -0.0f, Float.intBitsToFloat(0x7fc00001))), b);
        Cli.Run r = Cli.run("verify", a.toString(), "--against", b.toString());
        assertEquals(1, r.status());
        assertTrue(r.out().contains("values differ: x: 2 of 2 elements, the first at [0]: 0.0 vs -0.0"), r.out());
    }

    @Test
    void refusedFilesAndUsage() {
        Cli.Run refused = Cli.run("verify", Cli.fixture("frozenset_value.pt").toString(), "--against",
                Cli.fixture("sd_linear.pt").toString());
        assertEquals(3, refused.status());
        assertEquals("", refused.out());
        assertTrue(refused.err().contains("frozenset"), refused.err());
        assertEquals(2, Cli.run("verify", Cli.fixture("sd_linear.pt").toString()).status(), "--against is required");
    }
}
