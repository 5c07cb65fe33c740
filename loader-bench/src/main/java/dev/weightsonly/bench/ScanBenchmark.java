package dev.weightsonly.bench;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.scan.GlobalScanner;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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

/**
 * {@code GlobalScanner.scan} of every file of a folder of small checkpoints ({@code scan_1000}, which
 * bench/make_files.py writes): the in-process counterpart of PyTorch 2.6's
 * {@code torch.serialization.get_unsafe_globals_in_checkpoint} over the same files (bench/time_scan.py). One
 * operation scans the whole folder; a file whose globals are all allowed is also loaded (mapped), as the scan
 * confirms a clean verdict.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ScanBenchmark {

    /** Folder of the files bench/make_files.py writes. */
    @Param("/tmp/weightsonly-bench")
    public String dir;

    /** The folder of checkpoints to scan, inside {@link #dir}. */
    @Param("scan_1000")
    public String folder;

    private List<Path> files;

    /**
     * Lists the folder's files, in name order.
     *
     * @throws IOException if the folder is missing or cannot be listed
     */
    @Setup
    public void listFiles() throws IOException {
        Path path = Path.of(dir, folder);
        if (!Files.isDirectory(path)) {
            throw new FileNotFoundException(path + " does not exist: write it with /usr/bin/python3"
                    + " bench/make_files.py --dir " + dir + " " + folder);
        }
        try (Stream<Path> list = Files.list(path)) {
            files = list.sorted().toList();
        }
    }

    /**
     * Scans every file of the folder.
     *
     * @param blackhole keeps the reports
     * @throws IOException if a file cannot be read
     */
    @Benchmark
    public void scanFolder(Blackhole blackhole) throws IOException {
        for (Path file : files) {
            blackhole.consume(GlobalScanner.scan(file, name -> false));
        }
    }

    /**
     * The floor issue 13 names for a scan: open every file, read it into memory (as the scan reads a small file)
     * and read its zip directory (end record and central directory, with every check a load makes), nothing
     * else; no pickle is walked and nothing is loaded.
     *
     * @param blackhole keeps the record counts
     * @throws IOException if a file cannot be read
     * @throws CheckpointException if a file is not a readable zip
     */
    @Benchmark
    public void openReadAndDirectory(Blackhole blackhole) throws IOException, CheckpointException {
        for (Path file : files) {
            try (Arena arena = Arena.ofConfined(); FileChannel channel = FileChannel.open(file)) {
                MemorySegment bytes = arena.allocate(channel.size(), 64);
                ByteBuffer buffer = bytes.asByteBuffer();
                while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0) {
                    // read to the end
                }
                blackhole.consume(ZipArchive.open(bytes, Location.of(file.toString()), LoadLimits.defaults())
                        .recordNames().size());
            }
        }
    }
}
