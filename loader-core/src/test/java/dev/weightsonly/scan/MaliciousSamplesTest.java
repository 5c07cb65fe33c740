package dev.weightsonly.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The malicious samples of fixtures/malicious (gen_malicious.py, after adversarial.md section A): each is
 * refused by a load with the expected exception, and a scan reports each dangerous global, with the exit
 * status `weightsonly scan` would give. Nothing is executed: the loader has nothing that could execute.
 */
class MaliciousSamplesTest {

    record Sample(String file, String exception, String message, int scanExit, List<String> dangerous) {
        @Override
        public String toString() {
            return file;
        }
    }

    static Path dir() {
        return Fixtures.dir().resolve("malicious");
    }

    static Stream<Sample> samples() {
        try {
            return Files.readAllLines(dir().resolve("expected.tsv")).stream().skip(1).map(line -> {
                String[] f = line.split("\t", -1);
                return new Sample(f[0], f[1], f[2], Integer.parseInt(f[3]),
                        f[4].isEmpty() ? List.of() : Arrays.asList(f[4].split(",")));
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void loadRefusesIt(Sample s) {
        try (Checkpoint c = Checkpoint.load(dir().resolve(s.file()))) {
            fail(s.file() + " loaded: " + c);
        } catch (CheckpointException e) {
            assertEquals(s.exception(), e.getClass().getSimpleName(), e.getMessage());
            assertTrue(e.getMessage().contains(s.message()), e.getMessage());
        } catch (IOException e) {
            fail(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void scanReportsEveryDangerousGlobal(Sample s) throws IOException {
        ScanReport report = GlobalScanner.scan(dir().resolve(s.file()), name -> false);
        assertEquals(s.dangerous(), report.names(Verdict.DANGEROUS), report.toString());
        int exit = report.isDangerousOrMalformed() ? 3 : report.needsAllowlisting() ? 1 : 0;
        assertEquals(s.scanExit(), exit, report.toString());
    }

    @Test
    void aBrokenStreamStillReportsWhatWasReadBeforeTheBreak() throws IOException {
        ScanReport report = GlobalScanner.scan(dir().resolve("broken_after_payload.pt"), name -> false);
        assertEquals(List.of("posix.system"), report.names(Verdict.DANGEROUS));
        assertEquals(1, report.problems().size());
        assertTrue(report.problems().get(0).contains("Unsupported operand 255"), report.problems().toString());
    }

    @Test
    void theCorpusCoversEveryCategoryOfSectionA() {
        assertTrue(samples().count() >= 17);
    }

    @Test
    void everyRealFixtureScansCleanOrNeedsOnlyAllowlisting() throws IOException {
        try (var files = Files.list(Fixtures.dir())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".pt")).toList()) {
                ScanReport report = GlobalScanner.scan(f, name -> false);
                assertTrue(report.problems().isEmpty(), f + ": " + report.problems());
                assertEquals(List.of(), report.names(Verdict.DANGEROUS), f.toString());
            }
        }
    }

    @Test
    void scanResolvesMemoizedStackGlobalOperands() throws IOException {
        // proto4.pt names collections.OrderedDict through SHORT_BINUNICODE + MEMOIZE + STACK_GLOBAL.
        ScanReport report = GlobalScanner.scan(Fixtures.file("proto4"), name -> false);
        assertTrue(report.names(Verdict.ALLOWED_BY_DEFAULT).contains("collections.OrderedDict"), report.toString());
        assertTrue(report.names(Verdict.ALLOWED_BY_DEFAULT).contains("torch._utils._rebuild_tensor_v2"));
        assertEquals(List.of(), report.names(Verdict.NEEDS_ALLOWLISTING, Verdict.DANGEROUS));
    }
}
