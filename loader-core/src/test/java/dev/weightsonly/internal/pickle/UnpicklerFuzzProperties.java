package dev.weightsonly.internal.pickle;

import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.global;
import static dev.weightsonly.internal.pickle.Pickles.le32;
import static dev.weightsonly.internal.pickle.Pickles.le64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.PickleOps;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * Random input never makes the machine fail in any way but the library's: the only outcomes are a
 * {@link Unpickler.Result} or a {@link CheckpointException} subclass, each within a time bound. Inputs are
 * random bytes, random opcode streams with hostile operands, byte-level mutants of valid pickles and splices
 * of valid pickles at opcode boundaries. Whole files of every container are mutated in
 * {@code dev.weightsonly.HostileInputProperties}; both run with -Xmx64m (loader-core's small-heap execution).
 */
class UnpicklerFuzzProperties {

    private static final Location WHERE = Location.of("fuzz.pkl");
    private static final long MAX_MILLIS = 3_000;

    /** Small limits, so that nothing a generated pickle asks for is slow. */
    private static final LoadLimits SMALL = LoadLimits.builder()
            .maxPickleBytes(1 << 16)
            .maxStackDepth(1_000)
            .maxMarkDepth(100)
            .maxMemoEntries(1_000)
            .maxContainerLength(1_000)
            .maxObjects(20_000)
            .maxStringBytes(1 << 16)
            .maxIntegerBytes(64)
            .maxTensors(100)
            .maxTensorElements(1 << 20)
            .maxNestingDepth(50)
            .build();

    private static TorchUnpicklerHost host() {
        // record "0" holds 16 bytes (4 floats), so generated storages and tensor views can be real
        return new TorchUnpicklerHost((key, site) -> {
            if (key.equals("0")) {
                return MemorySegment.ofArray(new byte[16]);
            }
            throw site.malformed("no record " + key);
        }, false, Set.of("mymod.Thing"), SMALL);
    }

    /** Loads {@code pickle}, asserting the outcome is a result or a library exception, in time. */
    static String loadsOrFailsCleanly(byte[] pickle) {
        long start = System.nanoTime();
        String outcome = "escaped";
        try {
            Unpickler.Result r = Unpickler.load(MemorySegment.ofArray(pickle), 0, pickle.length, WHERE, host(), SMALL);
            assertTrue(r.end() > 0 && r.end() <= pickle.length, "end " + r.end());
            assertTrue(pickle[(int) r.end() - 1] == '.', "end is just past a STOP");
            walk(r.value());
            outcome = "loaded";
        } catch (CheckpointException e) {
            outcome = e.getClass().getSimpleName();
            assertTrue(e.getMessage().startsWith("fuzz.pkl: "), e.getMessage());
            assertTrue(e.pickleOffset() >= 0 && e.pickleOffset() < Math.max(1, pickle.length) + 1,
                    "offset " + e.pickleOffset() + " of " + pickle.length + ": " + e.getMessage());
        } catch (Throwable t) {
            fail("escaped for pickle " + java.util.HexFormat.of().formatHex(pickle) + ":\n" + Pickles.trace(t));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < MAX_MILLIS, "took " + millis + " ms: " + java.util.HexFormat.of().formatHex(pickle));
        return outcome;
    }

    /** Renders, hashes and compares everything reachable, as a caller would; none of it may fail. */
    private static void walk(Object root) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object> todo = new ArrayDeque<>();
        todo.add(root);
        while (!todo.isEmpty()) {
            Object v = todo.pop();
            if (!seen.add(v)) {
                continue;
            }
            String.valueOf(v);
            PyValues.shortRepr(v);
            PyValues.typeName(v);
            if (PyValues.isHashable(v)) {
                v.hashCode();
                assertTrue(v.equals(v));
            }
            switch (v) {
                case PyTuple t -> todo.addAll(t.items());
                case PyList l -> todo.addAll(l);
                case PySet s -> todo.addAll(s);
                case PyDict d -> {
                    todo.addAll(d.keySet());
                    todo.addAll(d.values());
                    todo.addAll(d.attributes().values());
                }
                case PyObject o -> {
                    todo.add(o.args());
                    todo.add(o.state());
                }
                default -> {
                }
            }
        }
    }

    // ---- properties -------------------------------------------------------------------------------

    @Property(tries = 5000)
    void randomOpcodeStreamsOnlyEverFailCleanly(@ForAll("streams") byte[] pickle) {
        Statistics.collect(loadsOrFailsCleanly(pickle));
        // the generator reaches deep states: a fair share of its pickles load, the rest fail in all four ways
        Statistics.coverage(c -> {
            c.check("loaded").count(n -> n >= 20);
            c.check("MalformedCheckpointException").percentage(p -> p >= 20);
            c.check("UnsafeCheckpointException").count(n -> n >= 10);
            c.check("UnsupportedGlobalException").count(n -> n >= 10);
            c.check("LimitExceededException").count(n -> n >= 3);
            c.check("UnsupportedCheckpointException").count(n -> n >= 3);
        });
    }

    /**
     * A pickle of native memory is read from a heap copy in pages (OperandReader.copying): with pages of 4 to 256
     * bytes, so that operands straddle pages everywhere, every random pickle loads to the same value, or fails
     * with the same exception and message, as from one array; the memo pass runs on both.
     */
    @Property(tries = 1500)
    void pickleCopiedInTinyPagesLoadsAsFromOneArray(@ForAll("streams") byte[] pickle,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 2, max = 8) int pageShift) {
        String whole = outcome(() -> Unpickler.load(java.lang.foreign.MemorySegment.ofArray(pickle), 0,
                pickle.length, Pickles.WHERE, Pickles.torchHost(), dev.weightsonly.LoadLimits.defaults(), 0));
        String paged;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment memory = arena.allocate(Math.max(1, pickle.length));
            java.lang.foreign.MemorySegment.copy(pickle, 0, memory, java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                    pickle.length);
            paged = outcome(() -> Unpickler.load(memory, 0, pickle.length, Pickles.WHERE, Pickles.torchHost(),
                    dev.weightsonly.LoadLimits.defaults(), 0, pageShift));
        }
        assertEquals(whole, paged);
    }

    private interface Load {
        Unpickler.Result run() throws dev.weightsonly.CheckpointException;
    }

    /** The value's full text, or the exception's class and message. */
    private static String outcome(Load load) {
        try {
            return "value " + String.valueOf(load.run().value());
        } catch (dev.weightsonly.CheckpointException | RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    @Property(tries = 1500)
    void mutatedValidPicklesOnlyEverFailCleanly(@ForAll("mutants") byte[] pickle) {
        Statistics.collect(loadsOrFailsCleanly(pickle));
        Statistics.coverage(c -> c.check("loaded").count(n -> n >= 5));
    }

    /** Seeds cut at opcode boundaries and put together again: instructions dropped, repeated, moved, grafted. */
    @Property(tries = 1500)
    void splicedPicklesOnlyEverFailCleanly(@ForAll("splices") byte[] pickle) {
        Statistics.collect(loadsOrFailsCleanly(pickle));
        Statistics.coverage(c -> c.check("loaded").count(n -> n >= 5));
    }

    @Provide
    Arbitrary<byte[]> splices() {
        Arbitrary<Integer> seedIndex = Arbitraries.integers().between(0, seeds().size() - 1);
        Arbitrary<Tuple.Tuple4<Integer, Integer, Integer, Integer>> edit = Combinators.combine(
                Arbitraries.integers().between(0, 3), Arbitraries.integers(), Arbitraries.integers(), seedIndex)
                .as(Tuple::of);
        return Combinators.combine(seedIndex, edit.list().ofMinSize(1).ofMaxSize(4))
                .as(UnpicklerFuzzProperties::splice);
    }

    private static byte[] splice(int seedIndex, List<Tuple.Tuple4<Integer, Integer, Integer, Integer>> edits) {
        byte[] pickle = seeds().get(seedIndex);
        for (Tuple.Tuple4<Integer, Integer, Integer, Integer> e : edits) {
            List<long[]> ops = new java.util.ArrayList<>(PickleOps.split(pickle, 0));
            if (ops.isEmpty()) {
                break;
            }
            int i = Math.floorMod(e.get2(), ops.size());
            int j = Math.floorMod(e.get3(), ops.size());
            switch (e.get1()) {
                case 0 -> ops.remove(i);
                case 1 -> ops.add(i, ops.get(j));
                case 2 -> java.util.Collections.swap(ops, i, j);
                default -> {
                    // graft a run of another seed's instructions at i
                    byte[] donor = seeds().get(e.get4());
                    List<long[]> theirs = PickleOps.split(donor, 0);
                    int from = Math.floorMod(e.get3(), theirs.size());
                    int to = Math.min(theirs.size(), from + 1 + Math.floorMod(e.get2(), 10));
                    pickle = b(PickleOps.join(pickle, ops.subList(0, i)), PickleOps.join(donor, theirs.subList(from, to)),
                            PickleOps.join(pickle, ops.subList(i, ops.size())));
                    continue;
                }
            }
            pickle = PickleOps.join(pickle, ops);
        }
        return pickle;
    }

    @Example
    void theMutationSeedsLoad() {
        for (byte[] seed : seeds()) {
            assertEquals("loaded", loadsOrFailsCleanly(seed));
        }
    }

    @Provide
    Arbitrary<byte[]> streams() {
        Arbitrary<byte[]> randomBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<byte[]> randomAfterProto = Combinators.combine(Arbitraries.integers().between(0, 6),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(200)).as((p, rest) -> b(0x80, p, rest));
        return Arbitraries.frequencyOf(
                Tuple.of(2, randomBytes),
                Tuple.of(1, randomAfterProto),
                Tuple.of(7, opcodeSequences()));
    }

    /** Sequences of valid opcodes with random (sometimes hostile) operands, usually ending in STOP. */
    private Arbitrary<byte[]> opcodeSequences() {
        Arbitrary<byte[]> prefix = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(0, 5).map(p -> b(0x80, p))),
                Tuple.of(1, Arbitraries.just(new byte[0])),
                Tuple.of(1, Arbitraries.integers().between(0, 300).map(n -> b(0x80, 4, 0x95, le64(n)))));
        Arbitrary<byte[]> body = chunk().list().ofMaxSize(60).map(UnpicklerFuzzProperties::concat);
        Arbitrary<byte[]> end = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(b('.'))),
                Tuple.of(1, Arbitraries.just(new byte[0])),
                Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(4)));
        return Combinators.combine(prefix, body, end).as((p, m, e) -> b(p, m, e));
    }

    private static final int[] NO_OPERAND = {'(', '0', '1', '2', 'N', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's',
            't', ')', 'u', 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0x98, 'Q'};

    private static final List<String[]> NAMES = List.of(
            new String[] {"collections", "OrderedDict"}, new String[] {"collections", "Counter"},
            new String[] {"__builtin__", "set"}, new String[] {"builtins", "bytearray"},
            new String[] {"__builtin__", "complex"}, new String[] {"_codecs", "encode"},
            new String[] {"torch._utils", "_rebuild_tensor_v2"}, new String[] {"torch._utils", "_rebuild_tensor"},
            new String[] {"torch._utils", "_rebuild_tensor_v3"}, new String[] {"torch._utils", "_rebuild_parameter"},
            new String[] {"torch._utils", "_rebuild_parameter_with_state"},
            new String[] {"torch._tensor", "_rebuild_from_type_v2"}, new String[] {"torch", "Tensor"},
            new String[] {"torch.nn.parameter", "Parameter"}, new String[] {"torch.serialization", "_get_layout"},
            new String[] {"torch", "FloatStorage"}, new String[] {"torch.storage", "UntypedStorage"},
            new String[] {"torch", "float32"}, new String[] {"torch", "Size"}, new String[] {"torch", "device"},
            new String[] {"torch._utils", "_rebuild_qtensor"}, new String[] {"torch", "per_tensor_affine"},
            new String[] {"torch._utils", "_rebuild_sparse_tensor"}, new String[] {"torch", "sparse_coo"},
            new String[] {"torch._utils", "_rebuild_wrapper_subclass"},
            new String[] {"torch._utils", "_rebuild_meta_tensor_no_storage"},
            new String[] {"torch._utils", "_rebuild_device_tensor_from_cpu_tensor"},
            new String[] {"torch", "quint8"}, new String[] {"torch", "qint8"}, new String[] {"torch", "int64"},
            new String[] {"os", "system"}, new String[] {"__builtin__", "eval"}, new String[] {"mymod", "Thing"},
            new String[] {"copy_reg", "_reconstructor"});

    private static final List<String> STRINGS = List.of("storage", "0", "1", "cpu", "cuda:0", "latin1", "utf-8",
            "rot13", "", "collections", "OrderedDict", "torch", "FloatStorage", "float32", "_metadata", "version",
            "conj", "neg", "torch.strided", "\u00e9", "\uD83D\uDE00", "mymod", "Thing", "os", "system");

    private static Arbitrary<byte[]> bytesUpTo(int n) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(n);
    }

    private static Arbitrary<byte[]> stringOperand() {
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(STRINGS).map(s -> s.getBytes(StandardCharsets.UTF_8))),
                Tuple.of(1, bytesUpTo(12)));
    }

    private static Arbitrary<byte[]> line(List<String> choices) {
        return Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.of(choices).map(s -> b(s, '\n'))),
                Tuple.of(1, bytesUpTo(10).map(x -> b(x, '\n'))));
    }

    private Arbitrary<byte[]> chunk() {
        Arbitrary<Integer> smallIndex = Arbitraries.integers().between(0, 6);
        Arbitrary<byte[]> names = Arbitraries.of(NAMES).map(n -> global(n[0], n[1]));
        Arbitrary<byte[]> tensor = Combinators.combine(Arbitraries.integers().between(0, 5),
                Arbitraries.longs().between(-1, 5).array(long[].class).ofMaxSize(3),
                Arbitraries.longs().between(-1, 5).array(long[].class).ofMaxSize(3))
                .as((offset, shape, stride) -> {
                    byte[] whole = PickleBuilder.bare()
                            .tensorV2("torch.FloatStorage", "0", 4, offset, shape, stride).bytes();
                    return whole;
                });
        return Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.of(toList(NO_OPERAND)).map(op -> b(op))),
                Tuple.of(1, Arbitraries.of(0x82, 0x83, 0x84, 0x97).map(op -> b(op, 1, 0, 0, 0))),
                Tuple.of(1, Arbitraries.just(b('.'))),
                Tuple.of(5, Arbitraries.integers().between(0, 255).map(v -> b('K', v))),
                Tuple.of(2, bytesUpTo(2).map(x -> b('M', x))),
                Tuple.of(2, Arbitraries.integers().map(v -> b('J', le32(v)))),
                Tuple.of(2, bytesUpTo(12).map(x -> b(0x8A, x.length, x))),
                Tuple.of(1, bytesUpTo(12).map(x -> b(0x8B, le32(x.length), x))),
                Tuple.of(1, Arbitraries.integers().map(n -> b(0x8B, le32(n)))),
                Tuple.of(2, Arbitraries.doubles().map(d -> b('G', Pickles.be64(d)))),
                Tuple.of(6, stringOperand().map(s -> b('X', le32(s.length), s))),
                Tuple.of(3, stringOperand().map(s -> b(0x8C, s.length, s))),
                Tuple.of(1, stringOperand().map(s -> b(0x8D, le64(s.length), s))),
                Tuple.of(1, stringOperand().map(s -> b('U', s.length, s))),
                Tuple.of(1, stringOperand().map(s -> b('T', le32(s.length), s))),
                Tuple.of(2, bytesUpTo(8).map(x -> b('C', x.length, x))),
                Tuple.of(1, bytesUpTo(8).map(x -> b('B', le32(x.length), x))),
                Tuple.of(1, bytesUpTo(8).map(x -> b(0x8E, le64(x.length), x))),
                Tuple.of(1, bytesUpTo(8).map(x -> b(0x96, le64(x.length), x))),
                Tuple.of(1, Combinators.combine(Arbitraries.of(0x8D, 0x8E, 0x96, 0x95), Arbitraries.longs())
                        .as((op, n) -> b(op, le64(n)))),
                Tuple.of(4, smallIndex.map(i -> b('q', i))),
                Tuple.of(4, smallIndex.map(i -> b('h', i))),
                Tuple.of(1, smallIndex.map(i -> b('r', le32(i)))),
                Tuple.of(1, smallIndex.map(i -> b('j', le32(i)))),
                Tuple.of(1, smallIndex.map(i -> b("p" + i + "\n"))),
                Tuple.of(1, smallIndex.map(i -> b("g" + i + "\n"))),
                Tuple.of(1, line(List.of("00", "01", "5", "-3", "99999999999999999999999", "1L", "+7", "0x10"))
                        .map(x -> b('I', x))),
                Tuple.of(1, line(List.of("12L", "-9L", "5", "L")).map(x -> b('L', x))),
                Tuple.of(1, line(List.of("1.5", "nan", "-inf", "1e-05", "1e400", "x")).map(x -> b('F', x))),
                Tuple.of(1, line(List.of("'abc'", "'\\x41\\n'", "\"q\"", "'\\377'", "bad", "'\\'"))
                        .map(x -> b('S', x))),
                Tuple.of(1, line(List.of("abc", "\\u00e9", "\\U0001F600", "\\ud800", "\\u12", "\\\\u0041"))
                        .map(x -> b('V', x))),
                Tuple.of(6, names),
                Tuple.of(2, Arbitraries.of(NAMES).map(n -> b('i', n[0], '\n', n[1], '\n'))),
                Tuple.of(1, line(List.of("('storage', <class 'torch.FloatStorage'>, '0', 'cpu', 4)",
                        "('storage', <class 'torch.FloatStorage'>, '1', 'cpu', 4)", "x", "(", "('module',)"))
                        .map(x -> b('P', x))),
                Tuple.of(1, Arbitraries.integers().between(0, 6).map(p -> b(0x80, p))),
                Tuple.of(1, Arbitraries.integers().between(0, 40).map(n -> b(0x95, le64(n)))),
                Tuple.of(3, Arbitraries.just(b('(', Pickles.str("storage"), global("torch", "FloatStorage"),
                        Pickles.str("0"), Pickles.str("cpu"), 'K', 4, 't', 'Q'))),
                Tuple.of(2, tensor));
    }

    private static List<Integer> toList(int[] ops) {
        return java.util.Arrays.stream(ops).boxed().toList();
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /** Valid pickles of several shapes, then a few random edits each. */
    @Provide
    Arbitrary<byte[]> mutants() {
        Arbitrary<byte[]> seed = Arbitraries.of(seeds());
        Arbitrary<List<Tuple.Tuple3<Integer, Integer, Integer>>> edits = Combinators.combine(
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 10_000),
                Arbitraries.integers().between(0, 255)).as(Tuple::of).list().ofMinSize(1).ofMaxSize(4);
        return Combinators.combine(seed, edits).as(UnpicklerFuzzProperties::mutate);
    }

    private static List<byte[]> seeds() {
        return List.of(
                b(0x80, 2, global("collections", "OrderedDict"), 'q', 0, ')', 'R', 'q', 1, '(', Pickles.str("w"),
                        PickleBuilder.bare().tensorV2("torch.FloatStorage", "0", 4, 0, new long[] {2, 2},
                                new long[] {2, 1}).bytes(), 'u', '}', Pickles.str("_metadata"), '}', 's', 'b', '.'),
                b(0x80, 4, 0x95, le64(30), 0x8C, 11, "collections", 0x94, 0x8C, 11, "OrderedDict", 0x94, 0x93,
                        0x94, ')', 'R', 0x94, '.'),
                b("(lp0\nI1\naF1.5\naS'a\\x41'\np1\naVb\\u00e9\nag1\na(dp2\nL12L\nNsa."),
                b(0x80, 2, '(', 'K', 1, 'K', 2, 0x86, 0x8F, '(', 'K', 3, 0x90, '(', 'K', 4, 0x91, ']', '(', 'K', 5,
                        '2', 'e', '}', 'K', 6, 'N', 's', 't', '.'),
                b(0x80, 2, global("__builtin__", "bytearray"), global("_codecs", "encode"), Pickles.str("\u00ff"),
                        Pickles.str("latin1"), 0x86, 'R', 0x85, 'R', global("builtins", "complex"), 'K', 1, 'K', 2,
                        0x86, 'R', 0x86, '.'),
                b(global("mymod", "Thing"), ')', 0x81, '}', 'U', 1, 'a', 'K', 1, 's', 'b', '.'));
    }

    private static byte[] mutate(byte[] seed, List<Tuple.Tuple3<Integer, Integer, Integer>> edits) {
        java.util.ArrayList<Byte> bytes = new java.util.ArrayList<>();
        for (byte x : seed) {
            bytes.add(x);
        }
        for (Tuple.Tuple3<Integer, Integer, Integer> edit : edits) {
            int at = bytes.isEmpty() ? 0 : edit.get2() % bytes.size();
            byte value = (byte) (int) edit.get3();
            switch (edit.get1()) {
                case 0 -> {
                    if (!bytes.isEmpty()) {
                        bytes.set(at, value);
                    }
                }
                case 1 -> bytes.add(at, value);
                case 2 -> {
                    if (!bytes.isEmpty()) {
                        bytes.remove(at);
                    }
                }
                default -> {
                    while (bytes.size() > at) {
                        bytes.removeLast();
                    }
                }
            }
        }
        byte[] out = new byte[bytes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes.get(i);
        }
        return out;
    }
}
