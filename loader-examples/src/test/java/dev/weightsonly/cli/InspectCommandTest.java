package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightsonly.testing.SharedFixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class InspectCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    record Run(int status, String out, String err) {
    }

    static Path fixture(String name) {
        return SharedFixtures.path("fixtures/" + name);
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = WeightsOnlyCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    void tableListsEveryTensorWithTotals() {
        Run r = run("inspect", fixture("sd_conv_bn.pt").toString());
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].matches("name\\s+dtype\\s+shape\\s+bytes"), lines[0]);
        assertTrue(lines[1].matches("0\\.weight\\s+float32\\s+\\[4, 3, 3, 3]\\s+432 B"), lines[1]);
        assertTrue(r.out().contains("1.num_batches_tracked  int64    []"), r.out());
        assertEquals("7 tensors, 7 storages, 129 elements, 520 B (520 bytes), mapped", lines[lines.length - 1]);
        assertEquals("", r.err());
    }

    @Test
    void jsonEqualsPyTorchsDump() throws IOException {
        for (String name : new String[] {"views", "train_checkpoint", "dtypes", "sd_embedding_tied"}) {
            Run r = run("inspect", "--json", fixture(name + ".pt").toString());
            assertEquals(0, r.status(), r.err());
            JsonNode expected = JSON.readTree(Files.readString(fixture(name + ".expected.json")));
            assertEquals(expected, JSON.readTree(r.out()), name);
        }
    }

    @Test
    void refusedCheckpointExitsOneWithOneLineOnStandardError() {
        Run r = run("inspect", "--json", fixture("frozenset_value.pt").toString());
        assertEquals(1, r.status());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("weightsonly: " + fixture("frozenset_value.pt")), r.err());
        assertTrue(r.err().contains("Unsupported global: GLOBAL frozenset was not an allowed global by default"),
                r.err());
        // The remedy in the tool's terms, not the library's Java API.
        assertTrue(r.err().strip().endsWith("was not an allowed global by default. If you trust this class, allow it"
                + " with --allow builtins.frozenset."), r.err());
        assertTrue(!r.err().contains("LoadOptions") && !r.err().contains("SafeGlobals"), r.err());
    }

    @Test
    void allowLoadsTheGlobalAsAnInertObject() throws IOException {
        Run r = run("inspect", "--json", "--allow", "builtins.frozenset", fixture("frozenset_value.pt").toString());
        assertEquals(0, r.status(), r.err());
        JsonNode root = JSON.readTree(r.out()).get("root").get("dict");
        JsonNode object = root.get(0).get(1).get("object");
        assertEquals("builtins.frozenset", object.get("class").asText());
        // frozenset({3, 1, 2}) is pickled as REDUCE(frozenset, ([1, 2, 3],)): its list in hash order.
        assertEquals(JSON.readTree("[[1, 2, 3]]"), object.get("args"));
        assertTrue(object.get("state").isNull());
    }

    @Test
    void dangerousAllowIsAUsageError() {
        Run r = run("inspect", "--allow", "os.system", fixture("sd_linear.pt").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("os.system comes from os") && r.err().contains("refuses to allow it"), r.err());
    }

    @Test
    void missingFileIsAnIoError() {
        Run r = run("inspect", "/nonexistent/model.pt");
        assertEquals(2, r.status());
        assertEquals("weightsonly: /nonexistent/model.pt: no such file", r.err().strip());
    }

    @Test
    void usageErrors() {
        assertEquals(2, run("inspect").status());
        assertEquals(2, run("inspect", "--frobnicate", "x.pt").status());
        assertEquals(2, run().status());
    }

    @Test
    void helpAndVersion() {
        Run help = run("inspect", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--json"));
        Run version = run("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().startsWith("weightsonly "));
    }
}
