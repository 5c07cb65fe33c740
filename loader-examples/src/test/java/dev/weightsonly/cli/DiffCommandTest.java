package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code weightsonly diff} on two checkpoints written by PyTorch with known differences ({@code gen_diff.py}),
 * against what PyTorch itself computed about them ({@code expected.json}).
 */
class DiffCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    static String diffFile(String name) {
        return Paths.get("src/test/resources/diff", name).toAbsolutePath().toString();
    }

    static String fixture(String name) {
        return InspectCommandTest.fixture(name).toString();
    }

    static InspectCommandTest.Run run(String... args) {
        return InspectCommandTest.run(args);
    }

    @Test
    void aCheckpointIsIdenticalToItselfAndToItsOtherPickleProtocols() {
        InspectCommandTest.Run self = run("diff", diffFile("before.pt"), diffFile("before.pt"));
        assertEquals(0, self.status(), self.out() + self.err());
        assertTrue(self.out().endsWith("identical: 14 tensors with the same names, dtypes, shapes and values\n"),
                self.out());
        assertEquals("", self.err());
        // The same tensors, views among them, saved with pickle protocols 2 and 5.
        assertEquals(0, run("diff", fixture("proto2.pt"), fixture("proto5.pt")).status());
    }

    @Test
    void jsonReportMatchesWhatPyTorchComputed() throws IOException {
        InspectCommandTest.Run r = run("diff", "--json", diffFile("before.pt"), diffFile("after.pt"));
        assertEquals(1, r.status(), r.err());
        assertEquals("", r.err());
        JsonNode report = JSON.readTree(r.out());
        JsonNode expected = JSON.readTree(Files.readString(Path.of(diffFile("expected.json"))));

        assertEquals(false, report.get("identical").asBoolean());
        // (Jackson's object equality ignores field order: expected.json has its keys sorted.)
        assertEquals(expected.get("only_in_a"), report.get("only_in_a"));
        assertEquals(expected.get("only_in_b"), report.get("only_in_b"));
        assertEquals(expected.get("equal").size(), report.get("equal").asInt());

        Map<String, JsonNode> changed = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (JsonNode c : report.get("changed")) {
            changed.put(c.get("name").asText(), c);
            order.add(c.get("name").asText());
        }
        assertEquals(expected.get("changed").size(), changed.size(), changed.keySet().toString());
        // Reported in A's order.
        assertEquals(List.of("fc.weight", "fc.bias", "half.weight", "steps", "mask", "phase", "nan_appears", "retyped",
                "reshaped", "retyped_and_reshaped"), order);
        for (Map.Entry<String, JsonNode> e : expected.get("changed").properties()) {
            JsonNode want = e.getValue();
            JsonNode got = changed.get(e.getKey());
            String change = want.get("change").asText();
            assertEquals(change, got.get("change").asText(), e.getKey());
            if (!change.equals("values")) {
                assertEquals(want.get("a"), got.get("a"), e.getKey());
                assertEquals(want.get("b"), got.get("b"), e.getKey());
                continue;
            }
            assertEquals(want.get("dtype"), got.get("dtype"), e.getKey());
            assertEquals(want.get("shape"), got.get("shape"), e.getKey());
            assertEquals(want.get("elements").asLong(), got.get("elements").asLong(), e.getKey());
            assertEquals(want.get("differing").asLong(), got.get("differing").asLong(), e.getKey());
            JsonNode wantMax = want.get("max_abs_diff");
            JsonNode gotMax = got.get("max_abs_diff");
            if (wantMax.isTextual()) {
                assertEquals(wantMax.asText(), gotMax.asText(), e.getKey());
            } else if (wantMax.isIntegralNumber()) {
                assertEquals(wantMax.bigIntegerValue(), gotMax.bigIntegerValue(), e.getKey());
            } else {
                assertEquals(wantMax.doubleValue(), gotMax.doubleValue(), 0.0, e.getKey());
            }
        }
        // The int64 difference does not fit a long, and is still exact.
        assertEquals(BigInteger.TWO.pow(64).subtract(BigInteger.ONE),
                changed.get("steps").get("max_abs_diff").bigIntegerValue());
    }

    @Test
    void textReportHasOneLinePerChangeAndASummary() {
        InspectCommandTest.Run r = run("diff", diffFile("before.pt"), diffFile("after.pt"));
        assertEquals(1, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("A: " + diffFile("before.pt") + " (14 tensors)", lines.get(0));
        assertEquals("B: " + diffFile("after.pt") + " (14 tensors)", lines.get(1));
        assertTrue(lines.contains("~ fc.weight             values: 2 of 128 elements differ, max |a-b| = 1.0;"
                + " float32 [8, 16]"), r.out());
        assertTrue(lines.contains("~ steps                 values: 2 of 4 elements differ,"
                + " max |a-b| = 18446744073709551615; int64 [4]"), r.out());
        assertTrue(lines.contains("~ nan_appears           values: 1 of 3 elements differ,"
                + " max |a-b| = nan (a NaN against a number); float32 [3]"), r.out());
        assertTrue(lines.contains("~ retyped               dtype float32 -> float64, shape [5]"), r.out());
        assertTrue(lines.contains("~ reshaped              shape [3, 4] -> [4, 3], float32"), r.out());
        assertTrue(lines.contains("~ retyped_and_reshaped  dtype float32 -> int32, shape [2, 3] -> [3, 2]"), r.out());
        assertTrue(lines.contains("- removed.bias          only in A: float32 [3]"), r.out());
        assertTrue(lines.contains("+ added.weight          only in B: float32 [2, 2]"), r.out());
        assertEquals("different: 1 only in A, 1 only in B, 3 with another dtype or shape, 7 with other values;"
                + " 3 equal", lines.get(lines.size() - 1));
        assertEquals(2 + 12 + 1, lines.size(), r.out());
        // Equal tensors are not listed: the transposed view equals its contiguous original element by element.
        assertTrue(!r.out().contains("same_as_view") && !r.out().contains("same_nan_negzero"), r.out());
    }

    @Test
    void swappingTheFilesSwapsTheSides() throws IOException {
        InspectCommandTest.Run r = run("diff", "--json", diffFile("after.pt"), diffFile("before.pt"));
        assertEquals(1, r.status());
        JsonNode report = JSON.readTree(r.out());
        assertEquals("added.weight", report.get("only_in_a").get(0).get("name").asText());
        assertEquals("removed.bias", report.get("only_in_b").get(0).get("name").asText());
    }

    @Test
    void aRefusedCheckpointIsReportedInOneLineAndIsNotDifferent() {
        for (String[] pair : new String[][] {
                {diffFile("before.pt"), malicious("os_system.pt")},
                {malicious("os_system.pt"), diffFile("before.pt")}}) {
            InspectCommandTest.Run r = run("diff", pair[0], pair[1]);
            assertEquals(DiffCommand.REFUSED, r.status(), r.err());
            assertEquals("", r.out());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("weightsonly: " + malicious("os_system.pt") + ": "), r.err());
            assertTrue(r.err().contains("GLOBAL os.system whose module os is blocked"), r.err());
        }
        InspectCommandTest.Run json = run("diff", "--json", diffFile("before.pt"), malicious("builtins_eval.pt"));
        assertEquals(DiffCommand.REFUSED, json.status());
        assertEquals("", json.out());
        assertTrue(json.err().contains("GLOBAL eval was not an allowed global by default"), json.err());
    }

    @Test
    void allowLetsBothFilesLoadAUserClass() {
        assertEquals(DiffCommand.REFUSED, run("diff", fixture("fairseq_dictionary.pt"),
                fixture("fairseq_dictionary.pt")).status());
        InspectCommandTest.Run allowed = run("diff", "--allow", "fairseq.data.dictionary.Dictionary",
                fixture("fairseq_dictionary.pt"), fixture("fairseq_dictionary.pt"));
        assertEquals(0, allowed.status(), allowed.err());
        assertEquals(2, run("diff", "--allow", "os.system", fixture("sd_linear.pt"), fixture("sd_linear.pt")).status());
    }

    @Test
    void usageAndIoErrorsExitTwo() {
        InspectCommandTest.Run missing = run("diff", diffFile("before.pt"), "/nonexistent/b.pt");
        assertEquals(2, missing.status());
        assertEquals("weightsonly: /nonexistent/b.pt: no such file", missing.err().strip());
        assertEquals(2, run("diff", diffFile("before.pt")).status());
        assertEquals(2, run("diff", diffFile("before.pt"), diffFile("after.pt"), diffFile("after.pt")).status());
        assertEquals(2, run("diff", "--frobnicate", diffFile("before.pt"), diffFile("after.pt")).status());
    }

    @Test
    void helpListsTheExitStatuses() {
        InspectCommandTest.Run help = run("diff", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--json"), help.out());
        assertTrue(help.out().contains("3   a checkpoint was refused"), help.out());
        assertTrue(run("--help").out().contains("diff"));
    }

    private static String malicious(String name) {
        return InspectCommandTest.fixture("malicious").resolve(name).toString();
    }
}
