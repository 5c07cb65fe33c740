package dev.weightsonly.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Times a state dict into DJL arrays, four ways, in one JVM, and reports resident memory: {@code mapped}
 * ({@link DjlCheckpoint}: arrays over the mapped file, no weight read), {@code mapped-read} (the same, then every
 * array read once by the engine, as a first forward pass reads it), {@code copy} ({@link NDArrays#copyAll}: one copy into
 * direct buffers) and {@code arrays} (the usual DJL route: {@code tensor.toFloatArray()} then
 * {@code manager.create(float[], shape)}). Not a test: bench/djl.sh runs it (see docs/BENCHMARKS.md).
 *
 * <p>Arguments: FILE MODE [REPETITIONS]. Prints the median time of REPETITIONS loads after 3 warm-up loads, and the
 * growth of resident memory over the first load (in a fresh JVM) while its arrays are alive.
 */
public final class DjlImportBench {

    private DjlImportBench() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        String mode = args[1];
        int repetitions = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        long[] nanos = new long[repetitions];
        long rssGrowth = 0;
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            for (int i = -3; i < repetitions; i++) {
                long rssBefore = residentKiB();
                long start = System.nanoTime();
                long elements = switch (mode) {
                    case "mapped" -> mapped(file, manager, false);
                    case "mapped-read" -> mapped(file, manager, true);
                    case "copy" -> copy(file, manager, false);
                    case "arrays" -> copy(file, manager, true);
                    default -> throw new IllegalArgumentException("mode: mapped, mapped-read, copy or arrays");
                };
                long took = System.nanoTime() - start;
                if (i >= 0) {
                    nanos[i] = took;
                }
                if (i == -3) {
                    // the first load of a fresh JVM: later ones reuse memory freed by earlier ones
                    rssGrowth = residentGrowth[0] - rssBefore;
                }
                if (elements <= 0) {
                    throw new AssertionError("no elements");
                }
            }
        }
        Arrays.sort(nanos);
        System.out.printf("%s %s: median %.1f ms (min %.1f, max %.1f) over %d loads; resident memory +%d MiB while the"
                + " arrays live%n", file.getFileName(), mode, nanos[repetitions / 2] / 1e6, nanos[0] / 1e6,
                nanos[repetitions - 1] / 1e6, repetitions, rssGrowth / 1024);
    }

    /** VmRSS sampled while the arrays of the load being timed were alive. */
    private static final long[] residentGrowth = new long[1];

    /**
     * Opens the file as arrays over its mapping; with {@code read}, the engine then reads every array once (a sum),
     * so the pages are faulted in: opening alone touches no weight, which is the point, but a model reads them all
     * at its first forward pass, and that cost belongs beside the copies'.
     */
    private static long mapped(Path file, NDManager manager, boolean read) throws IOException {
        try (DjlCheckpoint weights = DjlCheckpoint.open(file, manager)) {
            long elements = weights.arrays().values().stream().mapToLong(NDArray::size).sum();
            if (read) {
                double sum = 0;
                for (NDArray array : weights.arrays().values()) {
                    try (NDArray total = array.sum()) {
                        sum += total.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
                    }
                }
                if (Double.isNaN(sum)) {
                    elements = -elements;   // keeps the sums live; a NaN weight fails the run below
                }
            }
            residentGrowth[0] = residentKiB();
            return elements;
        }
    }

    private static long copy(Path file, NDManager parent, boolean viaJavaArrays) throws IOException {
        try (NDManager manager = parent.newSubManager(); Checkpoint checkpoint = Checkpoint.load(file)) {
            long elements = 0;
            if (viaJavaArrays) {
                for (Map.Entry<String, Tensor> entry : checkpoint.stateDict().asMap().entrySet()) {
                    NDArray array = manager.create(entry.getValue().toFloatArray(), new Shape(entry.getValue().shape()));
                    elements += array.size();
                }
            } else {
                elements = NDArrays.copyAll(manager, checkpoint.stateDict().asMap()).values().stream()
                        .mapToLong(NDArray::size).sum();
            }
            residentGrowth[0] = residentKiB();
            return elements;
        }
    }

    private static long residentKiB() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
    }
}
