import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What a mapping costs without any loader code, on one thread and on two: map a file into an arena, read its
 * last byte, close the arena (which unmaps it). A mapped checkpoint must be readable from any thread, so its
 * arena is shared, and closing a shared arena makes the JVM hand-shake with every Java thread to be sure none
 * is reading the memory (docs/BENCHMARKS.md, "Two threads").
 *
 * <pre>java bench/ArenaClose.java /tmp/weightsonly-bench/sd_1g.pt /tmp/weightsonly-bench/sd_1g_copy.pt 5</pre>
 *
 * For a shared and a confined arena, one thread on the first file and then two threads (one per file), each
 * for SECONDS after a warm-up of the same length: prints the map-read-close cycles per second and the scaling.
 */
public class ArenaClose {

    /** The last byte read, so that the read is not optimised away. */
    static volatile byte sink;

    public static void main(String[] args) throws Exception {
        Path[] files = {Path.of(args[0]), Path.of(args[1])};
        long seconds = Long.parseLong(args[2]);
        for (boolean shared : new boolean[] {true, false}) {
            double one = 0;
            for (int threads = 1; threads <= 2; threads++) {
                run(files, threads, shared, seconds); // warm-up
                double rate = run(files, threads, shared, seconds);
                if (threads == 1) {
                    one = rate;
                }
                System.out.printf("%-8s arena, %d thread%s: %,9.0f map-read-close cycles/s%s%n",
                        shared ? "shared" : "confined", threads, threads == 1 ? " " : "s", rate,
                        threads == 1 ? "" : String.format(" (%.2fx one thread)", rate / one));
            }
        }
    }

    private static double run(Path[] files, int threads, boolean shared, long seconds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Future<Long>> counts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Path file = files[t];
            counts.add(pool.submit(() -> {
                long n = 0;
                try (FileChannel channel = FileChannel.open(file)) {
                    long size = channel.size();
                    while (System.nanoTime() < end) {
                        try (Arena arena = shared ? Arena.ofShared() : Arena.ofConfined()) {
                            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                            sink = mapped.get(ValueLayout.JAVA_BYTE, size - 1); // the page is touched
                            n++;
                        }
                    }
                }
                return n;
            }));
        }
        long total = 0;
        for (Future<Long> count : counts) {
            total += count.get();
        }
        pool.shutdown();
        return total / (double) seconds;
    }
}
