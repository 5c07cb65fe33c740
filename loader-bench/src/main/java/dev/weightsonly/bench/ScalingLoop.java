package dev.weightsonly.bench;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two threads against one, interleaved in one JVM: phases of one thread and of two threads, each thread loading the
 * two files in turn, alternate (after a warm-up of both), and the scaling is the median over the
 * rounds of each round's two-thread throughput over its one-thread throughput. On a machine whose load from other processes drifts, phases
 * run minutes apart in separate JVMs (as {@link ConcurrentLoadBenchmark}'s {@code -t 1} and {@code -t 2} runs are)
 * measure the drift as much as the scaling; interleaved phases a few seconds long see the same machine.
 *
 * <pre>java -cp benchmarks.jar dev.weightsonly.bench.ScalingLoop FILE1 FILE2 [SECONDS_PER_PHASE] [ROUNDS]</pre>
 *
 * Prints one line per round and a JSON line: {"files", "one" and "two" (median loads per second), "scaling" (the
 * median of the rounds' ratios), "rounds"}.
 */
public final class ScalingLoop {

    private ScalingLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path[] files = {Path.of(args[0]), Path.of(args[1])};
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 3;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 7;
        LoadOptions options = LoadOptions.defaults();
        phase(files, 1, seconds * 2, options); // warm-up: the JIT and the heap, alone and together
        phase(files, 2, seconds * 2, options);
        double[] one = new double[rounds];
        double[] two = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            // the order alternates too, so that neither side always follows the other
            if (r % 2 == 0) {
                one[r] = phase(files, 1, seconds, options);
                two[r] = phase(files, 2, seconds, options);
            } else {
                two[r] = phase(files, 2, seconds, options);
                one[r] = phase(files, 1, seconds, options);
            }
            System.out.printf("round %d: one thread %.1f loads/s, two threads %.1f loads/s, %.2fx%n", r + 1, one[r],
                    two[r], two[r] / one[r]);
        }
        double[] ratios = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            ratios[r] = two[r] / one[r]; // the two phases of a round are seconds apart: drift cancels in their ratio
        }
        System.out.printf("{\"files\": \"%s+%s\", \"one\": %.2f, \"two\": %.2f, \"scaling\": %.3f, \"rounds\": %d}%n",
                files[0].getFileName(), files[1].getFileName(), median(one), median(two), median(ratios), rounds);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * Loads per second over {@code seconds} with {@code threads} threads, each loading the two files in turn (thread
     * i starting with file i), so that one load is the same work alone and beside another: neither phase gains
     * from loading one file again and again.
     */
    private static double phase(Path[] files, int threads, double seconds, LoadOptions options) throws Exception {
        AtomicLong loads = new AtomicLong();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        long[] window = new long[2];
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int index = t;
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                    long end = System.nanoTime() + (long) (seconds * 1e9);
                    int next = index;
                    while (System.nanoTime() < end) {
                        try (Checkpoint checkpoint = Checkpoint.load(files[next], options)) {
                            if (checkpoint.tensorCount() < 0) {
                                throw new AssertionError();
                            }
                        }
                        loads.incrementAndGet();
                        next = 1 - next; // every thread alternates, so that a load does the same work in both phases
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            worker.start();
            workers.add(worker);
        }
        start.await();
        window[0] = System.nanoTime();
        for (Thread worker : workers) {
            worker.join();
        }
        window[1] = System.nanoTime();
        return loads.get() / ((window[1] - window[0]) / 1e9);
    }
}
