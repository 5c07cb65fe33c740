package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.SharedFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every subcommand on every file of the adversarial corpus and of the external compatibility corpus
 * ({@code ../shared/corpus/external}, beside the project as CI clones it): whatever the file, the exit status
 * is never 2 (that is for a wrong command line or an unreadable file, and every file here is readable), and
 * standard error never shows a Java exception's class name or a stack trace (issue 12, class 8).
 *
 * <p>A few adversarial files take seconds to refuse, at a load limit: for a file whose {@code inspect} takes
 * more than {@link #SLOW_MILLIS}, the subcommands that load it the same way (diff, verify, convert) are run
 * on it once (diff), not four times; scan and {@code inspect --json} still run.
 */
class CorpusExitStatusTest {

    private static final long SLOW_MILLIS = 2_000;
    private static final Pattern CLASS_NAME = Pattern.compile("\\b[A-Z][A-Za-z]*(Exception|Error)\\b|\\bjava\\.|\tat ");

    @TempDir
    Path tmp;

    static List<Path> corpus() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path dir : List.of(SharedFixtures.path("adversarial"),
                Paths.get("../../shared/corpus/external"))) {
            Path d = dir.toAbsolutePath().normalize();
            assertTrue(Files.isDirectory(d), "missing corpus " + d);
            try (Stream<Path> s = Files.walk(d)) {
                s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().matches("README.md|manifest.tsv"))
                        .sorted().forEach(files::add);
            }
        }
        return files;
    }

    @Test
    void noHostileFileGivesStatusTwoOrAnExceptionName() throws IOException {
        List<String> problems = new ArrayList<>();
        int runs = 0;
        List<Path> files = corpus();
        assertTrue(files.size() > 600, "corpus: " + files.size() + " files");
        for (Path file : files) {
            String f = file.toString();
            String st = tmp.resolve("out.safetensors").toString();
            String pt = tmp.resolve("out.pt").toString();
            long start = System.nanoTime();
            runs += check(problems, "inspect", f);
            boolean slow = (System.nanoTime() - start) / 1_000_000 > SLOW_MILLIS;
            runs += check(problems, "inspect", "--json", f);
            runs += check(problems, "scan", f);
            runs += check(problems, "diff", f, f);
            if (!slow) {
                runs += check(problems, "verify", f, "--against", f);
                runs += check(problems, "convert", "--shared", "copy", f, st);
                runs += check(problems, "convert", f, pt);
            }
            Files.deleteIfExists(Path.of(st));
            Files.deleteIfExists(Path.of(pt));
        }
        assertEquals(List.of(), problems, runs + " runs");
    }

    private static int check(List<String> problems, String... args) {
        Cli.Run r = Cli.run(args);
        if (r.status() == 2 || CLASS_NAME.matcher(r.err()).find()) {
            problems.add(String.join(" ", args) + " -> " + r.status() + ": " + r.err().strip());
        }
        return 1;
    }
}
