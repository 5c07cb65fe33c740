package dev.weightsonly.bench;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Mapped loads of one file in a loop for a number of seconds, for a profiler (bench/profile.sh runs it under
 * JFR): {@code java -cp benchmarks.jar dev.weightsonly.bench.LoadLoop FILE SECONDS}. Prints the loads done and
 * the mean time of one.
 */
public final class LoadLoop {

    private LoadLoop() {
    }

    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[0]);
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 20;
        LoadOptions options = LoadOptions.defaults();
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long loads = 0;
        long tensors = 0;
        while (System.nanoTime() < end) {
            try (Checkpoint checkpoint = Checkpoint.load(path, options)) {
                tensors += checkpoint.tensorCount();
            }
            loads++;
        }
        double ms = (System.nanoTime() - start) / 1e6 / loads;
        System.out.printf("%s: %d loads (%d tensors each), %.3f ms per load%n", path.getFileName(), loads,
                tensors / Math.max(1, loads), ms);
    }
}
