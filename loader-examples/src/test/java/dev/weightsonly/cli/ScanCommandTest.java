package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ScanCommandTest {

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = WeightsOnlyCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(status, out.toString(), err.toString());
    }

    static String fixture(String name) {
        return InspectCommandTest.fixture(name).toString();
    }

    static String malicious(String name) {
        return InspectCommandTest.fixture("malicious").resolve(name).toString();
    }

    @Test
    void aPlainScanCommandLineReadWithoutPicocliPrintsWhatPicocliReadingItPrints() {
        // "--" before the paths sends the same command line through picocli (ScanCommand.runPlain declines it).
        String folder = InspectCommandTest.fixture("malicious").toString();
        java.util.List<String[]> lines = java.util.List.of(
                new String[] {fixture("sd_linear.pt")},
                new String[] {fixture("sd_linear.pt"), fixture("train_checkpoint.pt"), malicious("posix_system.pt")},
                new String[] {"--json", folder},
                new String[] {"--format", "sarif", fixture("sd_linear.pt"), folder},
                new String[] {"--format=json", "--allow", "my.Thing", "--allow=other.Thing", folder},
                new String[] {fixture("no_such_file.pt")});
        for (String[] line : lines) {
            java.util.List<String> plain = new java.util.ArrayList<>(java.util.List.of("scan"));
            plain.addAll(java.util.List.of(line));
            java.util.List<String> viaPicocli = new java.util.ArrayList<>(java.util.List.of("scan"));
            int firstPath = 0;
            while (line[firstPath].startsWith("--")) {
                firstPath += line[firstPath].contains("=") || line[firstPath].equals("--json") ? 1 : 2;
            }
            viaPicocli.addAll(java.util.List.of(line).subList(0, firstPath));
            viaPicocli.add("--");
            viaPicocli.addAll(java.util.List.of(line).subList(firstPath, line.length));
            assertTrue(ScanCommand.runPlain(plain.subList(1, plain.size()), new PrintWriter(new StringWriter()),
                    new PrintWriter(new StringWriter())) != null, String.join(" ", plain));
            assertEquals(run(viaPicocli.toArray(String[]::new)), run(plain.toArray(String[]::new)),
                    String.join(" ", plain));
        }
    }

    @Test
    void aScanCommandLineWithAnythingElseIsLeftToPicocli() {
        for (String line : new String[] {"", "--help", "-h x", "--version", "-V", "-- x", "--jsn x", "@args", "x --format",
                "--format xml x", "--json --json x", "--format=json --format text x", "--allow --json x", "--allow= x",
                "-x", "--json"}) {
            java.util.List<String> args = line.isEmpty() ? java.util.List.of()
                    : java.util.List.of(line.split(" "));
            StringWriter out = new StringWriter();
            assertEquals(null, ScanCommand.runPlain(args, new PrintWriter(out), new PrintWriter(new StringWriter())),
                    line);
            assertEquals("", out.toString(), line);
        }
        Run help = run("scan", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("Usage: weightsonly scan"), help.out());
        Run typo = run("scan", "--jsn", fixture("sd_linear.pt"));
        assertEquals(2, typo.status());
        assertTrue(typo.err().contains("Unknown option: '--jsn'"), typo.err());
    }

    @Test
    void benignCheckpointsExitZero() {
        Run r = run("scan", fixture("sd_linear.pt"), fixture("train_checkpoint.pt"));
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains(fixture("sd_linear.pt") + ": allowed (3 distinct globals)"), r.out());
        assertTrue(r.out().contains("  allowed  torch._utils._rebuild_tensor_v2"), r.out());
    }

    @Test
    void aUserClassNeedsAllowlistingUnlessAllowed() {
        Run r = run("scan", fixture("fairseq_dictionary.pt"));
        assertEquals(1, r.status());
        assertTrue(r.out().contains("needs allowlisting  fairseq.data.dictionary.Dictionary  [fairseq_dictionary/data.pkl @ 199]"),
                r.out());
        Run allowed = run("scan", "--allow", "fairseq.data.dictionary.Dictionary", fixture("fairseq_dictionary.pt"));
        assertEquals(0, allowed.status(), allowed.out());
        assertTrue(allowed.out().contains("allowed (--allow)  fairseq.data.dictionary.Dictionary"), allowed.out());
    }

    @Test
    void dangerousGlobalsExitThreeAndAreNamed() {
        Run r = run("scan", malicious("posix_system.pt"));
        assertEquals(3, r.status());
        assertTrue(r.out().contains("DANGEROUS  posix.system  [archive/data.pkl @ 21]"), r.out());
    }

    @Test
    void theWorstFileDecidesTheExitStatus() {
        assertEquals(3, run("scan", fixture("sd_linear.pt"), fixture("fairseq_dictionary.pt"),
                malicious("stack_global_exec.pt")).status());
        assertEquals(1, run("scan", fixture("sd_linear.pt"), fixture("fairseq_dictionary.pt")).status());
    }

    @Test
    void malformedAndTorchScriptFilesExitThree() {
        Run broken = run("scan", malicious("not_a_zip_7z.pt"));
        assertEquals(3, broken.status());
        assertTrue(broken.out().contains(": malformed (0 distinct globals)"), broken.out());
        Run ts = run("scan", malicious("torchscript.pt"));
        assertEquals(3, ts.status());
        assertTrue(ts.out().contains("problem: TorchScript archive"), ts.out());
    }

    @Test
    void jsonReport() throws IOException {
        Run r = run("scan", "--json", malicious("partial_torch_load.pt"), fixture("sd_linear.pt"));
        assertEquals(3, r.status());
        JsonNode files = new ObjectMapper().readTree(r.out()).get("files");
        assertEquals(2, files.size());
        assertEquals("dangerous", files.get(0).get("verdict").asText());
        assertEquals("functools.partial", files.get(0).get("globals").get(0).get("name").asText());
        assertEquals("dangerous", files.get(0).get("globals").get(0).get("verdict").asText());
        assertEquals("allowed", files.get(1).get("verdict").asText());
    }

    @Test
    void aMissingFileIsAnIoErrorButDoesNotHideADangerousOne() {
        Run r = run("scan", "/nonexistent.pt", malicious("os_system.pt"));
        assertEquals(3, r.status());
        assertTrue(r.err().contains("/nonexistent.pt: no such file"), r.err());
        assertEquals(2, run("scan", "/nonexistent.pt").status());
    }
}
