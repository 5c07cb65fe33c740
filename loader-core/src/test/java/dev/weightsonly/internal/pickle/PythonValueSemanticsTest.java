package dev.weightsonly.internal.pickle;

import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.be64;
import static dev.weightsonly.internal.pickle.Pickles.global;
import static dev.weightsonly.internal.pickle.Pickles.le32;
import static dev.weightsonly.internal.pickle.Pickles.load;
import static dev.weightsonly.internal.pickle.Pickles.refuse;
import static dev.weightsonly.internal.pickle.Pickles.run;
import static dev.weightsonly.internal.pickle.Pickles.str;
import static dev.weightsonly.internal.pickle.Pickles.torchHost;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.TorchDevice;
import dev.weightsonly.torch.TorchSize;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The allowed constructors as Python and torch 2.6 run them: every expected value here is what
 * {@code torch.load(weights_only=True)} of PyTorch 2.6 returned for the same pickle (checked with
 * {@code tools/torch26}; the differences found by differential fuzzing are in
 * loader-core/src/test/resources/difffuzz), and every refusal one that torch 2.6 makes too or that
 * docs/SECURITY.md lists ({@code python-values}).
 */
class PythonValueSemanticsTest {

    private static byte[] call(String module, String name, Object... args) {
        return b(global(module, name), b(args), 'R');
    }

    private static byte[] newobj(String module, String name, Object... args) {
        return b(global(module, name), b(args), 0x81);
    }

    private static byte[] pickle(byte[] body) {
        return b(0x80, 2, body, '.');
    }

    private static Object value(byte[] body) throws Exception {
        return load(pickle(body));
    }

    private static List<Object> items(Object dictOrSet) {
        return dictOrSet instanceof PyDict d ? new ArrayList<>(d.keySet()) : new ArrayList<>((PySet) dictOrSet);
    }

    @Nested
    class AnyIterable {

        @Test
        void setOfAStrBytesDictAndTuple() throws Exception {
            assertEquals(List.of("a", "b"), items(value(call("builtins", "set", str("aba"), 0x85))));
            assertEquals(List.of(97L, 98L), items(value(call("builtins", "set",
                    call("_codecs", "encode", str("ab"), str("latin1"), 0x86), 0x85))));
            assertEquals(List.of("k"), items(value(call("builtins", "set", '}', str("k"), 'K', 1, 's', 0x85))));
            // 1, 1.0 and True are one item: the first stays
            Object s = value(call("builtins", "set", '(', 'K', 1, 'G', be64(1.0), 0x88, 't', 0x85));
            assertEquals(List.of(1L), items(s));
            // characters are code points: a supplementary character is one item
            assertEquals(List.of("\uD83D\uDE00", "x"), items(value(call("builtins", "set", str("\uD83D\uDE00x"),
                    0x85))));
        }

        @Test
        void counterCountsTheItemsOfAnyIterable() throws Exception {
            PyDict c = assertInstanceOf(PyDict.class, value(call("collections", "Counter", str("abca"), 0x85)));
            assertEquals(PyDict.Kind.COUNTER, c.kind());
            assertEquals(List.of("a", "b", "c"), items(c));
            assertEquals(List.of(2L, 1L, 1L), new ArrayList<>(c.values()));
            PyDict ones = (PyDict) value(call("collections", "Counter", '(', 'K', 1, 'K', 1, 'G', be64(1.0), 0x88,
                    't', 0x85));
            assertEquals(Map.of(1L, 4L), Map.copyOf(ones));
            assertTrue(((PyDict) value(call("collections", "Counter", 'N', 0x85))).isEmpty());
            // a mapping is copied, not counted
            PyDict copy = (PyDict) value(call("collections", "Counter", '}', str("a"), str("x"), 's', 0x85));
            assertEquals(Map.of("a", "x"), Map.copyOf(copy));
        }

        @Test
        void orderedDictOfAnyIterableOfPairs() throws Exception {
            PyDict d = (PyDict) value(call("collections", "OrderedDict", '(', str("ab"), str("cd"), 't', 0x85));
            assertEquals(PyDict.Kind.ORDERED_DICT, d.kind());
            assertEquals(List.of(Map.entry("a", "b"), Map.entry("c", "d")), new ArrayList<>(d.entrySet()));
            PyDict fromCounter = (PyDict) value(call("collections", "OrderedDict",
                    call("collections", "Counter", str("aab"), 0x85), 0x85));
            assertEquals(List.of(Map.entry("a", 2L), Map.entry("b", 1L)), new ArrayList<>(fromCounter.entrySet()));
            // equal keys: the first stays, in its place, with the last value
            PyDict dup = (PyDict) value(call("collections", "OrderedDict", '(', 'K', 1, str("a"), 0x86,
                    'G', be64(1.0), str("b"), 0x86, 0x88, str("c"), 0x86, 't', 0x85));
            assertEquals(List.of(Map.entry(1L, "c")), new ArrayList<>(dup.entrySet()));
            refuse(MalformedCheckpointException.class, "need more than 0 values to unpack",
                    pickle(call("collections", "OrderedDict", '(', ')', 't', 0x85)));
            refuse(MalformedCheckpointException.class, "unhashable type: 'list'",
                    pickle(call("collections", "OrderedDict", '(', ']', 'K', 1, 0x86, 't', 0x85)));
        }

        @Test
        void aCopiedDictIsIndependentOfItsSource() throws Exception {
            // d = {'a': 1}; o = OrderedDict(d); o['b'] = 2; d['c'] = 3; (d, o): the copy shares d's entries until
            // either is changed
            PyTuple t = (PyTuple) value(b('}', 'q', 0, str("a"), 'K', 1, 's', '0',
                    call("collections", "OrderedDict", 'h', 0, 0x85), 'q', 1, str("b"), 'K', 2, 's', '0',
                    'h', 0, str("c"), 'K', 3, 's', '0', 'h', 0, 'h', 1, 0x86));
            assertEquals(List.of(Map.entry("a", 1L), Map.entry("c", 3L)),
                    new ArrayList<>(((PyDict) t.get(0)).entrySet()));
            assertEquals(List.of(Map.entry("a", 1L), Map.entry("b", 2L)),
                    new ArrayList<>(((PyDict) t.get(1)).entrySet()));
        }

        @Test
        void bytearrayOfEveryArgumentForm() throws Exception {
            assertArrayEquals(new byte[] {1, (byte) 255}, bytes(value(call("builtins", "bytearray",
                    '(', 'K', 1, 'K', 255, 't', 0x85))));
            assertArrayEquals(new byte[3], bytes(value(call("builtins", "bytearray", 'K', 3, 0x85))));
            assertArrayEquals(new byte[1], bytes(value(call("builtins", "bytearray", 0x88, 0x85))));
            assertArrayEquals("h\u00e9".getBytes(StandardCharsets.UTF_8), bytes(value(call("builtins", "bytearray",
                    str("h\u00e9"), str("UTF_8"), 0x86))));
            assertArrayEquals(new byte[] {'a'}, bytes(value(call("builtins", "bytearray", str("a\u00e9"),
                    str("ascii"), str("ignore"), 0x87))));
            assertArrayEquals(new byte[] {7}, bytes(value(call("builtins", "bytearray", '}', 'K', 7, 'K', 1, 's',
                    0x85))));
            PyBytes copy = (PyBytes) value(call("builtins", "bytearray", call("_codecs", "encode", str("xy"),
                    str("latin1"), 0x86), 0x85));
            assertTrue(copy.isByteArray());
            assertArrayEquals(new byte[] {'x', 'y'}, copy.toByteArray());
        }

        @Test
        void torchSizeOfAnyIterableOfInts() throws Exception {
            assertEquals(new TorchSize(4), value(call("torch", "Size", '}', 'K', 4, 'K', 1, 's', 0x85)));
            assertEquals(new TorchSize(97, 98), value(call("torch", "Size", call("_codecs", "encode", str("ab"),
                    str("latin1"), 0x86), 0x85)));
            // a bool is an int; a negative size is a value like any other (only a shape must not be negative)
            assertEquals(new TorchSize(1, -5), value(call("torch", "Size", '(', 0x88, 'J', le32(-5), 't', 0x85)));
            assertEquals(new TorchSize(7), value(call("torch", "Size", call("builtins", "set", '(', 'K', 7, 't',
                    0x85), 0x85)));
            refuse(MalformedCheckpointException.class, "torch.Size() takes an iterable of 'int' (item 0 is 'float')",
                    pickle(call("torch", "Size", '(', 'G', be64(1.0), 't', 0x85)));
            refuse(MalformedCheckpointException.class, "torch.Size(): 'bool' object is not iterable",
                    pickle(call("torch", "Size", 0x88, 0x85)));
            refuse(MalformedCheckpointException.class, "tuple expected at most 1 argument, got 2",
                    pickle(call("torch", "Size", ')', ')', 0x86)));
        }

        private static byte[] bytes(Object v) {
            PyBytes b = assertInstanceOf(PyBytes.class, v);
            assertTrue(b.isByteArray());
            return b.toByteArray();
        }
    }

    @Nested
    class RefusedOnPurpose {

        @Test
        void aSetOfSeveralItemsReadInOrder() {
            // Python reads it in hash-table order (for str items, another order in every process)
            for (byte[] body : List.of(call("builtins", "bytearray", call("builtins", "set", '(', 'K', 7, 'K', 3,
                            't', 0x85), 0x85),
                    call("torch", "Size", call("builtins", "set", '(', 'K', 7, 'K', 3, 't', 0x85), 0x85),
                    call("collections", "Counter", call("builtins", "set", '(', str("a"), str("b"), 't', 0x85), 0x85),
                    call("collections", "OrderedDict", '(', call("builtins", "set", '(', 'K', 1, 'K', 2, 't',
                            0x85), 't', 0x85))) {
                refuse(UnsupportedCheckpointException.class, "Python reads a set in the order of its hash table",
                        pickle(body));
            }
        }

        @Test
        void aSizeBeyondSixtyFourBits() {
            refuse(UnsupportedCheckpointException.class, "torch.Size() holding an int beyond 64 bits",
                    pickle(call("torch", "Size", '(', 0x8A, 9, new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 1}, 't', 0x85)));
        }

        @Test
        void otherEncodings() {
            refuse(UnsupportedCheckpointException.class, "only UTF-8, Latin-1 and ASCII, the data encodings",
                    pickle(call("builtins", "bytearray", str("a"), str("utf-16"), 0x86)));
        }
    }

    @Nested
    class Complex {

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
            "' ( -1.5e3-2.5J ) '|-1500.0|-2.5", "j|0.0|1.0", "-j|0.0|-1.0", "1_000+2_0j|1000.0|20.0",
            "1+j|1.0|1.0", ".5|0.5|0.0", "5.|5.0|0.0", "\u0661\u0662|12.0|0.0", "infinityj|0.0|Infinity",
            "+1.e-3J|0.0|0.001", "\u20021\u2003|1.0|0.0", "(1)|1.0|0.0", "-0|-0.0|0.0", "-0j|0.0|-0.0",
            "1e500j|0.0|Infinity", "inf-nanj|Infinity|NaN"})
        void parsesWhatPythonParses(String text, double re, double im) throws Exception {
            PyComplex c = assertInstanceOf(PyComplex.class, value(call("builtins", "complex", str(text), 0x85)));
            assertEquals(Double.doubleToLongBits(re), Double.doubleToLongBits(c.real()), text);
            assertEquals(Double.doubleToLongBits(im), Double.doubleToLongBits(c.imag()), text);
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {"1 + 2j", "''", "1e", "1j+2", "1__0", "0x10", "1+-2j", "((1))",
            "1_", "_1", "'1\u0000'"})
        void refusesWhatPythonRefuses(String text) {
            refuse(MalformedCheckpointException.class, "complex() arg is a malformed string",
                    pickle(call("builtins", "complex", str(text), 0x85)));
        }

        @Test
        void combinesRealAndImaginaryPartsAsCPython() throws Exception {
            byte[] j = call("builtins", "complex", 'K', 0, 'K', 1, 0x86);
            assertEquals(new PyComplex(0.0, 0.0), value(call("builtins", "complex", 'K', 1, j, 0x86)));
            assertEquals(new PyComplex(-1.0, 1.0), value(call("builtins", "complex", j, j, 0x86)));
            byte[] negZeros = call("builtins", "complex", 'G', be64(-0.0), 'G', be64(-0.0), 0x86);
            PyComplex a = (PyComplex) value(call("builtins", "complex", negZeros, 'G', be64(-0.0), 0x86));
            assertEquals(-0.0, a.real());
            assertEquals(-0.0, a.imag());
            PyComplex b2 = (PyComplex) value(call("builtins", "complex", 'G', be64(2.0), negZeros, 0x86));
            assertEquals(2.0, b2.real());
            assertEquals(-0.0, b2.imag());
            assertEquals(new PyComplex(1.0, 0.0), value(call("builtins", "complex", 0x88, 0x89, 0x86)));
        }
    }

    @Nested
    class Newobj {

        @Test
        void mutableTypesAreEmptyWhateverTheArguments() throws Exception {
            assertTrue(((PySet) value(newobj("builtins", "set", str("ab"), 0x85))).isEmpty());
            assertTrue(((PySet) value(newobj("builtins", "set", 'K', 1, 'K', 2, 0x86))).isEmpty());
            PyBytes ba = (PyBytes) value(newobj("builtins", "bytearray", 'K', 3, 0x85));
            assertTrue(ba.isByteArray());
            assertEquals(0, ba.length());
            assertTrue(((PyDict) value(newobj("collections", "OrderedDict", 'K', 1, 'K', 2, 0x86))).isEmpty());
            assertTrue(((PyDict) value(newobj("collections", "Counter", str("aab"), 0x85))).isEmpty());
        }

        @Test
        void immutableTypesAreConstructed() throws Exception {
            assertEquals(new PyComplex(1.0, 2.0), value(newobj("builtins", "complex", 'K', 1, 'K', 2, 0x86)));
            assertEquals(new PyComplex(0.0, 3.0), value(newobj("builtins", "complex", str("3j"), 0x85)));
            assertEquals(new TorchSize(2, 3), value(newobj("torch", "Size", '(', 'K', 2, 'K', 3, 't', 0x85)));
            assertEquals(new TorchDevice("cuda:1"), value(newobj("torch", "device", str("cuda"), 'K', 1, 0x86)));
            refuse(MalformedCheckpointException.class, "complex() takes at most 2 arguments (3 given)",
                    pickle(newobj("builtins", "complex", 'K', 1, 'K', 2, 'K', 3, 0x87)));
        }

        @Test
        void parameterWithoutDataIsAnEmptyFloatParameter() throws Exception {
            for (byte[] body : List.of(newobj("torch.nn.parameter", "Parameter", ')'),
                    newobj("torch.nn.parameter", "Parameter", 'N', 0x85),
                    call("torch.nn.parameter", "Parameter", ')'))) {
                Tensor t = assertInstanceOf(Tensor.class, value(body));
                assertEquals(DType.FLOAT32, t.dtype());
                assertArrayEquals(new long[] {0}, t.shape());
                assertTrue(t.requiresGrad());
            }
            Tensor frozen = (Tensor) value(call("torch.nn.parameter", "Parameter", 'N', 0x89, 0x86));
            assertFalse(frozen.requiresGrad());
            refuse(MalformedCheckpointException.class, "requires_grad must be a bool, got int",
                    pickle(call("torch.nn.parameter", "Parameter", 'N', 'K', 0, 0x86)));
        }

        @Test
        void tensorAndStorageClassesAreNeverConstructed() {
            for (String[] cls : List.of(new String[] {"torch", "Tensor"}, new String[] {"torch", "FloatTensor"},
                    new String[] {"torch.sparse", "FloatTensor"}, new String[] {"torch.storage", "UntypedStorage"},
                    new String[] {"torch.storage", "TypedStorage"})) {
                refuse(UnsafeCheckpointException.class, "tensor and storage classes are never called as constructors",
                        pickle(newobj(cls[0], cls[1], ')')));
            }
        }
    }

    @Nested
    class Build {

        @Test
        void aCounterTakesAttributes() throws Exception {
            PyDict c = (PyDict) value(b(call("collections", "Counter", ')'), '}', str("a"), 'K', 1, 's', 'b'));
            assertEquals(Map.of("a", 1L), c.attributes());
            assertTrue(c.isEmpty());
            // (state, slot state): the slot state's items are set one by one
            PyDict slots = (PyDict) value(b(call("collections", "Counter", ')'), 'N', '}', str("z"), 'K', 2, 's',
                    0x86, 'b'));
            assertEquals(Map.of("z", 2L), slots.attributes());
        }

        @Test
        void anOrderedDictUpdatesItsDictFromAnyPairs() throws Exception {
            PyDict d = (PyDict) value(b(call("collections", "OrderedDict", ')'), '(', str("a"), 'K', 1, 0x86, 't',
                    'b'));
            assertEquals(Map.of("a", 1L), d.attributes());
            assertTrue(((PyDict) value(b(call("collections", "OrderedDict", ')'), str(""), 'b'))).attributes()
                    .isEmpty());
        }

        @Test
        void objectsWithoutADictTakeOnlyAFalseState() throws Exception {
            for (byte[] state : List.<byte[]>of(b('N'), b('}'), b(0x89), b('K', 0), b(str("")), b(')'), b('N', 'N',
                    0x86))) {
                assertInstanceOf(PySet.class, value(b(call("builtins", "set", ')'), state, 'b')));
            }
            assertInstanceOf(PyComplex.class, value(b(call("builtins", "complex", ')'), 'N', 'b')));
            assertEquals(new TorchSize(), value(b(call("torch", "Size", ')'), 'N', 'b')));
            assertEquals(new TorchDevice("cpu"), value(b(call("torch", "device", str("cpu"), 0x85), 'N', 'b')));
            refuse(MalformedCheckpointException.class, "BUILD: 'TorchSize' object has no attribute '__dict__'",
                    pickle(b(call("torch", "Size", ')'), '}', str("a"), 'K', 1, 's', 'b')));
        }
    }

    @Nested
    class Bounds {

        /**
         * set() of one 100,000-character str, 100 times: each character read is charged (the arguments alone, a
         * sixteenth of each str, would stay under the limit).
         */
        @Test
        void iterationIsChargedToMaxObjects() {
            String text = "x".repeat(100_000);
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            p.writeBytes(b(0x80, 2, ']', str(text), 'q', 0, '0', '('));
            for (int i = 0; i < 100; i++) {
                p.writeBytes(call("builtins", "set", 'h', 0, 0x85));
            }
            p.writeBytes(b('e', '.'));
            LimitExceededException e = refuse(LimitExceededException.class, "maxObjects", p.toByteArray(),
                    LoadLimits.builder().maxObjects(1_000_000).build());
            assertEquals("maxObjects", e.limitName());
        }

        /**
         * OrderedDict(d) of one 50,000-entry dict 1,000 times shares the entries (50 million copied entries before:
         * gigabytes of heap, adversarial C19c), and BUILD of one large state onto many OrderedDicts the same way (C19d).
         */
        @Test
        void copiesOfALargeDictAreShared() {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            p.writeBytes(b(0x80, 2, '}', 'q', 0, '('));
            for (int i = 0; i < 50_000; i++) {
                p.writeBytes(str("k" + i));
                p.writeBytes(b('K', 1));
            }
            p.writeBytes(b('u', '0', ']', '('));
            for (int i = 0; i < 1_000; i++) {
                p.writeBytes(call("collections", "OrderedDict", 'h', 0, 0x85));
                p.writeBytes(b(call("collections", "OrderedDict", ')'), 'h', 0, 'b'));
            }
            p.writeBytes(b('e', '.'));
            byte[] pickle = p.toByteArray();
            LoadLimits limits = LoadLimits.builder().maxObjects(1_000_000_000L).build();
            PyList list = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> (PyList) run(pickle,
                    torchHost(Set.of(), limits), limits).value());
            assertEquals(2_000, list.size());
            assertEquals(50_000, ((PyDict) list.get(0)).size());
            assertEquals(50_000, ((PyDict) list.get(1)).attributes().size());
            assertEquals(1L, ((PyDict) list.get(1998)).get("k49999"));
        }
    }
}
