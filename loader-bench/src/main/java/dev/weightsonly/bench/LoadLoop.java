package dev.weightsonly.bench;

import com.sun.management.ThreadMXBean;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Loads of one file in a loop for a number of seconds, for a profiler (bench/profile.sh runs it under JFR) and
 * for a quick figure on a shared machine:
 * {@code java -cp benchmarks.jar dev.weightsonly.bench.LoadLoop FILE [SECONDS] [mapped|stream|bytes|buffered]}.
 *
 * <p>After a warm-up of a third of the time it prints, per load: the median and minimum wall time, the median
 * CPU time of the loading thread (which other processes on the machine disturb much less than wall time), the
 * bytes the loading thread allocated, and the share of the measured time the garbage collector's pauses took.
 * {@code mapped} is {@code Checkpoint.load(Path)}; {@code stream} a {@code FileInputStream}; {@code bytes} the
 * file's bytes already in an array; {@code buffered} {@code Files.newInputStream} (a stream the loader cannot
 * see through).
 */
public final class LoadLoop {

    private LoadLoop() {
    }

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[0]);
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 20;
        String mode = args.length > 2 ? args[2] : "mapped";
        LoadOptions options = LoadOptions.defaults();
        byte[] bytes = mode.equals("bytes") ? Files.readAllBytes(path) : null;
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long warmEnd = System.nanoTime() + seconds * 1_000_000_000L / 3;
        int tensors = 0;
        while (System.nanoTime() < warmEnd) {
            tensors = load(path, mode, bytes, options);
        }
        long[] wall = new long[1 << 16];
        long[] cpu = new long[wall.length];
        int loads = 0;
        long allocated = threads.getCurrentThreadAllocatedBytes();
        long gc = gcMillis();
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L * 2 / 3;
        while ((System.nanoTime() < end || loads < 3) && loads < wall.length) {
            long c = threads.getCurrentThreadCpuTime();
            long t = System.nanoTime();
            load(path, mode, bytes, options);
            wall[loads] = System.nanoTime() - t;
            cpu[loads] = threads.getCurrentThreadCpuTime() - c;
            loads++;
        }
        long elapsed = System.nanoTime() - start;
        allocated = threads.getCurrentThreadAllocatedBytes() - allocated;
        gc = gcMillis() - gc;
        long[] w = Arrays.copyOf(wall, loads);
        long[] u = Arrays.copyOf(cpu, loads);
        Arrays.sort(w);
        Arrays.sort(u);
        System.out.printf("%s %s: %d loads (%d tensors each): median %.3f ms, min %.3f ms, cpu median %.3f ms, cpu p10 %.3f ms;"
                + " allocated %d bytes per load (%d per tensor); GC pauses %.1f%% of the time%n",
                path.getFileName(), mode, loads, tensors, w[loads / 2] / 1e6, w[0] / 1e6, u[loads / 2] / 1e6, u[loads / 10] / 1e6,
                allocated / loads, allocated / loads / Math.max(1, tensors), 100.0 * gc * 1e6 / elapsed);
    }

    private static int load(Path path, String mode, byte[] bytes, LoadOptions options) throws IOException {
        Checkpoint checkpoint = switch (mode) {
            case "mapped" -> Checkpoint.load(path, options);
            case "bytes" -> Checkpoint.load(bytes, path.toString(), options);
            case "stream" -> {
                try (InputStream in = new FileInputStream(path.toFile())) {
                    yield Checkpoint.load(in, path.toString(), options);
                }
            }
            case "buffered" -> {
                try (InputStream in = Files.newInputStream(path)) {
                    yield Checkpoint.load(in, path.toString(), options);
                }
            }
            default -> throw new IllegalArgumentException("mode: mapped, stream, bytes or buffered, not " + mode);
        };
        try (checkpoint) {
            return checkpoint.tensorCount();
        }
    }

    private static long gcMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            // G1's "Concurrent GC" bean counts concurrent cycles, which pause no thread
            if (!gc.getName().contains("Concurrent")) {
                sum += Math.max(0, gc.getCollectionTime());
            }
        }
        return sum;
    }
}
