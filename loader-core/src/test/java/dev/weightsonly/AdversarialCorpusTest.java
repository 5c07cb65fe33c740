package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The adversarial corpus (src/test/resources/adversarial, written by gen_corpus.py after adversarial.md
 * sections A to F): every file gets exactly the outcome its row of expected.tsv names, the same whether it is
 * mapped from a path or copied from a byte array, within a time bound; nothing else escapes (no
 * OutOfMemoryError, StackOverflowError or runtime exception: the module's small-heap run executes this class
 * with -Xmx64m); and `weightsonly scan` gives each file the expected exit status.
 */
public class AdversarialCorpusTest {

    /** A generous bound per load: a hang detector, not a speed test. */
    private static final long MAX_MILLIS = 30_000;
    /** The dump's bounds here: what a small heap can hold. */
    private static final long DUMP_NODES = 1_000_000;
    private static final long DUMP_CHARS = 4L << 20;

    public record Case(String file, String category, String outcome, String message, String checks, String limits, int scan,
            String comment) {
        @Override
        public String toString() {
            return file;
        }
    }

    static Path dir() {
        Path p = Paths.get("src/test/resources/adversarial");
        if (!Files.isDirectory(p)) {
            p = Paths.get("loader-core/src/test/resources/adversarial");
        }
        return p.toAbsolutePath();
    }

    public static List<Case> table() {
        try {
            return Files.readAllLines(dir().resolve("expected.tsv"), StandardCharsets.UTF_8).stream().skip(1)
                    .map(line -> {
                        String[] f = line.split("\t", -1);
                        assertEquals(8, f.length, line);
                        return new Case(f[0], f[1], f[2], f[3], f[4], f[5], Integer.parseInt(f[6]), f[7]);
                    }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Case> cases() {
        return table().stream();
    }

    private static Set<String> filesBefore;

    @BeforeAll
    static void listFiles() throws IOException {
        filesBefore = listing();
    }

    /** Loading writes nothing: no file appears in the corpus folder or the working directory. */
    @AfterAll
    static void noFileWasWritten() throws IOException {
        assertEquals(filesBefore, listing());
        assertFalse(Files.exists(Paths.get("evil.log")), "A16's logging.FileHandler('evil.log') ran");
    }

    private static Set<String> listing() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path folder : List.of(dir(), Paths.get("").toAbsolutePath())) {
            try (Stream<Path> files = Files.list(folder)) {
                files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("target") && !n.startsWith(".")).forEach(names::add);
            }
        }
        return names;
    }

    public static LoadOptions options(Case c) {
        LoadLimits.Builder b = LoadLimits.builder();
        for (String setting : c.limits().isEmpty() ? new String[0] : c.limits().split(",")) {
            String[] kv = setting.split("=");
            int v = Integer.parseInt(kv[1]);
            switch (kv[0]) {
                case "maxMemoEntries" -> b.maxMemoEntries(v);
                case "maxContainerLength" -> b.maxContainerLength(v);
                case "maxArchiveEntries" -> b.maxArchiveEntries(v);
                case "maxStackDepth" -> b.maxStackDepth(v);
                case "maxObjects" -> b.maxObjects(v);
                default -> throw new AssertionError("unknown limit " + kv[0]);
            }
        }
        return LoadOptions.builder().limits(b.build()).build();
    }

    /** What one load did: the exception's class and message, or "loads". */
    private record Outcome(String kind, String message) {
    }

    private interface Load {
        Checkpoint open() throws IOException;
    }

    private static Outcome run(Case c, String name, Load load) {
        long start = System.nanoTime();
        Outcome outcome;
        try (Checkpoint checkpoint = load.open()) {
            verifyChecks(c, checkpoint);
            outcome = new Outcome("loads", "");
        } catch (CheckpointException e) {
            assertTrue(e.getMessage().startsWith(name + ": "), "the message names the source: " + e.getMessage());
            assertTrue(e.getMessage().length() < 2_000, "a bounded message: " + e.getMessage().length() + " chars");
            outcome = new Outcome(e.getClass().getSimpleName(), e.getMessage());
        } catch (IOException e) {
            throw new AssertionError(c.file() + ": a plain IOException from a load of a readable file", e);
        } catch (AssertionError e) {
            throw e; // a check of the loaded result failed
        } catch (Throwable t) {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            throw new AssertionError(c.file() + ": escaped the library's exceptions:\n" + trace);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < MAX_MILLIS, c.file() + " took " + millis + " ms");
        return outcome;
    }

    /** The one test of the table: each file's load (mapped and copied) and scan give the row's outcomes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void hasTheExpectedOutcome(Case c) throws IOException {
        Path file = dir().resolve(c.file());
        LoadOptions options = options(c);
        Outcome mapped = run(c, file.toString(), () -> Checkpoint.load(file, options));
        assertEquals(c.outcome(), mapped.kind(), c.file() + " (" + c.comment() + "): " + mapped.message());
        if (!c.outcome().equals("loads")) {
            assertTrue(mapped.message().contains(c.message()),
                    c.file() + ": expected '" + c.message() + "' in: " + mapped.message());
        }
        // The same bytes copied into memory get the same verdict, with their own name.
        byte[] bytes = Files.readAllBytes(file);
        Outcome copied = run(c, "copy:" + c.file(), () -> Checkpoint.load(bytes, "copy:" + c.file(), options));
        assertEquals(mapped.kind(), copied.kind(), copied.message());
        if (!c.outcome().equals("loads")) {
            assertEquals(mapped.message().substring(file.toString().length()),
                    copied.message().substring(("copy:" + c.file()).length()));
        }
        // And read from a FileInputStream (a temporary mapping, the storages copied in parallel).
        Outcome streamed = run(c, "stream:" + c.file(), () -> {
            try (java.io.FileInputStream in = new java.io.FileInputStream(file.toFile())) {
                return Checkpoint.load(in, "stream:" + c.file(), options);
            }
        });
        assertEquals(mapped.kind(), streamed.kind(), streamed.message());
        if (!c.outcome().equals("loads")) {
            assertEquals(mapped.message().substring(file.toString().length()),
                    streamed.message().substring(("stream:" + c.file()).length()));
        }
        scanHasTheExpectedExitStatus(c, options.limits());
    }

    /** The scan confirms a clean verdict with a load under the row's limits (the small heap needs them). */
    private static void scanHasTheExpectedExitStatus(Case c, LoadLimits limits) throws IOException {
        long start = System.nanoTime();
        ScanReport report = GlobalScanner.scan(dir().resolve(c.file()), name -> false, limits);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < MAX_MILLIS, c.file() + " took " + millis + " ms to scan");
        int exit = report.exitStatus();
        assertEquals(c.scan(), exit, c.file() + ": " + report);
    }

    private static void verifyChecks(Case c, Checkpoint checkpoint) {
        if (!c.outcome().equals("loads")) {
            fail(c.file() + " loaded, but " + c.outcome() + " (" + c.message() + ") was expected: " + checkpoint);
        }
        Map<String, Tensor> tensors = checkpoint.tensors();
        for (String check : c.checks().split(";")) {
            if (check.isEmpty()) {
                continue;
            }
            int eq = check.indexOf('=');
            String key = check.substring(0, eq);
            String value = check.substring(eq + 1);
            String what = c.file() + ": " + check;
            if (key.equals("tensors")) {
                assertEquals(Integer.parseInt(value), tensors.size(), what + " " + tensors.keySet());
            } else if (key.startsWith("T:")) {
                Tensor t = tensors.get(key.substring(2));
                assertNotNull(t, what + " " + tensors.keySet());
                double[] expected = value.isEmpty() ? new double[0]
                        : Arrays.stream(value.split(",")).mapToDouble(Double::parseDouble).toArray();
                assertArrayEquals(expected, t.toDoubleArray(), 0.0, what);
            } else if (key.startsWith("shape:")) {
                Tensor t = tensors.get(key.substring(6));
                assertNotNull(t, what);
                long[] expected = value.isEmpty() ? new long[0]
                        : Arrays.stream(value.split(",")).mapToLong(Long::parseLong).toArray();
                assertArrayEquals(expected, t.shape(), what);
            } else if (key.startsWith("str:")) {
                assertEquals(value, node(checkpoint, key.substring(4).replace("\\n", "\n")), what);
            } else if (key.startsWith("type:")) {
                assertEquals(value, PyValues.typeName(node(checkpoint, key.substring(5))), what);
            } else if (key.startsWith("len:")) {
                Object n = node(checkpoint, key.substring(4));
                int size = switch (n) {
                    case PyList l -> l.size();
                    case PyDict d -> d.size();
                    case PyTuple t -> t.size();
                    case PySet s -> s.size();
                    default -> throw new AssertionError(what + ": not a container: " + PyValues.typeName(n));
                };
                assertEquals(Integer.parseInt(value), size, what);
            } else if (key.equals("dump")) {
                int depth = checkpoint.limits().maxNestingDepth();
                if (value.equals("ok")) {
                    assertTrue(CanonicalDump.toJson(checkpoint.root(), depth, DUMP_NODES, DUMP_CHARS)
                            .startsWith("{\"root\":"), what);
                } else {
                    assertEquals("refused", value, what);
                    long start = System.nanoTime();
                    assertThrows(IllegalArgumentException.class,
                            () -> CanonicalDump.toJson(checkpoint.root(), depth, DUMP_NODES, DUMP_CHARS), what);
                    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    assertTrue(millis < MAX_MILLIS, what + " took " + millis + " ms to refuse");
                }
            } else {
                throw new AssertionError("unknown check " + check);
            }
        }
    }

    private static Object node(Checkpoint checkpoint, String key) {
        if (key.equals("<root>")) {
            return checkpoint.root();
        }
        assertTrue(checkpoint.root() instanceof PyDict, "the root is a dict");
        PyDict root = (PyDict) checkpoint.root();
        assertTrue(root.containsKey(key), "no key " + key + " in " + root.keySet());
        return root.get(key);
    }

    // ---- the corpus itself --------------------------------------------------------------------------------------

    @Test
    void theCorpusCoversEveryCategoryAndTheRequiredCases() {
        List<Case> table = table();
        assertTrue(table.size() >= 80, table.size() + " files");
        Map<String, Long> perCategory = table.stream()
                .collect(Collectors.groupingBy(Case::category, TreeMap::new, Collectors.counting()));
        assertEquals(Set.of("A", "B", "C", "D", "E", "F"), perCategory.keySet(), perCategory.toString());
        Set<String> files = table.stream().map(Case::file).collect(Collectors.toSet());
        for (String required : List.of(
                "B01_torchscript_archive.pt",           // CVE-2025-32434
                "D12a_record_shorter.pt",               // CVE-2026-24747, the record size lie
                "B03a_setitems_on_tensor.pt",           // CVE-2026-24747, SETITEM on a tensor
                "E01b_nullifai_broken_pickle.pt",       // payload, then garbage
                "E01_nullifai_7z.pt",                   // the same inside 7z
                "C08b_global_laughs_ordereddict.pt",    // DUP expansion in an allowed OrderedDict
                "C08c_memo_laughs_ordereddict.pt",      // BINGET expansion
                "C09b_million_marks.pt",
                "C01a_binunicode_4g_claim.pt", "C02_binbytes8_2e64.pt",   // 32- and 64-bit length claims
                "C12a_deflate_bomb.pt", "C13_overlapping_entries.pt",     // zip bombs
                "B12_sparse_index_outside.pt")) {       // CVE-2025-62164 class
            assertTrue(files.contains(required), required);
        }
        for (Case c : table) {
            assertTrue(Files.isRegularFile(dir().resolve(c.file())), c.file());
            assertFalse(c.comment().contains("TODO"), c.file());
            assertTrue(c.outcome().equals("loads") ? c.message().isEmpty() : !c.message().isEmpty(), c.file());
        }
        // Every section D case of the catalogue is here.
        for (String id : List.of("D01", "D02", "D04a", "D04b", "D05a", "D05b", "D06a", "D06b", "D08a", "D08b", "D08c",
                "D08d", "D09a", "D09b", "D10_len", "D10_float", "D10_bool", "D10_none", "D10_list", "D10_big",
                "D10_rank", "D12a", "D12b", "D12c", "D12d", "D13_37", "D13_empty", "D14a", "D14b", "D14c", "D15",
                "D17_torch.FooStorage", "D18_626967", "D19_cuda0", "D21a", "D21b", "D21c", "D21d", "D21e", "D22a",
                "D22b", "D22c", "D22d", "D22e", "D23_int")) {
            assertTrue(files.stream().anyMatch(f -> f.startsWith(id + "_") || f.startsWith(id + ".")), id);
        }
    }

    /** The committed files are exactly what the committed generator writes. */
    @Test
    void theGeneratorReproducesTheCommittedCorpus(@TempDir Path out) throws Exception {
        Process p = new ProcessBuilder("python3", dir().resolve("gen_corpus.py").toString(), "--out", out.toString())
                .redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "gen_corpus.py finishes");
        assertEquals(0, p.exitValue(), printed);
        Set<String> committed;
        try (Stream<Path> files = Files.list(dir())) {
            committed = files.map(f -> f.getFileName().toString()).filter(n -> !n.equals("gen_corpus.py"))
                    .filter(n -> !n.startsWith("__")).collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> generated;
        try (Stream<Path> files = Files.list(out)) {
            generated = files.map(f -> f.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(committed, generated);
        for (String name : generated) {
            assertEquals(sha256(dir().resolve(name)), sha256(out.resolve(name)), name);
        }
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
