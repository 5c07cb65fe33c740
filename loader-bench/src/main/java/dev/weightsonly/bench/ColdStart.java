package dev.weightsonly.bench;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;

/**
 * The first load in a fresh JVM: {@code ColdStart FILE} maps and loads FILE once (every view built, no
 * tensor byte read), closes it and prints one JSON line with the time from {@code main} to the end of that
 * load. {@code bench/run.sh} times the whole process around it, JVM start included.
 *
 * <p>{@code --max-memo N} before FILE raises {@code maxMemoEntries} to N (see {@link BenchFiles#options}).
 *
 * <p>{@code ColdStart --heap FILE} measures the heap instead: bytes this thread allocated during the
 * load (an upper bound on how much the heap can grow) and the heap still in use after a full GC with the
 * checkpoint open (what the load keeps). For a mapped load neither depends on the size of the file.
 */
public final class ColdStart {

    private ColdStart() {
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        boolean heap = false;
        int maxMemo = 0;
        int i = 0;
        for (; i < args.length - 1; i++) {
            switch (args[i]) {
                case "--heap" -> heap = true;
                case "--max-memo" -> maxMemo = Integer.parseInt(args[++i]);
                default -> i = args.length;
            }
        }
        if (i != args.length - 1) {
            System.err.println("usage: ColdStart [--heap] [--max-memo N] FILE");
            System.exit(2);
        }
        Path file = Path.of(args[i]);
        LoadOptions options = BenchFiles.options(maxMemo);
        if (!heap) {
            int tensors;
            try (Checkpoint checkpoint = Checkpoint.load(file, options)) {
                tensors = checkpoint.tensorCount();
            }
            long nanos = System.nanoTime() - start;
            System.out.printf("{\"file\": \"%s\", \"tensors\": %d, \"first_load_ms\": %.1f}%n", file, tensors,
                    nanos / 1e6);
            return;
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        try (Checkpoint checkpoint = Checkpoint.load(file, options)) {
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            System.gc();
            long retained = memory.getHeapMemoryUsage().getUsed() - before;
            System.out.printf("{\"file\": \"%s\", \"tensors\": %d, \"allocated_bytes\": %d, \"retained_bytes\": %d,"
                    + " \"max_heap_bytes\": %d}%n", file, checkpoint.tensorCount(), allocated, retained,
                    Runtime.getRuntime().maxMemory());
        }
    }
}
