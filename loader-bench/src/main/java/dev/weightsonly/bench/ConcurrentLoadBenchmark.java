package dev.weightsonly.bench;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Mapped loads from several threads, each thread loading its own checkpoint ({@code files}, separated by
 * {@code +}; thread i loads file i modulo their number). Run with {@code -t 1} and {@code -t 2}: JMH sums the
 * threads' throughput, so the ratio of the two scores is the scaling of two threads over one (issue 13 asks
 * for at least 1.7x). With one thread, it loads the files in turn, so both runs load the same files.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConcurrentLoadBenchmark {

    /** Folder of the files bench/make_files.py writes. */
    @Param("/tmp/weightsonly-bench")
    public String dir;

    /** The checkpoints, separated by {@code +} (different files: bench/run.sh makes copies). */
    @Param("small_3000.pt+small_3000_copy.pt")
    public String files;

    private Path[] paths;
    private int next;
    private boolean alone;
    private final LoadOptions options = LoadOptions.defaults();

    @Setup
    public void findFiles(ThreadParams thread) throws IOException {
        String[] names = files.split("\\+");
        paths = new Path[names.length];
        for (int i = 0; i < names.length; i++) {
            paths[i] = BenchFiles.existing(dir, names[i]);
        }
        alone = thread.getThreadCount() == 1;
        next = thread.getThreadIndex() % paths.length;
    }

    @Benchmark
    public int load(Blackhole blackhole) throws IOException {
        Path path = paths[next];
        if (alone) {
            next = (next + 1) % paths.length;
        }
        try (Checkpoint checkpoint = Checkpoint.load(path, options)) {
            blackhole.consume(checkpoint.root());
            return checkpoint.tensorCount();
        }
    }
}
