package dev.weightsonly.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays every seed (and every committed crash input) of the Jazzer targets through the same target code,
 * without Jazzer: Jazzer's agent needs more heap than the 64 MiB this runs with (loader-core's small-heap
 * execution), so this is where the seeds prove they load or fail cleanly on a small heap. {@link LoaderFuzzTest}
 * itself replays them under Jazzer in the fuzz execution, and fuzzes with JAZZER_FUZZ=1.
 */
class FuzzSeedReplayTest {

    static Path inputs() {
        Path p = Paths.get("src/test/resources/dev/weightsonly/fuzz/LoaderFuzzTestInputs");
        if (!Files.isDirectory(p)) {
            p = Paths.get("loader-core/src/test/resources/dev/weightsonly/fuzz/LoaderFuzzTestInputs");
        }
        return p.toAbsolutePath();
    }

    static Stream<Arguments> seeds() throws IOException {
        List<String> targets = List.of("unpickler", "checkpoint", "legacyAndTar", "scanner");
        try (Stream<Path> folders = Files.list(inputs())) {
            assertTrue(folders.map(f -> f.getFileName().toString()).allMatch(targets::contains),
                    "a seed folder per target, named as the target");
        }
        return targets.stream().flatMap(target -> {
            try (Stream<Path> files = Files.list(inputs().resolve(target))) {
                List<Path> seeds = files.sorted().toList();
                assertTrue(seeds.size() >= 5, target + " has seeds");
                return seeds.stream().map(f -> Arguments.of(target, f.getFileName().toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("seeds")
    void seedReplaysCleanly(String target, String seed) throws IOException {
        byte[] data = Files.readAllBytes(inputs().resolve(target).resolve(seed));
        LoaderFuzzTest targets = new LoaderFuzzTest();
        switch (target) {
            case "unpickler" -> targets.unpickler(data);
            case "checkpoint" -> targets.checkpoint(data);
            case "legacyAndTar" -> targets.legacyAndTar(data);
            default -> targets.scanner(data);
        }
    }
}
