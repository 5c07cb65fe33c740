package dev.weightsonly.bench;

import dev.weightsonly.Checkpoint;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A mapped load, {@code Checkpoint.load(Path)}: map the file, read the container and run the pickle, building
 * every tensor view, then close. No tensor byte is read. The steady-state counterpart of
 * {@code torch.load(f, weights_only=True)} (which reads every byte).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MappedLoadBenchmark extends CheckpointFileState {

    @Benchmark
    public int mappedLoad(Blackhole blackhole) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.load(path, options)) {
            blackhole.consume(checkpoint.root());
            return checkpoint.tensorCount();
        }
    }
}
