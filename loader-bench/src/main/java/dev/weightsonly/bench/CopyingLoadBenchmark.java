package dev.weightsonly.bench;

import dev.weightsonly.Checkpoint;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Copying loads: every byte of the file is copied into memory the checkpoint owns, as {@code torch.load}
 * copies every storage. {@link #streamLoad} reads the file (from the page cache) through a
 * {@code FileInputStream} (for a zip checkpoint: a temporary mapping, the storages copied in parallel), so it
 * is the whole of what {@code torch.load(path)} does;
 * {@link #filesStreamLoad} through {@code Files.newInputStream} (one more copy, through a heap buffer, and
 * past 2 GiB no exact size); {@link #byteArrayLoad} starts from the bytes already in a Java array (files
 * under 2 GiB only).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CopyingLoadBenchmark extends CheckpointFileState {

    @Benchmark
    public int streamLoad(Blackhole blackhole) throws IOException {
        try (InputStream in = new FileInputStream(path.toFile());
                Checkpoint checkpoint = Checkpoint.load(in, file, options)) {
            blackhole.consume(checkpoint.root());
            return checkpoint.tensorCount();
        }
    }

    @Benchmark
    public int filesStreamLoad(Blackhole blackhole) throws IOException {
        try (InputStream in = Files.newInputStream(path); Checkpoint checkpoint = Checkpoint.load(in, file, options)) {
            blackhole.consume(checkpoint.root());
            return checkpoint.tensorCount();
        }
    }

    /** The file's bytes in a heap array, read once per trial; the load copies them. */
    @State(Scope.Benchmark)
    public static class Bytes {
        byte[] bytes;

        @Setup(Level.Trial)
        public void read(CopyingLoadBenchmark benchmark) throws IOException {
            bytes = Files.readAllBytes(benchmark.path);
        }

        @TearDown(Level.Trial)
        public void release() {
            bytes = null;
        }
    }

    @Benchmark
    public int byteArrayLoad(Bytes bytes, Blackhole blackhole) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.load(bytes.bytes, file, options)) {
            blackhole.consume(checkpoint.root());
            return checkpoint.tensorCount();
        }
    }
}
