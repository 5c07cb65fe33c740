package dev.weightsonly.bench;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the benchmark files are. */
final class BenchFiles {

    private BenchFiles() {
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
