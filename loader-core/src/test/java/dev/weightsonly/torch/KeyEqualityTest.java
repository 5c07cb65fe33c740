package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Python's key equality (issue 12, class 6): dicts, sets and Counters built from keys that Python makes one
 * ({@code 1}, {@code 1.0}, {@code True}; {@code 0.0} and {@code -0.0}; {@code 2**64} and {@code 2.0**64};
 * tuples of those) load to the dump PyTorch 2.6's weights-only load gives (fixtures/keys/gen_keys.py; where
 * PyTorch refuses an opcode that weightsonly reads, the dump of Python's own {@code pickle.loads}).
 */
class KeyEqualityTest {

    static Path dir() {
        return Fixtures.dir().resolve("keys");
    }

    static Stream<String> cases() throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode c : Json.parse(Files.readString(dir().resolve("index.json"))).get("cases")) {
            names.add(c.get("name").asText());
        }
        return names.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void dumpEqualsPython(String name) throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve(name + ".pt"))) {
            String dump = CanonicalDump.toJson(c.root(), 1000, 10_000_000);
            String difference = Json.firstDifference(Json.parse(dump),
                    Json.parse(Files.readString(dir().resolve(name + ".expected.json"))));
            assertNull(difference, name + " differs from Python at " + difference + ":\n" + dump);
        }
    }

    @Test
    void everyCaseOfTheFolderIsInTheIndex() throws IOException {
        long files;
        try (var s = Files.list(dir())) {
            files = s.filter(p -> p.toString().endsWith(".pt")).count();
        }
        assertEquals(files, cases().count());
        assertTrue(files >= 15, "cases present: " + files);
    }

    @Test
    void lookupsFollowPythonEquality() throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve("numbers.pt"))) {
            PyDict d = assertInstanceOf(PyDict.class, c.root());
            // the key stays the first one given (the int 1), with the last value
            assertEquals(1L, d.keySet().iterator().next());
            for (Object one : List.of(1L, 1.0, true, BigInteger.ONE, new PyComplex(1, 0), new PyComplex(1, -0.0))) {
                assertEquals("complex", d.get(one), "d[" + one + "]");
                assertTrue(d.containsKey(one));
            }
            assertNull(d.get("1"));
            assertNull(d.get(1.5));
            assertFalse(d.containsKey(PyNone.NONE));
        }
        try (Checkpoint c = Checkpoint.load(dir().resolve("big_ints.pt"))) {
            PyDict d = assertInstanceOf(PyDict.class, c.root());
            assertEquals(BigInteger.ONE.shiftLeft(64), d.keySet().iterator().next());
            assertEquals("float", d.get(0x1p64));
            assertEquals("float", d.get(BigInteger.ONE.shiftLeft(64)));
            assertEquals("int", d.get(-0x1p63));
            assertEquals("int", d.get(Long.MIN_VALUE));
        }
        try (Checkpoint c = Checkpoint.load(dir().resolve("size_keys.pt"))) {
            PyDict d = assertInstanceOf(PyDict.class, c.root());
            assertInstanceOf(TorchSize.class, d.keySet().iterator().next());
            assertEquals("float tuple", d.get(PyTuple.of(2L, 3L)));
            assertEquals("float tuple", d.get(new TorchSize(2, 3)));
        }
    }

    @Test
    void aNaNKeyIsFoundByItselfOnly() throws IOException {
        try (Checkpoint c = Checkpoint.load(dir().resolve("nans.pt"))) {
            PyDict d = assertInstanceOf(PyDict.class, c.root());
            assertEquals(2, d.size());
            Object first = d.keySet().iterator().next();
            assertEquals("first", d.get(first));
            assertNull(d.get(Double.NaN)); // another NaN object: never equal
        }
        try (Checkpoint c = Checkpoint.load(dir().resolve("nan_tuples.pt"))) {
            // (nan,) twice through the memo is one key; a tuple of another NaN, equal by Double.equals, is not
            PyDict d = assertInstanceOf(PyDict.class, c.root());
            assertEquals(2, d.size());
            PyTuple first = (PyTuple) d.keySet().iterator().next();
            assertEquals("b", d.get(first));
            assertSame(first, d.keySet().iterator().next());
        }
    }
}
