package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A real torch.jit.save archive: refused by default; with the explicit option, its weights and nothing else. */
class TorchScriptWeightsTest {

    static final Path FILE = Fixtures.dir().resolve("torchscript/ts_module.pt");
    static final LoadOptions READ_WEIGHTS = LoadOptions.builder().torchScriptWeights(true).build();

    @Test
    void refusedByDefaultNamingTheFormatAndTheOption() {
        UnsupportedCheckpointException e = assertThrows(UnsupportedCheckpointException.class,
                () -> Checkpoint.load(FILE));
        assertTrue(e.getMessage().contains("Cannot use weights_only=True with TorchScript archives"), e.getMessage());
        assertTrue(e.getMessage().contains("torchScriptWeights(true)"), e.getMessage());
    }

    @Test
    void everyTensorOfTheStateDictLoadsUnderItsModulePathEqualToPyTorch() throws IOException {
        JsonNode expected = Json.parse(Files.readString(Fixtures.dir().resolve("torchscript/expected.json")));
        try (Checkpoint c = Checkpoint.load(FILE, READ_WEIGHTS)) {
            Map<String, Tensor> tensors = c.tensors();
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Tensor t = tensors.get("data." + e.getKey());
                assertTrue(t != null, "no tensor data." + e.getKey() + " in " + tensors.keySet());
                ObjectNode dumped = (ObjectNode) Json.parse(CanonicalDump.toJson(t, 10, 100)).get("root").get("tensor");
                dumped.remove("storage");
                assertNull(Json.firstDifference(dumped, e.getValue()), e.getKey());
            }
            assertEquals(expected.size(), tensors.size(), tensors.keySet().toString());
        }
    }

    @Test
    void modulesAreInertRecordsWithTheirAttributes() throws IOException {
        try (Checkpoint c = Checkpoint.load(FILE, READ_WEIGHTS)) {
            PyDict root = (PyDict) c.root();
            PyObject net = assertInstanceOf(PyObject.class, root.get("data"));
            assertEquals("__torch__.Net", net.className());
            PyDict attributes = (PyDict) net.state();
            assertEquals(2.5, attributes.get("scale"));
            assertEquals(List.of("a", "b"), List.copyOf((PyList) attributes.get("labels")));
            PyObject block = assertInstanceOf(PyObject.class, attributes.get("block"));
            assertTrue(block.className().startsWith("__torch__."), block.className());
            assertEquals(0, ((dev.weightsonly.python.PyTuple) root.get("constants")).size());
        }
    }

    @Test
    void theOptionDoesNotAllowTorchScriptNamesInOrdinaryCheckpoints() {
        // The malicious TorchScript-like names stay refused in a plain zip checkpoint.
        assertThrows(dev.weightsonly.UnsupportedGlobalException.class, () -> Checkpoint.load(
                Fixtures.file("fairseq_dictionary"), READ_WEIGHTS));
    }
}
