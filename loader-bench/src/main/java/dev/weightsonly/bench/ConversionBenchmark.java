package dev.weightsonly.bench;

import dev.weightsonly.tensors.BFloat16;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Float16;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * bfloat16 and float16 to float32, in bulk, on one thread, from native memory (as from a mapped file) into
 * a float array. GB/s of output is {@code 4 * elements / time}. {@code *Into} fill a preallocated array
 * (the conversion alone); {@code *ToFloatArray} go through {@link Tensor#toFloatArray()}, which allocates
 * the array as a user's call does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConversionBenchmark {

    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 16M elements (64 MiB of output: memory-bound) and 64K (256 KiB: in cache). */
    @Param({"16777216", "65536"})
    public int elements;

    private Arena arena;
    private MemorySegment bf16;
    private MemorySegment f16;
    private Tensor bf16Tensor;
    private Tensor f16Tensor;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        bf16 = arena.allocate(2L * elements, 64);
        f16 = arena.allocate(2L * elements, 64);
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < elements; i++) {
            // Weights-like values: mostly small normals, some exact zeros.
            float v = i % 97 == 0 ? 0f : (float) (random.nextDouble(-1, 1) * 0.05);
            bf16.set(LE_SHORT, 2L * i, BFloat16.fromFloat(v));
            f16.set(LE_SHORT, 2L * i, Float16.fromFloat(v));
        }
        bf16Tensor = Tensor.contiguousView(Storage.of(bf16, "bf16", "cpu"), DType.BFLOAT16, 0, elements);
        f16Tensor = Tensor.contiguousView(Storage.of(f16, "f16", "cpu"), DType.FLOAT16, 0, elements);
        out = new float[elements];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] bf16Into() {
        BFloat16.toFloat(bf16, 0, out, 0, elements);
        return out;
    }

    @Benchmark
    public float[] f16Into() {
        Float16.toFloat(f16, 0, out, 0, elements);
        return out;
    }

    @Benchmark
    public float[] bf16ToFloatArray() {
        return bf16Tensor.toFloatArray();
    }

    @Benchmark
    public float[] f16ToFloatArray() {
        return f16Tensor.toFloatArray();
    }
}
