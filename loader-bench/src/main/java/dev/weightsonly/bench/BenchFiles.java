package dev.weightsonly.bench;

import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the benchmark files are. */
final class BenchFiles {

    private BenchFiles() {
    }

    /**
     * The load options of a benchmark: the defaults, or with {@code maxMemoEntries} set when it is positive
     * (bench/run.sh says when it sets it; the default, 10 million, holds a checkpoint of 1 million tensors).
     */
    static LoadOptions options(int maxMemoEntries) {
        if (maxMemoEntries <= 0) {
            return LoadOptions.defaults();
        }
        return LoadOptions.builder().limits(LoadLimits.builder().maxMemoEntries(maxMemoEntries).build()).build();
    }

    static Path existing(String dir, String file) throws FileNotFoundException {
        Path path = Path.of(dir, file);
        if (!Files.isRegularFile(path)) {
            throw new FileNotFoundException(path + " does not exist: write the files with"
                    + " /usr/bin/python3 bench/make_files.py --dir " + dir);
        }
        return path;
    }
}
