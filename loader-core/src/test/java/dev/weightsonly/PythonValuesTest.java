package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.Python;
import dev.weightsonly.testing.Torch26;
import dev.weightsonly.testing.ZipWriter;
import dev.weightsonly.torch.SparseTensor;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/**
 * The values around the tensors, read as a user reads them: typed getters on dicts, lists, tuples and objects,
 * {@link Checkpoint#get} by path, and a {@code toString()} that shows the values as Python's {@code repr}
 * does (checked against PyTorch 2.6's own repr of the same values), bounded whatever the file holds.
 */
class PythonValuesTest {

    private static final Path TRAIN = Fixtures.file("train_checkpoint");

    @Test
    void aTrainingCheckpointReadsByPathWithoutCasts() throws Exception {
        try (Checkpoint c = Checkpoint.load(TRAIN)) {
            assertEquals(3L, c.get("epoch", Long.class));
            int epoch = c.get("epoch", int.class);
            assertEquals(3, epoch);
            assertEquals(0.00025, c.get("optimizer.param_groups.0.lr", Double.class));
            assertEquals(0.999, c.get("optimizer.param_groups.0.betas.1", Double.class));
            // a Python int where a float is asked for reads as one, as Python reads 0 as 0.0
            assertEquals(0.0, c.get("optimizer.param_groups.0.weight_decay", Double.class));
            assertEquals(3L, c.get("optimizer.param_groups.0.params.-1", Long.class));
            assertEquals(2.0, c.get("optimizer.state.0.step", Tensor.class).item());
            // a key holding dots: the longest run of parts that is a key is taken
            assertArrayEquals(new long[] {3, 4}, c.get("model.0.weight", Tensor.class).shape());
            assertEquals("b", c.get("int_keys.-5", String.class));
            assertEquals("c", c.get("int_keys.1099511627776", String.class));
            assertEquals(4L, c.get("nested.0.1.1.1.a.0", Long.class));
            assertSame(PyNone.NONE, c.get("nested.1"));
            assertEquals(BigInteger.TWO.pow(70), c.get("big", BigInteger.class));
            assertEquals(0x1p70, c.get("big", Double.class));
            assertSame(c.root(), c.get(""));
            assertEquals(c.get("model", PyDict.class).size(), c.stateDict("model").size());
        }
    }

    @Test
    void everyPathTheTensorMapNamesLeadsToItsTensor() throws Exception {
        for (String name : List.of("train_checkpoint", "legacy_train_checkpoint", "sd_mlp_nested", "shared_refs",
                "views", "sparse")) {
            try (Checkpoint c = Checkpoint.load(Fixtures.file(name))) {
                for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
                    assertSame(e.getValue(), c.get(e.getKey()), name + ": " + e.getKey());
                }
                for (Map.Entry<String, SparseTensor> e : c.sparseTensors().entrySet()) {
                    assertSame(e.getValue(), c.get(e.getKey()), name + ": " + e.getKey());
                }
            }
        }
    }

    @Test
    void pathsThatLeadNowhereSayWhatIsThere() throws Exception {
        try (Checkpoint c = Checkpoint.load(TRAIN)) {
            NoSuchElementException missing = assertThrows(NoSuchElementException.class,
                    () -> c.get("optimizer.param_groups.0.momentum", Double.class));
            assertTrue(missing.getMessage().startsWith(TRAIN + ": no 'momentum' in optimizer.param_groups.0, which is"
                    + " a dict with keys 'lr', 'betas', "), missing.getMessage());
            NoSuchElementException past = assertThrows(NoSuchElementException.class, () -> c.get("epoch.x"));
            assertEquals(TRAIN + ": no 'x' in epoch, which is 3 (int)", past.getMessage());
            NoSuchElementException index = assertThrows(NoSuchElementException.class,
                    () -> c.get("optimizer.param_groups.1"));
            assertEquals(TRAIN + ": no '1' in optimizer.param_groups, which is a list of 1", index.getMessage());
            assertThrows(NoSuchElementException.class, () -> c.get("nope"));

            ClassCastException type = assertThrows(ClassCastException.class, () -> c.get("text", Long.class));
            assertEquals(TRAIN + ": text is 'naïve 日本語 ✓' (str), not int (Long)", type.getMessage());
            ClassCastException none = assertThrows(ClassCastException.class, () -> c.get("nested.1", String.class));
            assertEquals(TRAIN + ": nested.1 is None (NoneType), not str (String)", none.getMessage());
            ClassCastException big = assertThrows(ClassCastException.class, () -> c.get("big", Long.class));
            assertEquals(TRAIN + ": big is the int 1180591620717411303424, too large for a long", big.getMessage());
            ClassCastException bool = assertThrows(ClassCastException.class,
                    () -> c.get("optimizer.param_groups.0.amsgrad", Long.class));
            assertTrue(bool.getMessage().endsWith("is False (bool), not int (Long)"), bool.getMessage());
        }
    }

    @Test
    void dictsListsAndTuplesHaveTypedGetters() throws Exception {
        try (Checkpoint c = Checkpoint.load(TRAIN)) {
            PyDict optimizer = c.get("optimizer", PyDict.class);
            PyDict group = optimizer.getList("param_groups").getDict(0);
            assertEquals(0.00025, group.getDouble("lr"));
            assertEquals(1e-08, group.getDouble("eps"));
            assertEquals(0.9, group.getTuple("betas").getDouble(0));
            assertEquals(0.999, group.getTuple("betas").getDouble(-1));
            assertEquals(false, group.getBoolean("amsgrad"));
            assertEquals(3L, group.getList("params").getLong(-1));
            // optimizer.state has int keys: an int finds them, as in Python
            Tensor exp = optimizer.getDict("state").getDict(0).getTensor("exp_avg");
            assertArrayEquals(new long[] {3, 4}, exp.shape());
            assertSame(optimizer.getDict("state").get(0L), optimizer.getDict("state").get(0));
            PyDict root = c.get("", PyDict.class);
            assertEquals(3, root.getInt("epoch"));
            assertEquals("naïve 日本語 ✓", root.getString("text"));
            assertEquals(2L, root.getDict("counter").getLong("x"));

            NoSuchElementException missing = assertThrows(NoSuchElementException.class, () -> group.getDouble("mom"));
            assertTrue(missing.getMessage().startsWith("no key 'mom' in this dict; its keys: 'lr', 'betas', 'eps',"),
                    missing.getMessage());
            ClassCastException wrong = assertThrows(ClassCastException.class, () -> group.getString("lr"));
            assertEquals("key 'lr' is 0.00025 (float), not str (String)", wrong.getMessage());
            PyList params = group.getList("params");
            IndexOutOfBoundsException out = assertThrows(IndexOutOfBoundsException.class, () -> params.getLong(4));
            assertEquals("list index 4 out of range for a list of 4", out.getMessage());
            PyTuple betas = group.getTuple("betas");
            assertThrows(IndexOutOfBoundsException.class, () -> betas.getDouble(-3));
            ClassCastException narrow = assertThrows(ClassCastException.class, () -> root.getInt("neg_big"));
            assertTrue(narrow.getMessage().endsWith("too large for an int"), narrow.getMessage());
        }
    }

    @Test
    void anAllowedObjectsFieldsReadByName() throws Exception {
        LoadOptions options = LoadOptions.builder().allowGlobal("fairseq.data.dictionary.Dictionary").build();
        try (Checkpoint c = Checkpoint.load(Fixtures.file("fairseq_dictionary"), options)) {
            PyObject dictionary = c.get("dict", PyObject.class);
            assertEquals("fairseq.data.dictionary.Dictionary", dictionary.className());
            assertEquals(List.of("bos_word", "unk_word", "pad_word", "eos_word", "symbols", "count", "indices",
                    "bos_index", "pad_index", "eos_index", "unk_index", "nspecial"),
                    List.copyOf(dictionary.fields().keySet()));
            assertEquals("<unk>", dictionary.field("unk_word"));
            assertEquals("cat", dictionary.getList("symbols").getString(5));
            assertEquals(4L, dictionary.getLong("nspecial"));
            assertEquals(3L, dictionary.getList("count").getLong(4)); // "the", added three times
            assertEquals(5L, c.get("dict.indices.cat", Long.class));
            NoSuchElementException missing = assertThrows(NoSuchElementException.class,
                    () -> dictionary.field("vocab"));
            assertTrue(missing.getMessage().startsWith("fairseq.data.dictionary.Dictionary object has no field"
                    + " 'vocab'; its fields: bos_word, unk_word, "), missing.getMessage());
            ClassCastException wrong = assertThrows(ClassCastException.class, () -> dictionary.getDict("symbols"));
            assertTrue(wrong.getMessage().startsWith("field 'symbols' of fairseq.data.dictionary.Dictionary is"
                    + " ['<s>', '<pad>', "), wrong.getMessage());
            assertTrue(dictionary.toString().startsWith("fairseq.data.dictionary.Dictionary(bos_word='<s>',"
                    + " unk_word='<unk>', pad_word='<pad>', eos_word='</s>', symbols=['<s>', '<pad>', '</s>',"
                    + " '<unk>', 'the', 'cat', 'sat', 'mat'], count=[1, 1, 1, 1, 3, 1, 1, 1], indices={'<s>': 0,"),
                    dictionary.toString());
        }
    }

    /** Values Python prints in full, whose repr must be Python's to the character. */
    private static final List<String> REPR_PATHS = List.of("nested", "optimizer.param_groups.0", "scheduler",
            "int_keys", "loss_history", "empty", "empty_list", "optimizer.param_groups.0.betas", "complex", "bytes",
            "bytearray", "counter");

    @Test
    void toStringIsPythonsRepr() throws Exception {
        assertReprs(TRAIN, REPR_PATHS);
        assertReprs(Fixtures.file("legacy_views"), List.of("meta"));
    }

    private static void assertReprs(Path file, List<String> paths) throws Exception {
        ObjectNode request = JsonNodeFactory.instance.objectNode();
        request.put("file", file.toAbsolutePath().toString());
        ArrayNode keys = request.putArray("paths");
        try (Checkpoint c = Checkpoint.load(file)) {
            for (String path : paths) {
                ArrayNode p = keys.addArray();
                for (String part : path.split("\\.")) {
                    if (part.matches("-?[0-9]+")) {
                        p.add(Long.parseLong(part));
                    } else {
                        p.add(part);
                    }
                }
            }
            JsonNode out = Torch26.runScript(Python.resources("torch26").resolve("value_repr.py"), request);
            assertTrue(out.get("torch").asText().startsWith("2.6"), out.get("torch").asText());
            for (int i = 0; i < paths.size(); i++) {
                assertEquals(out.get("reprs").get(i).asText(), c.get(paths.get(i)).toString(),
                        file.getFileName() + ": " + paths.get(i));
            }
        }
    }

    @Test
    void toStringIsBoundedInLengthAndDepthAndSafeFromCycles() throws Exception {
        // a list that holds itself, a dict that holds itself: printed as Python prints them
        byte[] selfList = PickleBuilder.protocol(2).emptyList().put(0).get(0).op('a').stop().bytes();
        byte[] selfDict = PickleBuilder.protocol(2).emptyDict().put(0).str("self").get(0).op('s').stop().bytes();
        assertEquals("[[...]]", load(selfList).toString());
        assertEquals("{'self': {...}}", load(selfDict).toString());

        // 100,000 items: the text stops near 500 characters, brackets closed
        PickleBuilder wide = PickleBuilder.protocol(2).emptyList();
        for (int i = 0; i < 100_000; i++) {
            wide.integer(i).op('a');
        }
        String text = load(wide.stop().bytes()).toString();
        assertTrue(text.length() < 520 && text.startsWith("[0, 1, 2, ") && text.endsWith(", ...]"), text);

        // 200 lists deep: the seventh level prints as [...]
        PickleBuilder deep = PickleBuilder.protocol(2);
        for (int i = 0; i < 200; i++) {
            deep.emptyList();
        }
        for (int i = 0; i < 199; i++) {
            deep.op('a');
        }
        assertEquals("[[[[[[[...]]]]]]]", load(deep.stop().bytes()).toString());

        // a long str and one with control characters: clipped, and escaped so it cannot forge a log line
        String repr = load(PickleBuilder.protocol(2).emptyList().str("x".repeat(1000)).op('a')
                .str("ok\n\u001b[2Jforged\u202e").op('a').stop().bytes()).toString();
        assertEquals("['" + "x".repeat(80) + "...', 'ok\\n\\x1b[2Jforged\\u202e']", repr);
    }

    private static Object load(byte[] pickle) throws Exception {
        try (Checkpoint c = Checkpoint.load(ZipWriter.checkpoint("archive", pickle).bytes(), "values.pt")) {
            return c.root();
        }
    }
}
