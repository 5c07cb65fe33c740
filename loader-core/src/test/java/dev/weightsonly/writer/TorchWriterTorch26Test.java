package dev.weightsonly.writer;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.Python;
import dev.weightsonly.testing.Torch26;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Java → PyTorch 2.6: every file {@link TorchWriter} writes loads in PyTorch 2.6's
 * {@code torch.load(weights_only=True)} (through {@code tools/torch26}, all files in one Python process) to the
 * canonical dump of the tree Java wrote, floats included (which 1.13's restricted loader could not check:
 * {@link TorchWriterPyTorchTest} covers 1.13 with a full load). The trees: every fixture weightsonly loads
 * (PyTorch 1.13's and 2.6's, re-written) and the generated trees of TorchWriterPyTorchTest.
 */
class TorchWriterTorch26Test {

    @TempDir
    static Path tmp;

    private static final Map<String, Path> WRITTEN = new LinkedHashMap<>();
    private static final Map<Path, String> JAVA_DUMPS = new LinkedHashMap<>();
    private static Map<Path, Torch26.Answer> torch;
    /** Trees holding an int past 255 bytes (LONG4). */
    private static final List<String> LONG4 = List.of("fixtures/python_values", "generated/python_values");

    static Stream<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        for (String set : List.of("fixtures", "fixtures26", "fixtures/tensors26")) {
            try (Stream<Path> s = Files.list(Python.resources(set))) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pt")).sorted()
                        .forEach(n -> names.add(set + "/" + n.substring(0, n.length() - 3)));
            }
        }
        TorchWriterPyTorchTest.generated().keySet().forEach(k -> names.add("generated/" + k));
        return names.stream();
    }

    @BeforeAll
    static void writeEverythingAndLoadItInPyTorch26() throws IOException {
        Map<String, Object> generated = TorchWriterPyTorchTest.generated();
        for (String name : names().toList()) {
            Path out = tmp.resolve(name.replace('/', '-') + ".pt");
            if (name.startsWith("generated/")) {
                TorchWriter.save(generated.get(name.substring("generated/".length())), out);
            } else {
                try (Checkpoint c = Checkpoint.load(Python.resources(name.substring(0, name.lastIndexOf('/')))
                        .resolve(name.substring(name.lastIndexOf('/') + 1) + ".pt"))) {
                    TorchWriter.save(c.root(), out);
                } catch (CheckpointException refused) {
                    continue; // weightsonly refuses it (frozenset, a user class, ...): nothing to re-write
                }
            }
            try (Checkpoint back = Checkpoint.load(out)) {
                JAVA_DUMPS.put(out, CanonicalDump.toJson(back.root(), 1000, 10_000_000));
            }
            WRITTEN.put(name, out);
        }
        torch = Torch26.load(List.copyOf(JAVA_DUMPS.keySet()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void writtenFileLoadsInPyTorch26WeightsOnlyAsJavaWroteIt(String name) {
        Path out = WRITTEN.get(name);
        if (out == null) {
            // not written because weightsonly refuses the original; FixtureDifferentialTest checks that refusal
            assertTrue(!name.startsWith("generated/"), name + " was not written");
            return;
        }
        Torch26.Answer a = torch.get(out);
        assertNotNull(a, name);
        if (LONG4.contains(name)) {
            // An int of 256 bytes or more (2**2100) can only be pickled as LONG4 (protocol 2) or text LONG, and
            // PyTorch's weights-only unpickler has neither: it refuses PyTorch's own python_values fixture alike.
            // docs/SECURITY.md, pickle-opcodes.
            assertTrue(!a.loads() && a.error().contains("Unsupported operand 139"), name + ": " + a.error());
            return;
        }
        assertTrue(a.loads(), name + ": PyTorch 2.6 refuses the file Java wrote: " + a.error());
        assertNotNull(a.dump(), name + ": " + a.dumpError());
        JsonNode java = Json.parse(JAVA_DUMPS.get(out));
        String difference = Json.firstDifference(a.dump(), java);
        assertNull(difference, name + ": PyTorch 2.6 differs at " + difference);
    }

    @Test
    void nearlyEverythingWasWritten() {
        assertTrue(WRITTEN.size() >= 60, WRITTEN.size() + " files written: " + WRITTEN.keySet());
    }
}
