import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What the first touch of a page of a fresh mapping costs, against a positional read of the same bytes: the
 * cost a mapped load pays for each record's local header (docs/BENCHMARKS.md, "Where the time goes").
 *
 * <pre>java bench/PageTouch.java /tmp/weightsonly-bench/sd_1g.pt 4194304</pre>
 *
 * Alternately (200 times each): map the file, read one byte every STEP bytes from the mapping, unmap; or map
 * it, read 64 bytes every STEP bytes with FileChannel.read(buffer, position), unmap. Prints the medians.
 */
public class PageTouch {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        long step = Long.parseLong(args[1]);
        long[][] times = new long[2][200];
        long sink = 0;
        for (int r = 0; r < 400; r++) {
            int mode = r & 1;
            long start = System.nanoTime();
            try (FileChannel channel = FileChannel.open(path); Arena arena = Arena.ofShared()) {
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
                if (mode == 0) {
                    for (long at = 4096; at < mapped.byteSize(); at += step) {
                        sink += mapped.get(ValueLayout.JAVA_BYTE, at);
                    }
                } else {
                    ByteBuffer buffer = ByteBuffer.allocate(64);
                    for (long at = 4096; at < channel.size(); at += step) {
                        buffer.clear();
                        channel.read(buffer, at);
                        sink += buffer.get(0);
                    }
                }
            }
            times[mode][r / 2] = System.nanoTime() - start;
        }
        for (int mode = 0; mode < 2; mode++) {
            Arrays.sort(times[mode]);
            System.out.printf("%s: median %d us (map, %d reads, unmap)%n", mode == 0 ? "first touch of the mapping"
                    : "positional reads", times[mode][100] / 1000, (Path.of(args[0]).toFile().length() - 4096) / step + 1);
        }
        System.out.println(sink == 42 ? "" : "");
    }
}
