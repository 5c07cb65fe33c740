package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SafeGlobals against a real PyTorch checkpoint that holds a fairseq-style Dictionary (gen_fixtures.py). */
class SafeGlobalsTest {

    static final String DICTIONARY = "fairseq.data.dictionary.Dictionary";
    static final Path FILE = Fixtures.file("fairseq_dictionary");

    /** What a Java service would build from the pickled Dictionary. */
    record Dictionary(List<String> symbols, List<Long> counts, Map<String, Long> indices, long bosIndex,
            long padIndex, long eosIndex, long unkIndex) {

        static Dictionary from(PyObject object) {
            PyDict state = (PyDict) object.state();
            List<String> symbols = new ArrayList<>();
            ((PyList) state.get("symbols")).forEach(s -> symbols.add((String) s));
            List<Long> counts = new ArrayList<>();
            ((PyList) state.get("count")).forEach(c -> counts.add((Long) c));
            Map<String, Long> indices = new java.util.LinkedHashMap<>();
            ((PyDict) state.get("indices")).forEach((k, v) -> indices.put((String) k, (Long) v));
            return new Dictionary(symbols, counts, indices, (Long) state.get("bos_index"),
                    (Long) state.get("pad_index"), (Long) state.get("eos_index"), (Long) state.get("unk_index"));
        }
    }

    @AfterEach
    void reset() {
        SafeGlobals.clear();
    }

    private static Object dictionaryOf(Checkpoint c) {
        return ((PyDict) c.root()).get("dict");
    }

    private static void assertRefused() {
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(FILE));
        assertEquals(DICTIONARY, e.globalName());
        assertTrue(e.getMessage().endsWith("Unsupported global: GLOBAL fairseq.data.dictionary.Dictionary was not"
                + " an allowed global by default. If you trust this class, allow it for the load:"
                + " LoadOptions.builder().allowGlobal(\"fairseq.data.dictionary.Dictionary\"), or for every load with"
                + " SafeGlobals.add(\"fairseq.data.dictionary.Dictionary\")."), e.getMessage());
        assertTrue(e.getMessage().startsWith(FILE + ": fairseq_dictionary/data.pkl: at pickle offset 199: "),
                e.getMessage());
    }

    @Test
    void refusedByDefaultWithTorchsWordingAndTheJavaRemedy() {
        assertRefused();
    }

    @Test
    void loadsInsideAScopeAsAnInertObjectEqualToPyTorchsDump() throws IOException {
        try (SafeGlobals.Scope scope = SafeGlobals.scope(DICTIONARY)) {
            assertEquals(Set.of(DICTIONARY), scope.names());
            try (Checkpoint c = Checkpoint.load(FILE)) {
                PyObject dict = assertInstanceOf(PyObject.class, dictionaryOf(c));
                assertEquals(DICTIONARY, dict.className());
                assertEquals(0, dict.args().size());
                String dump = CanonicalDump.toJson(c.root(), 1000, 1_000_000);
                assertNull(Json.firstDifference(Json.parse(dump), Json.parse(Fixtures.expectedJson("fairseq_dictionary"))));
            }
        }
        assertRefused();
    }

    @Test
    void processWideEntryUntilCleared() throws IOException {
        SafeGlobals.add(DICTIONARY);
        assertEquals(Set.of(DICTIONARY), SafeGlobals.get());
        try (Checkpoint c = Checkpoint.load(FILE)) {
            assertInstanceOf(PyObject.class, dictionaryOf(c));
        }
        SafeGlobals.clear();
        assertEquals(Set.of(), SafeGlobals.get());
        assertRefused();
    }

    @Test
    void factoryBuildsTheJavaRecordWithTheRightFields() throws IOException {
        SafeGlobals.add(DICTIONARY, Dictionary::from);
        try (Checkpoint c = Checkpoint.load(FILE)) {
            Dictionary d = assertInstanceOf(Dictionary.class, dictionaryOf(c));
            assertEquals(List.of("<s>", "<pad>", "</s>", "<unk>", "the", "cat", "sat", "mat"), d.symbols());
            assertEquals(List.of(1L, 1L, 1L, 1L, 3L, 1L, 1L, 1L), d.counts());
            assertEquals(4L, d.indices().get("the"));
            assertEquals(List.of(0L, 1L, 2L, 3L), List.of(d.bosIndex(), d.padIndex(), d.eosIndex(), d.unkIndex()));
            // The tensors beside it are untouched.
            assertEquals(List.of(8L, 3L), java.util.Arrays.stream(c.stateDict("model").tensor("embed").shape())
                    .boxed().toList());
        }
    }

    @Test
    void aFactoryThatThrowsRejectsTheCheckpointWithItsMessage() {
        SafeGlobals.add(DICTIONARY, o -> {
            throw new IllegalArgumentException("no symbols");
        });
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(FILE));
        assertTrue(e.getMessage().contains(DICTIONARY) && e.getMessage().contains("no symbols"), e.getMessage());
    }

    @Test
    void perLoadOptionNeedsNoSharedStateAndCanIgnoreIt() throws IOException {
        try (Checkpoint c = Checkpoint.load(FILE, LoadOptions.builder().allowGlobal(DICTIONARY).build())) {
            assertInstanceOf(PyObject.class, dictionaryOf(c));
        }
        SafeGlobals.add(DICTIONARY);
        LoadOptions isolated = LoadOptions.builder().sharedSafeGlobals(false).build();
        assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(FILE, isolated));
        try (Checkpoint c = Checkpoint.load(FILE, LoadOptions.builder().sharedSafeGlobals(false)
                .allowGlobal(DICTIONARY, Dictionary::from).build())) {
            assertInstanceOf(Dictionary.class, dictionaryOf(c));
        }
    }

    @Test
    void scopesNestAndEachCloseRestoresWhatWasThere() {
        SafeGlobals.add("a.A");
        try (var outer = SafeGlobals.scope("b.B")) {
            assertEquals(Set.of("a.A", "b.B"), SafeGlobals.effective());
            try (var inner = SafeGlobals.scope("c.C", "a.A")) {
                assertEquals(Set.of("a.A", "b.B", "c.C"), SafeGlobals.effective());
            }
            // Unlike torch's context manager, closing the inner scope keeps a.A, which was there before it.
            assertEquals(Set.of("a.A", "b.B"), SafeGlobals.effective());
        }
        assertEquals(Set.of("a.A"), SafeGlobals.effective());
    }

    @Test
    void aScopeClosedByAnExceptionRestoresTheAllowlist() {
        assertThrows(IllegalStateException.class, () -> {
            try (var scope = SafeGlobals.scope(DICTIONARY)) {
                assertEquals(Set.of(DICTIONARY), SafeGlobals.effective());
                throw new IllegalStateException("body failed");
            }
        });
        assertEquals(Set.of(), SafeGlobals.effective());
        assertRefused();
    }

    @Test
    void closingAnOuterScopeClosesTheInnerOnesAndClosingTwiceIsHarmless() {
        var outer = SafeGlobals.scope("b.B");
        var inner = SafeGlobals.scope("c.C");
        outer.close();
        assertEquals(Set.of(), SafeGlobals.effective());
        inner.close();
        outer.close();
        assertEquals(Set.of(), SafeGlobals.effective());
    }

    @Test
    void aScopeCannotBeClosedFromAnotherThread() throws Exception {
        var scope = SafeGlobals.scope("b.B");
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            Future<?> f = other.submit(scope::close);
            var e = assertThrows(java.util.concurrent.ExecutionException.class, f::get);
            assertInstanceOf(IllegalStateException.class, e.getCause());
        } finally {
            other.shutdown();
            scope.close();
        }
        assertEquals(Set.of(), SafeGlobals.effective());
    }

    @Test
    void aScopeIsSeenOnlyByItsOwnThread() throws Exception {
        int rounds = 200;
        CyclicBarrier together = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Integer> trusting = pool.submit(() -> {
                int loaded = 0;
                for (int i = 0; i < rounds; i++) {
                    try (var scope = SafeGlobals.scope(DICTIONARY)) {
                        together.await(10, TimeUnit.SECONDS);
                        try (Checkpoint c = Checkpoint.load(FILE)) {
                            loaded += dictionaryOf(c) instanceof PyObject ? 1 : 0;
                        }
                        together.await(10, TimeUnit.SECONDS);
                    }
                }
                return loaded;
            });
            Future<Integer> untrusting = pool.submit(() -> {
                int refused = 0;
                for (int i = 0; i < rounds; i++) {
                    together.await(10, TimeUnit.SECONDS);
                    try (Checkpoint c = Checkpoint.load(FILE)) {
                        throw new AssertionError("loaded without trust in round " + i);
                    } catch (UnsupportedGlobalException e) {
                        refused++;
                    }
                    together.await(10, TimeUnit.SECONDS);
                }
                return refused;
            });
            assertEquals(rounds, trusting.get(60, TimeUnit.SECONDS));
            assertEquals(rounds, untrusting.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"os.system", "posix.system", "nt.system", "sys.modules", "builtins.eval", "builtins.exec",
        "builtins.getattr", "builtins.__import__", "subprocess.Popen", "runpy._run_code", "pickle.loads",
        "marshal.loads", "importlib.import_module", "ctypes.CDLL", "torch.hub.load", "functools.partial",
        "torch.load"})
    void dangerousGlobalsAreRefusedAtRegistration(String name) {
        assertThrows(IllegalArgumentException.class, () -> SafeGlobals.add(name));
        assertThrows(IllegalArgumentException.class, () -> SafeGlobals.scope(name));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.builder().allowGlobal(name));
        assertEquals(Set.of(), SafeGlobals.effective());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Dictionary", "fairseq..Dictionary", "fairseq.data dictionary", "1abc.X"})
    void namesMustBeQualifiedPythonNames(String name) {
        assertThrows(IllegalArgumentException.class, () -> SafeGlobals.add(name));
    }

    @Test
    void unsafeGlobalsListsWhatALoadWouldRefuse() throws IOException {
        assertEquals(List.of(), SafeGlobals.unsafeGlobals(Fixtures.file("train_checkpoint")));
        assertEquals(List.of(DICTIONARY), SafeGlobals.unsafeGlobals(FILE));
        try (var scope = SafeGlobals.scope(DICTIONARY)) {
            assertEquals(List.of(), SafeGlobals.unsafeGlobals(FILE));
        }
        assertEquals(List.of("builtins.frozenset"), SafeGlobals.unsafeGlobals(Fixtures.file("frozenset_value")));
    }

    @Test
    void aLoadThatStartedInAScopeIsNotAffectedByOtherThreadsClosingTheirs() throws Exception {
        CountDownLatch opened = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (var scope = SafeGlobals.scope("x.Y")) {
                opened.countDown();
                done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        opened.await(10, TimeUnit.SECONDS);
        assertEquals(Set.of(), SafeGlobals.effective());
        done.countDown();
        t.join(10_000);
    }
}
