package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.writer.WriteProgress;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {

    @TempDir
    Path tmp;

    private static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    private static Path fixture(String name) {
        return Cli.fixture(name);
    }

    @Test
    void torchCheckpointToSafetensorsAndBack() throws IOException {
        Path st = tmp.resolve("model.safetensors");
        Cli.Run r = run("convert", fixture("sd_conv_bn.pt").toString(), st.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err(), "no progress bar and no note when not at a terminal");
        assertEquals(st + ": 7 tensors, 520 B (safetensors)\n", r.out());
        Map<String, Tensor> original;
        try (Checkpoint in = Checkpoint.load(fixture("sd_conv_bn.pt")); Checkpoint out = Checkpoint.load(st)) {
            original = in.tensors();
            assertEquals(Map.of("format", "pt"), out.metadata());
            assertEquals(original.keySet(), out.stateDict().asMap().keySet());
            for (Map.Entry<String, Tensor> e : original.entrySet()) {
                Tensor t = out.stateDict().tensor(e.getKey());
                assertEquals(e.getValue().dtype(), t.dtype());
                assertArrayEquals(e.getValue().shape(), t.shape());
                assertArrayEquals(e.getValue().contiguous().toByteArray(), t.toByteArray(), e.getKey());
            }
        }
        Path pt = tmp.resolve("back.pt");
        Cli.Run back = run("convert", st.toString(), pt.toString());
        assertEquals(0, back.status(), back.err());
        assertEquals("", back.err(), "{format: pt} needs no note");
        try (Checkpoint c = Checkpoint.load(pt)) {
            PyDict root = assertInstanceOf(PyDict.class, c.root());
            assertEquals(List.copyOf(c.stateDict().names()), root.keySet().stream().map(String.class::cast).toList());
            assertEquals(7, c.tensorCount());
        }
        assertEquals(0, run("verify", pt.toString(), "--against", st.toString()).status());
        assertEquals(0, run("verify", fixture("sd_conv_bn.pt").toString(), "--against", st.toString()).status());
    }

    @Test
    void safetensorsMetadataIsKeptOrNoted() throws IOException {
        Path st = tmp.resolve("meta.safetensors");
        try (Checkpoint c = Checkpoint.load(fixture("sd_linear.pt"))) {
            dev.weightsonly.writer.SafetensorsWriter.builder().metadata(Map.of("origin", "test")).build()
                    .write(c.stateDict().asMap(), st);
        }
        Path copy = tmp.resolve("copy.safetensors");
        assertEquals(0, run("convert", st.toString(), copy.toString()).status());
        try (Checkpoint c = Checkpoint.load(copy)) {
            assertEquals(Map.of("origin", "test"), c.metadata(), "kept, and no format added to it");
        }
        Cli.Run toTorch = run("convert", st.toString(), tmp.resolve("meta.pt").toString());
        assertEquals(0, toTorch.status());
        assertEquals("weightsonly: note: torch checkpoints have no place for the safetensors metadata [origin]; it is"
                + " left out\n", toTorch.err());
    }

    @Test
    void sharedTensorsNeedAnExplicitChoice() throws IOException {
        Path st = tmp.resolve("tied.safetensors");
        Cli.Run refused = run("convert", fixture("sd_embedding_tied.pt").toString(), st.toString());
        assertEquals(1, refused.status());
        assertEquals("", refused.out());
        assertTrue(refused.err().startsWith("weightsonly: cannot write " + st + ": Some tensors share memory:"
                + " 'embed.weight', 'head.weight'"), refused.err());
        assertTrue(refused.err().contains("--shared copy"), refused.err());
        assertFalse(Files.exists(st), "nothing written");
        Cli.Run copied = run("convert", "--shared", "copy", fixture("sd_embedding_tied.pt").toString(),
                st.toString());
        assertEquals(0, copied.status(), copied.err());
        try (Checkpoint c = Checkpoint.load(st)) {
            assertArrayEquals(c.stateDict().tensor("embed.weight").toFloatArray(),
                    c.stateDict().tensor("head.weight").toFloatArray());
        }
        assertEquals(0, run("verify", fixture("sd_embedding_tied.pt").toString(), "--against", st.toString()).status());
    }

    @Test
    void aTrainingCheckpointKeepsItsTensorsUnderDottedPaths() throws IOException {
        Path st = tmp.resolve("train.safetensors");
        Cli.Run r = run("convert", fixture("train_checkpoint.pt").toString(), st.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().startsWith("weightsonly: note: " + fixture("train_checkpoint.pt")
                + " is not a plain state dict"), r.err());
        try (Checkpoint in = Checkpoint.load(fixture("train_checkpoint.pt")); Checkpoint out = Checkpoint.load(st)) {
            assertEquals(in.tensors().keySet(), out.stateDict().asMap().keySet());
            assertTrue(out.stateDict().names().stream().anyMatch(n -> n.startsWith("optimizer.state.")),
                    out.stateDict().names().toString());
        }
    }

    @Test
    void refusalsAndUsageErrors() {
        Path st = tmp.resolve("x.safetensors");
        Cli.Run refused = run("convert", fixture("frozenset_value.pt").toString(), st.toString());
        assertEquals(1, refused.status());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertTrue(refused.err().contains("GLOBAL frozenset was not an allowed global"), refused.err());

        Cli.Run complex = run("convert", fixture("dtypes.pt").toString(), st.toString());
        assertEquals(1, complex.status());
        assertTrue(complex.err().contains("has dtype complex128, which safetensors cannot store"), complex.err());
        assertFalse(Files.exists(st));

        Cli.Run extension = run("convert", fixture("sd_linear.pt").toString(),
                tmp.resolve("x.npz").toString());
        assertEquals(2, extension.status());
        assertTrue(extension.err().contains("OUT must end in .safetensors, .pt, .pth or .bin"), extension.err());

        Cli.Run badShared = run("convert", "--shared", "maybe", fixture("sd_linear.pt").toString(),
                st.toString());
        assertEquals(2, badShared.status());
        assertEquals(2, run("convert", fixture("sd_linear.pt").toString()).status(), "OUT is required");
    }

    @Test
    void progressBarOnlyAtATerminal() {
        StringWriter text = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(text), "writing m.safetensors");
        bar.progress(0, 2048);
        bar.progress(1, 2048); // less than a tenth of a percent more: not redrawn
        bar.progress(1024, 2048);
        bar.progress(2048, 2048);
        String[] draws = text.toString().split("\r", -1);
        assertEquals(6, draws.length, text.toString());
        assertEquals("writing m.safetensors [                              ]   0.0%  0 B / 2.00 KiB", draws[1]);
        assertEquals("writing m.safetensors [###############               ]  50.0%  1.00 KiB / 2.00 KiB", draws[2]);
        String done = "writing m.safetensors [##############################] 100.0%  2.00 KiB / 2.00 KiB";
        assertEquals(done, draws[3]);
        // Done, the line is cleared (overwritten with spaces, the cursor back at its start), and no newline is left.
        assertEquals(" ".repeat(done.length()), draws[4]);
        assertEquals("", draws[5]);
        java.io.Console console = System.console();
        boolean terminal = console != null && console.isTerminal(); // false under Maven
        assertEquals(!terminal, ProgressBar.forTerminal(new PrintWriter(new StringWriter()), "x") == WriteProgress.NONE);
    }
}
