import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a copying load from a stream costs apart from the loader (docs/BENCHMARKS.md, fourth pass): per round,
 * allocating native memory of the file's size (with its zeroing: the page faults), copying a
 * {@code Files.newInputStream} of the file into it through a 1 MiB heap array, reading the same stream into that
 * array only, reading the file's channel straight into the memory (already faulted in), and closing the arena.
 *
 * <pre>java bench/StreamCost.java /tmp/weightsonly-bench/sd_1g.pt</pre>
 */
public class StreamCost {
    public static void main(String[] args) throws Exception {
        Path p = Path.of(args[0]);
        long size = Files.size(p);
        for (int round = 0; round < 4; round++) {
            long t0 = System.nanoTime();
            Arena arena = Arena.ofShared();
            MemorySegment seg = arena.allocate(size, 64);
            long t1 = System.nanoTime();
            byte[] buf = new byte[1 << 20];
            long off = 0;
            try (InputStream in = Files.newInputStream(p)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    MemorySegment.copy(buf, 0, seg, ValueLayout.JAVA_BYTE, off, n);
                    off += n;
                }
            }
            long t2 = System.nanoTime();
            try (InputStream in = Files.newInputStream(p)) {
                while (in.read(buf) > 0) {
                    // only the read
                }
            }
            long t3 = System.nanoTime();
            try (FileChannel ch = FileChannel.open(p)) {
                long o = 0;
                while (o < size) {
                    int n = ch.read(seg.asSlice(o, Math.min(1 << 30, size - o)).asByteBuffer());
                    if (n < 0) {
                        break;
                    }
                    o += n;
                }
            }
            long t4 = System.nanoTime();
            arena.close();
            long t5 = System.nanoTime();
            System.out.printf("allocate and zero %d ms, stream -> heap array -> native %d ms, stream -> heap array only"
                    + " %d ms, channel -> native (faulted in) %d ms, close %d ms%n", (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000, (t5 - t4) / 1_000_000);
        }
    }
}
