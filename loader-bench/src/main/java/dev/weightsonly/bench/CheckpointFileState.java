package dev.weightsonly.bench;

import dev.weightsonly.LoadOptions;
import java.io.IOException;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** What every load benchmark is parameterised by: the file, in the folder bench/make_files.py writes, and the limits. */
@State(Scope.Benchmark)
public abstract class CheckpointFileState {

    /** Folder of the files bench/make_files.py writes. */
    @Param("/tmp/weightsonly-bench")
    public String dir;

    @Param({"sd_1g.pt"})
    public String file;

    /** 0: the default limits; otherwise maxMemoEntries set to this (see {@link BenchFiles#options}). */
    @Param("0")
    public int maxMemoEntries;

    protected Path path;
    protected LoadOptions options;

    @Setup
    public void findFile() throws IOException {
        path = BenchFiles.existing(dir, file);
        options = BenchFiles.options(maxMemoEntries);
    }
}
