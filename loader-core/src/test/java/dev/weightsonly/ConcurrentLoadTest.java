package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sixteen threads load the same and different files (zip, legacy stream, 0.1.x tar; files that load and files
 * that are refused), mapped and from byte arrays, some inside {@link SafeGlobals} scopes, round after round. Every
 * result equals the single-threaded one: a scope allows a global on its own thread only (torch's
 * {@code safe_globals} leaked across threads), a malformed sparse tensor is refused whoever else loads what
 * (torch's process-wide sparse validation queue, GHSA-pxpx-v6rm-5jqf), and nothing of one load is cached for
 * another. Afterwards no file handle and no mapping of the files is left (/proc/self/fd, /proc/self/maps).
 */
class ConcurrentLoadTest {

    private static final int THREADS = 16;
    private static final int ROUNDS = 40;
    private static final String FAIRSEQ = "fairseq.data.dictionary.Dictionary";

    @TempDir
    Path dir;

    /** One kind of load: a file, mapped or copied, inside a scope allowing fairseq's Dictionary or not. */
    record Job(Path file, boolean mapped, boolean scoped) {
    }

    private List<Path> files() throws IOException {
        List<Path> sources = new ArrayList<>();
        for (String f : List.of("sd_linear", "views", "sd_embedding_tied", "fairseq_dictionary", "legacy_state_dict",
                "legacy_views", "sparse", "quantized")) {
            sources.add(Fixtures.file(f));
        }
        sources.add(Fixtures.dir().resolve("tar/tar_checkpoint.pt"));
        for (String f : List.of("B12_sparse_index_outside.pt", "D22a_tied_views.pt", "E06a_second_pickle.pt",
                "C08b_global_laughs_ordereddict.pt", "D21c_legacy_key_missing.pt", "F04c_tar.pt")) {
            sources.add(AdversarialCorpusTest.dir().resolve(f));
        }
        List<Path> copies = new ArrayList<>();
        for (Path source : sources) {
            Path copy = dir.resolve(source.getFileName());
            Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
            copies.add(copy);
        }
        return copies;
    }

    /** What one load gives, as a string that two equal results share: the dump, or the refusal. */
    @SuppressWarnings("try") // the scope is open for the load; its body does not name it
    private static String outcome(Job job) {
        try (SafeGlobals.Scope scope = job.scoped() ? SafeGlobals.scope(FAIRSEQ) : SafeGlobals.scope()) {
            try (Checkpoint c = job.mapped() ? Checkpoint.load(job.file())
                    : Checkpoint.load(Files.readAllBytes(job.file()), job.file().toString())) {
                return "loaded " + c.tensorCount() + " " + c.storageCount() + " "
                        + CanonicalDump.toJson(c.root(), c.limits().maxNestingDepth(), 100_000, 1L << 20);
            } catch (CheckpointException e) {
                return e.getClass().getSimpleName() + ": " + e.getMessage();
            } catch (IllegalArgumentException e) {
                return "dump refused: " + e.getMessage();
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void concurrentLoadsGiveTheSingleThreadedResultsAndReleaseEverything() throws Exception {
        List<Path> files = files();
        List<Job> jobs = new ArrayList<>();
        for (Path f : files) {
            for (boolean mapped : new boolean[] {true, false}) {
                for (boolean scoped : new boolean[] {false, true}) {
                    jobs.add(new Job(f, mapped, scoped));
                }
            }
        }
        Map<Job, String> expected = new LinkedHashMap<>();
        for (Job job : jobs) {
            expected.put(job, outcome(job));
        }
        // The results this test relies on: fairseq loads in a scope only, B12 is refused, the rest as they are.
        Path fairseq = dir.resolve("fairseq_dictionary.pt");
        assertTrue(expected.get(new Job(fairseq, true, true)).startsWith("loaded"));
        assertTrue(expected.get(new Job(fairseq, true, false)).startsWith("UnsupportedGlobalException"));
        assertTrue(expected.get(new Job(dir.resolve("B12_sparse_index_outside.pt"), true, false))
                .contains("is outside the size 3"));
        assertTrue(expected.get(new Job(dir.resolve("tar_checkpoint.pt"), true, false)).startsWith("loaded"));
        assertTrue(expected.get(new Job(dir.resolve("legacy_views.pt"), false, false)).startsWith("loaded"));
        assertEquals(0, handlesOn(dir), "no file handle is kept by a load");
        assertEquals(0, mappingsOf(dir), "every mapping ends with its checkpoint");

        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        Map<String, Integer> mismatches = new ConcurrentHashMap<>();
        AtomicInteger loads = new AtomicInteger();
        try {
            for (int round = 0; round < ROUNDS; round++) {
                CyclicBarrier start = new CyclicBarrier(THREADS);
                List<Future<?>> running = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    // Half the threads load the same file this round, the others different ones.
                    Job job = jobs.get(t % 2 == 0 ? (round * 7) % jobs.size() : (round * THREADS + t) % jobs.size());
                    running.add(pool.submit(() -> {
                        start.await(30, TimeUnit.SECONDS);
                        String got = outcome(job);
                        loads.incrementAndGet();
                        if (!got.equals(expected.get(job))) {
                            mismatches.merge(job + ": " + got.substring(0, Math.min(200, got.length())), 1,
                                    Integer::sum);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        }
        assertEquals(Map.of(), mismatches);
        assertEquals(THREADS * ROUNDS, loads.get());
        assertEquals(0, handlesOn(dir), "file handles left open on the checkpoints");
        assertEquals(0, mappingsOf(dir), "mappings of the checkpoints left after every checkpoint was closed");
        // Only handles on the checkpoints are counted: the process's total varies with what the JVM and the test
        // runner open meanwhile (class files, reports), which made a total-count check fail on a loaded machine.
        // The allowlist of a scope never outlived it on any pool thread.
        assertEquals(expected.get(new Job(fairseq, true, false)), outcome(new Job(fairseq, true, false)));
    }

    /** Open file descriptors of this process that point into {@code folder}. */
    private static long handlesOn(Path folder) throws IOException {
        String prefix = folder.toRealPath().toString();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith(prefix);
                } catch (IOException | UnsupportedOperationException gone) {
                    return false; // closed while listing
                }
            }).count();
        }
    }

    /** Lines of /proc/self/maps that map a file in {@code folder}. */
    private static long mappingsOf(Path folder) throws IOException {
        String prefix = folder.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(prefix)).count();
    }
}
