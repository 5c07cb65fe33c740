package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.SharedFixtures;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.torch.TorchLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool on hostile but legal files (src/test/resources/tool, written by PyTorch 2.6 with gen_tool.py, and
 * the adversarial corpus): bounded work (issue 12, class 7), plain refusals and a dump form for storages
 * (class 8), names printed safely on a terminal (class 11), and sparse tensors compared and converted
 * (class 15).
 */
class HostileInputTest {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);
    private static final Duration QUICK = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    static String tool(String name) {
        return Paths.get("src/test/resources/tool", name).toAbsolutePath().toString();
    }

    static String adversarial(String name) {
        return SharedFixtures.path("adversarial/" + name).toString();
    }

    static Cli.Run run(String... args) {
        return assertTimeoutPreemptively(QUICK, () -> Cli.run(args), () -> String.join(" ", args));
    }

    // ---------------------------------------------------------------------------------------------
    // Class 7: bounded work

    @Test
    void anExpandedViewOfTenToTheTwelveElementsComparesWithoutWalkingIt() {
        String big = adversarial("D08c_expanded_1e12.pt");      // 493 bytes, one view of 10^12 elements
        Cli.Run diff = run("diff", big, big);
        assertEquals(0, diff.status(), diff.err());
        assertTrue(diff.out().endsWith("identical: 1 tensor with the same names, dtypes, shapes and values\n"), diff.out());
        Cli.Run verify = run("verify", big, "--against", big);
        assertEquals(0, verify.status(), verify.err());

        // Two files, both repeating one stored value: one element read, 10^12 counted.
        Cli.Run other = run("diff", tool("expanded_zeros.pt"), tool("expanded_ones.pt"));
        assertEquals(1, other.status(), other.err());
        assertTrue(other.out().contains("~ x  values: 1,000,000,000,000 of 1,000,000,000,000 elements differ,"
                + " max |a-b| = 1.0; float32 [1000000, 1000000]"), other.out());
        Cli.Run verified = run("verify", tool("expanded_zeros.pt"), "--against", tool("expanded_ones.pt"));
        assertEquals(1, verified.status(), verified.err());
        assertTrue(verified.out().contains("values differ: x: 1000000000000 of 1000000000000 elements, the first at"
                + " [0, 0]: 0.0 vs 1.0"), verified.out());
    }

    @Test
    void aComparisonOverTheElementLimitIsRefusedBeforeItStarts() {
        // 2^32 elements a side over 511 stored values, repeating along different dimensions: no shortcut.
        for (String[] args : List.of(
                new String[] {"diff", tool("strided_a.pt"), tool("strided_b.pt")},
                new String[] {"verify", tool("strided_a.pt"), "--against", tool("strided_b.pt")})) {
            Cli.Run r = run(args);
            assertEquals(3, r.status(), r.out() + r.err());
            assertEquals("", r.out());
            assertTrue(r.err().startsWith("weightsonly: comparing these files would read 4,294,967,296 elements from"
                    + " each, more than the limit of "), r.err());
            assertTrue(r.err().contains("Pass --max-elements 4294967296 to compare them anyway"), r.err());
        }
        // The limit is the option's when given, and counts sparse parts too.
        Cli.Run small = run("diff", "--max-elements", "5", tool("sparse_a.pt"), tool("sparse_b.pt"));
        assertEquals(3, small.status(), small.err());
        assertTrue(small.err().contains("would read 11 elements"), small.err());  // d: 2, indices: 6, values: 3
        assertEquals(1, run("diff", "--max-elements", "11", tool("sparse_a.pt"), tool("sparse_b.pt")).status());
    }

    @Test
    void aConversionOverTheOutputLimitWritesNothing() throws IOException {
        Path out = tmp.resolve("x.safetensors");
        Cli.Run r = run("convert", "--shared", "copy", tool("expanded_zeros.pt"), out.toString());
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().startsWith("weightsonly: cannot write " + out + ": it would be 4,000,000,000,000 bytes,"
                + " more than the limit of "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertNoFiles();
        Cli.Run limited = run("convert", "--max-output-bytes", "100", Cli.fixture("sd_conv_bn.pt").toString(),
                out.toString());
        assertEquals(1, limited.status(), limited.err());
        assertTrue(limited.err().contains("it would be 520 bytes, more than the limit of 100"), limited.err());
        assertNoFiles();
        // A torch file keeps the view: four bytes of storage.
        Path pt = tmp.resolve("x.pt");
        Cli.Run torch = run("convert", tool("expanded_zeros.pt"), pt.toString());
        assertEquals(0, torch.status(), torch.err());
        assertEquals(0, run("diff", tool("expanded_zeros.pt"), pt.toString()).status());
    }

    @Test
    void anInterruptedConversionLeavesNoFile() throws Exception {
        // A conversion allowed to write 4 TB, stopped by SIGTERM as soon as its temporary file has bytes.
        Path out = tmp.resolve("big.safetensors");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                WeightsOnlyCommand.class.getName(), "convert", "--shared", "copy", "--max-output-bytes", "4000000000000",
                tool("expanded_zeros.pt"), out.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            boolean writing = false;
            while (!writing && p.isAlive() && System.nanoTime() < deadline) {
                try (Stream<Path> files = Files.list(tmp)) {
                    writing = files.anyMatch(f -> f.getFileName().toString().startsWith(".big.safetensors.")
                            && f.toFile().length() > 0);
                }
                Thread.sleep(5);
            }
            assertTrue(writing, "the conversion never started writing");
            p.destroy();                                          // SIGTERM, as kill(1) and service managers send
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(143, p.exitValue(), "stopped by SIGTERM");
        assertNoFiles();
    }

    private void assertNoFiles() throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(), files.toList());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Class 8: plain refusals, and the dump of a storage

    @Test
    void aBareStorageHasADumpEqualToPyTorchs() throws IOException {
        for (String name : List.of("storage_legacy", "storage_zip", "storage_and_view")) {
            Cli.Run r = run("inspect", "--json", tool(name + ".pt"));
            assertEquals(0, r.status(), name + ": " + r.err());
            assertEquals(JSON.readTree(Files.readString(Path.of(tool(name + ".expected.json")))), JSON.readTree(r.out()),
                    name);
        }
    }

    @Test
    void dumpBoundsExitOneWithAPlainMessage() {
        for (String[] c : new String[][] {
                {"D08c_expanded_1e12.pt", "bytes to hash"},
                {"C09a_nested_lists.pt", "values nested more than 1000 deep; not dumped"}}) {
            Cli.Run r = run("inspect", "--json", adversarial(c[0]));
            assertEquals(1, r.status(), r.err());
            assertEquals("", r.out());
            assertTrue(r.err().startsWith("weightsonly: " + adversarial(c[0]) + ": "), r.err());
            assertTrue(r.err().contains(c[1]), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
    }

    @Test
    void aDeepTreeIsRefusedByTheWriterNotByAStackOverflow() {
        // 100,000 nested lists: the loader allows them, the pickle writer stops at 1,000 levels, on a stack
        // that holds them (it overflowed the caller's stack before).
        // On a thread with a small stack, so that the outcome does not depend on how much stack the caller has.
        Cli.Run[] result = new Cli.Run[1];
        Thread small = new Thread(null, () -> result[0] = Cli.run("convert", adversarial("C09a_nested_lists.pt"),
                tmp.resolve("deep.pt").toString()), "small-stack", 256 << 10);
        assertTimeoutPreemptively(QUICK, () -> {
            small.start();
            small.join();
        });
        Cli.Run r = result[0];
        assertTrue(r != null, "the conversion threw instead of returning a status");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("values nested more than 1000 deep"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    // ---------------------------------------------------------------------------------------------
    // Class 11: the terminal

    /** No control, separator or bidi character reaches the terminal, except the line ends the tool writes. */
    private static void assertTerminalSafe(Cli.Run r) {
        for (String text : List.of(r.out(), r.err())) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                assertTrue(c == '\n' || !TerminalText.needsEscape(c),
                        () -> "raw U+" + Integer.toHexString(c) + " in: " + text);
            }
        }
    }

    @Test
    void namesFromAFileAreEscapedByEverySubcommand() throws IOException {
        String names = tool("escape_names.pt");
        String changed = tool("escape_names_changed.pt");
        Cli.Run inspect = run("inspect", names);
        assertTerminalSafe(inspect);
        assertTrue(inspect.out().contains("up\\x1b[1A\\x1b[2K\\rallowed  float32  [4]"), inspect.out());
        assertTrue(inspect.out().contains("bidi\\u202eoverride\\u2066"), inspect.out());
        assertTrue(inspect.out().contains("c1\\x9b2J"), inspect.out());
        assertEquals(8, inspect.out().lines().count(), inspect.out());

        Cli.Run diff = run("diff", names, changed);
        assertTerminalSafe(diff);
        assertTrue(diff.out().contains("~ title\\x1b]0;pwned\\x07      values: 3 of 3 elements differ"), diff.out());
        assertEquals(2 + 6 + 1, diff.out().lines().count(), diff.out());

        Cli.Run verify = run("verify", names, "--against", changed);
        assertTerminalSafe(verify);
        assertTrue(verify.out().contains("values differ: cr\\rforged: 5 of 5"), verify.out());

        Path st = tmp.resolve("names.safetensors");
        Cli.Run convert = run("convert", names, st.toString());
        assertEquals(0, convert.status(), convert.err());
        assertTerminalSafe(convert);
        Cli.Run inspectSt = run("inspect", st.toString());
        assertTerminalSafe(inspectSt);
        assertTrue(inspectSt.out().contains("clear\\x1b[2J\\x1b[H"), inspectSt.out());
    }

    @Test
    void aGlobalNameCannotRewriteTheScanReport() {
        String file = tool("escape_global.pt");
        Cli.Run scan = run("scan", file);
        assertEquals(3, scan.status(), scan.out());
        assertTerminalSafe(scan);
        List<String> lines = scan.out().lines().toList();
        assertEquals(2, lines.size(), scan.out());
        assertTrue(lines.get(1).startsWith("  DANGEROUS  os.system\\x1b[1A\\x1b[2K\\r  allowed  collections.OrderedDict"),
                lines.get(1));
        // The one-line refusals of the other subcommands quote the same name.
        for (String[] args : List.of(new String[] {"inspect", file}, new String[] {"diff", file, file},
                new String[] {"verify", file, "--against", file},
                new String[] {"convert", file, tmp.resolve("o.safetensors").toString()})) {
            Cli.Run r = run(args);
            assertTerminalSafe(r);
            assertTrue(r.err().contains("os.system\\x1b[1A"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
    }

    @Test
    void escapeWritesEveryDangerousCharacterVisibly() {
        assertEquals("a\\x1b[2Jb\\r\\n\\t\\x00\\x7f\\x85\\x9b\\u202a\\u202e\\u2066\\u2069\\u200f\\u061c\\u2028",
                TerminalText.escape("a\u001b[2Jb\r\n\t\u0000\u007f\u0085\u009b\u202a\u202e\u2066\u2069\u200f\u061c\u2028"));
        assertEquals("plain, ÜNICODE 字 \\ ok", TerminalText.escape("plain, ÜNICODE 字 \\ ok"));
        assertEquals("line one line two", TerminalText.oneLine("line one\nline two"));
    }

    // ---------------------------------------------------------------------------------------------
    // Class 15: sparse tensors

    @Test
    void sparseTensorsAreListedApartFromDenseOnes() throws IOException {
        try (Checkpoint c = Checkpoint.load(Path.of(tool("sparse_a.pt")))) {
            assertEquals(List.of("d"), List.copyOf(c.tensors().keySet()));
            Map<String, SparseTensor> sparse = c.sparseTensors();
            assertEquals(List.of("s"), List.copyOf(sparse.keySet()));
            assertEquals(TorchLayout.SPARSE_COO, sparse.get("s").layout());
        }
    }

    @Test
    void checkpointsDifferingOnlyInASparseTensorAreDifferent() throws IOException {
        Cli.Run values = run("diff", tool("sparse_a.pt"), tool("sparse_b.pt"));
        assertEquals(1, values.status(), values.out() + values.err());
        assertTrue(values.out().contains("~ s  values: 1 of 3 elements differ, max |a-b| = 0.5;"
                + " sparse_coo float32 [3, 3]"), values.out());
        assertTrue(values.out().endsWith("with other values; 1 equal\n"), values.out());
        Cli.Run indices = run("diff", tool("sparse_a.pt"), tool("sparse_indices.pt"));
        assertEquals(1, indices.status());
        assertTrue(indices.out().contains("~ s  indices: 4 of 6 elements differ"), indices.out());
        JsonNode json = JSON.readTree(run("diff", "--json", tool("sparse_a.pt"), tool("sparse_b.pt")).out());
        JsonNode change = json.get("changed").get(0);
        assertEquals("sparse_parts", change.get("change").asText());
        assertEquals("sparse_coo", change.get("layout").asText());
        assertEquals("values", change.get("parts").get(0).get("part").asText());
        assertEquals(1, change.get("parts").get(0).get("differing").asInt());

        Cli.Run verify = run("verify", tool("sparse_a.pt"), "--against", tool("sparse_b.pt"));
        assertEquals(1, verify.status(), verify.out());
        assertTrue(verify.out().contains("values differ: s (values): 1 of 3 elements, the first at [1]: 2.0 vs 2.5"),
                verify.out());
        assertEquals(0, run("diff", tool("sparse_a.pt"), tool("sparse_a.pt")).status());
        Cli.Run kinds = run("verify", tool("sparse_csr.pt"), "--against", tool("sparse_csr.pt"));
        assertEquals(0, kinds.status(), kinds.out());
        assertTrue(kinds.out().startsWith("equal: 1 tensor "), kinds.out());
    }

    @Test
    void convertKeepsSparseTensorsInTorchFilesAndRefusesThemInSafetensors() throws IOException {
        Path st = tmp.resolve("s.safetensors");
        Cli.Run refused = run("convert", tool("sparse_a.pt"), st.toString());
        assertEquals(1, refused.status(), refused.err());
        assertTrue(refused.err().contains("safetensors has no sparse tensors, and " + tool("sparse_a.pt")
                + " holds 1: 's' (sparse_coo)"), refused.err());
        assertFalse(Files.exists(st));

        Cli.Run dense = run("convert", "--densify", tool("sparse_a.pt"), st.toString());
        assertEquals(0, dense.status(), dense.err());
        assertEquals("", dense.err());
        try (Checkpoint c = Checkpoint.load(st)) {
            Tensor s = c.tensors().get("s");
            // torch: sparse_coo_tensor([[0, 1, 2], [2, 0, 1]], [1, 2, 3], (3, 3)).to_dense()
            assertEquals(List.of(0f, 0f, 1f, 2f, 0f, 0f, 0f, 3f, 0f), boxed(s.toFloatArray()));
        }

        for (String name : List.of("sparse_a.pt", "sparse_csr.pt")) {
            Path pt = tmp.resolve("round_" + name);
            Cli.Run torch = run("convert", tool(name), pt.toString());
            assertEquals(0, torch.status(), torch.err());
            assertEquals(0, run("diff", tool(name), pt.toString()).status(), name);
            assertEquals(0, run("verify", tool(name), "--against", pt.toString()).status(), name);
        }
    }

    private static List<Float> boxed(float[] values) {
        List<Float> out = new java.util.ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }
}
