package dev.weightsonly.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

/**
 * The floor of a copying load measured from Java: {@code cat FILE > /dev/null} done by the JVM (the file read
 * from the page cache through one reused 128 KiB buffer, nothing kept).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ReadBaselineBenchmark {

    @Param("/tmp/weightsonly-bench")
    public String dir;

    @Param({"sd_1g.pt"})
    public String file;

    private Path path;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(128 << 10);

    @Setup
    public void setup() throws IOException {
        path = BenchFiles.existing(dir, file);
    }

    @Benchmark
    public long catToDevNull() throws IOException {
        long total = 0;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            int n;
            while ((n = channel.read(buffer.clear())) > 0) {
                total += n;
            }
        }
        return total;
    }
}
