package dev.weightsonly.scan;

import dev.weightsonly.internal.globals.DangerousGlobals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.AdversarialCorpusTest;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.globals.TorchAllowlist;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.ScanLoadRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 12, classes 2 and 3, over every file there is: the adversarial corpus, the fixtures, the safetensors
 * files and the external compatibility corpus (313 files of other projects, read from
 * {@code ../shared/corpus/external}, never copied here). For each, {@code scan} and a weights-only load agree
 * ({@link ScanLoadRule}); every exploit sample of the external corpus scans as dangerous (exit 3).
 */
class ScanLoadAgreementTest {

    /** The external corpus beside the project (CI clones the project next to {@code shared/}). */
    static Path external() {
        for (String candidate : new String[] {"../../shared/corpus/external", "../shared/corpus/external"}) {
            Path p = Paths.get(candidate);
            if (Files.isRegularFile(p.resolve("manifest.tsv"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new AssertionError("the external corpus (../shared/corpus/external beside the project) is missing");
    }

    static Path resources() {
        return Fixtures.dir().getParent();
    }

    static Stream<Path> everyFile() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path root : new Path[] {resources().resolve("adversarial"), resources().resolve("fixtures"),
                resources().resolve("safetensors"), external().resolve("benign"), external().resolve("malicious")}) {
            try (Stream<Path> walk = Files.walk(root)) {
                walk.filter(Files::isRegularFile).filter(ScanLoadAgreementTest::isInput).sorted().forEach(files::add);
            }
        }
        return files.stream();
    }

    private static boolean isInput(Path p) {
        String name = p.getFileName().toString();
        return !(name.endsWith(".tsv") || name.endsWith(".py") || name.endsWith(".md") || name.endsWith(".json"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyFile")
    void scanExitZeroMeansItLoadsAndARefusedGlobalIsNamed(Path file) throws IOException {
        // The adversarial corpus's amplification rows hold more than a test heap under the default limits: load
        // and scan them under the limits their row names, as AdversarialCorpusTest does.
        LoadOptions options = ADVERSARIAL_LIMITS.getOrDefault(file.getFileName().toString(), LoadOptions.defaults());
        CheckpointException refusal = null;
        try (Checkpoint c = Checkpoint.load(file, options)) {
            c.root();
        } catch (CheckpointException e) {
            refusal = e;
        }
        ScanLoadRule.assertAgree(file.toString(), GlobalScanner.scan(file, name -> false, options.limits()), refusal);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyFile")
    void aScanOfTheFileAndOfItsBytesInMemoryReportTheSame(Path file) throws IOException {
        // The path overload reads a small file into memory and maps a large one (the external corpus has files
        // over a MiB); the memory overload loads a copy. All three must judge alike.
        LoadOptions options = ADVERSARIAL_LIMITS.getOrDefault(file.getFileName().toString(), LoadOptions.defaults());
        ScanReport byPath = GlobalScanner.scan(file, name -> false, options.limits());
        ScanReport inMemory = GlobalScanner.scan(java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(file)),
                file.toString(), name -> false, options.limits());
        assertEquals(byPath, inMemory);
    }

    @Test
    void theStorageClassOfAProtocolZeroPersistentIdIsNamedAsTheLoadResolvesIt() throws IOException {
        // Protocol 0 writes each persistent id as text naming its storage class, which a load resolves through
        // the allowlist; a class it refuses must be named by the scan (found by HostileInputProperties).
        byte[] clean = Files.readAllBytes(resources().resolve("fixtures/proto0.pt"));
        ScanReport report = GlobalScanner.scan(java.lang.foreign.MemorySegment.ofArray(clean), "proto0.pt",
                name -> false);
        assertEquals(0, report.exitStatus(), report.toString());
        assertTrue(report.globals().stream().anyMatch(g -> g.name().equals("torch.FloatStorage")
                && g.opcode().equals("PERSID")), report.toString());

        byte[] renamed = clean.clone();
        int at = new String(renamed, StandardCharsets.ISO_8859_1).indexOf("<class 'torch.FloatStorage'>");
        renamed[at + "<class '".length()] = 'u'; // uorch.FloatStorage: allowed by nobody
        CheckpointException refusal = null;
        try (Checkpoint c = Checkpoint.load(renamed, "renamed.pt")) {
            c.root();
        } catch (CheckpointException e) {
            refusal = e;
        }
        ScanReport renamedReport = GlobalScanner.scan(java.lang.foreign.MemorySegment.ofArray(renamed), "renamed.pt",
                name -> false);
        assertTrue(renamedReport.names(Verdict.NEEDS_ALLOWLISTING).contains("uorch.FloatStorage"),
                renamedReport.toString());
        ScanLoadRule.assertAgree("renamed.pt", renamedReport, refusal);
    }

    private static final java.util.Map<String, LoadOptions> ADVERSARIAL_LIMITS = AdversarialCorpusTest.table().stream()
            .filter(c -> !c.limits().isEmpty())
            .collect(java.util.stream.Collectors.toMap(AdversarialCorpusTest.Case::file, AdversarialCorpusTest::options));

    static Stream<Path> maliciousSamples() throws IOException {
        List<String> rows = Files.readAllLines(external().resolve("manifest.tsv"), StandardCharsets.UTF_8);
        return rows.stream().skip(1).map(r -> r.split("\t")[0]).filter(f -> f.startsWith("malicious/"))
                .map(f -> external().resolve(f));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("maliciousSamples")
    void everyExploitSampleOfTheExternalCorpusScansAsDangerous(Path file) throws IOException {
        ScanReport report = GlobalScanner.scan(file, name -> false);
        assertEquals(3, report.exitStatus(), report.toString());
    }

    @Test
    void theExternalCorpusHasItsExploitSamples() throws IOException {
        assertTrue(maliciousSamples().count() >= 90);
    }

    @Test
    void theGadgetsOfThePublishedScannersAreDangerous() {
        // One name per source list (DangerousGlobals says where each comes from).
        for (String name : List.of("pydoc.pipepager", "idlelib.pyshell.ModifiedInterpreter.runcode",
                "idlelib.calltip.Calltip.fetch_tip", "lib2to3.pgen2.grammar.Grammar.loads", "doctest.debug_script",
                "_aix_support._read_cmd_output", "_osx_support._read_output", "_pyrepl.pager.pipe_pager",
                "test.support.script_helper.assert_python_ok", "uuid._get_command_stdout", "_operator.attrgetter",
                "imaplib.IMAP4_stream", "cloudpickle.cloudpickle.subimport", "aiohttp.client.ClientSession",
                "threading.Thread", "zipfile.ZipFile", "torch.storage._load_from_bytes",
                "torch.distributed.elastic.rendezvous.api.basichandlers", "numpy.testing._private.utils.runstring",
                "torch._utils.os.system", "collections.OrderedDict.__init__.__globals__")) {
            assertTrue(DangerousGlobals.isDangerous(name), name);
        }
    }

    @Test
    void nothingPyTorchAllowsByDefaultIsDangerous() {
        for (String name : TorchAllowlist.names()) {
            assertFalse(DangerousGlobals.isDangerous(name), name);
        }
    }

    @Test
    void aValidSafetensorsFileScansCleanAndABrokenOneAsMalformed() throws IOException {
        ScanReport good = GlobalScanner.scan(resources().resolve("safetensors/basic.safetensors"), name -> false);
        assertEquals(0, good.exitStatus(), good.toString());
        assertTrue(good.globals().isEmpty(), good.toString());
        ScanReport broken = GlobalScanner.scan(resources().resolve("safetensors/bad_json_truncated.safetensors"),
                name -> false);
        assertEquals(3, broken.exitStatus(), broken.toString());
        assertEquals(1, broken.problems().size(), broken.toString());
        assertTrue(broken.problems().get(0).contains("a weights-only load refuses the file"), broken.toString());
        assertTrue(broken.globals().isEmpty(), broken.toString());
    }

    @Test
    void aBarePickleOfAllowedGlobalsIsNotCleanBecauseNoLoadAcceptsIt() throws IOException {
        byte[] pickle = dev.weightsonly.testing.PickleBuilder.protocol(2).orderedDict().stop().bytes();
        ScanReport report = GlobalScanner.scan(java.lang.foreign.MemorySegment.ofArray(pickle), "bare.pkl",
                name -> false);
        assertEquals(List.of("collections.OrderedDict"), report.names(Verdict.ALLOWED_BY_DEFAULT));
        assertEquals(3, report.exitStatus(), report.toString());
        assertTrue(report.problems().get(0).contains("bare pickle"), report.toString());
    }
}
