package dev.weightsonly.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the system Python ({@code /usr/bin/python3}, the one Debian's {@code python3-torch} installs into) on
 * the committed scripts. Tests that use it need real PyTorch and fail, never skip, when it is missing:
 * {@code .ci/run} installs it.
 */
public final class Python {

    public static final Path PYTHON = Paths.get("/usr/bin/python3");

    /** What a script printed and how it ended. */
    public record Run(int status, String out, String err) {
    }

    private Python() {
    }

    /** A test resource folder ({@code src/test/resources/<name>}) from the module or the repository root. */
    public static Path resources(String name) {
        Path p = Paths.get("src/test/resources", name);
        if (!Files.isDirectory(p)) {
            p = Paths.get("loader-core/src/test/resources", name);
        }
        return p.toAbsolutePath();
    }

    /** Runs {@code python3 args...}; the generous time bound only keeps a hung interpreter from hanging the build. */
    public static Run run(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(PYTHON.toString());
        command.addAll(args);
        return exec(command);
    }

    /** Runs a command (not only this Python: {@link Torch26} runs {@code tools/torch26} through it). */
    public static Run exec(List<String> command) {
        try {
            Path out = Files.createTempFile("python-out", ".txt");
            Path err = Files.createTempFile("python-err", ".txt");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(30, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new AssertionError("did not finish: " + command);
                }
                return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0) + " (install python3-torch and run"
                    + " tools/torch26 setup; .ci/run does)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Fails with a hint when PyTorch cannot be imported. */
    public static void requireTorch() {
        Run r = run(List.of("-c", "import torch; print(torch.__version__)"));
        if (r.status() != 0) {
            throw new AssertionError("these tests need real PyTorch for " + PYTHON + ": apt-get install -y"
                    + " python3-torch (.ci/run installs it). Python said: " + r.err());
        }
    }

    /** One file's outcome in PyTorch: its canonical dump, or the error torch.load raised. */
    public record Dump(JsonNode dump, String error) {
    }

    /**
     * Loads every file with real PyTorch ({@code torch.load(f, map_location="cpu")}) in one interpreter and
     * prints each one's canonical dump with the committed reference printer, dump_checkpoint.py.
     */
    public static Map<Path, Dump> torchDumps(List<Path> files) {
        requireTorch();
        List<String> args = new ArrayList<>();
        args.add(resources("writer").resolve("dump_many.py").toString());
        args.add(resources("fixtures").resolve("dump_checkpoint.py").toString());
        for (Path f : files) {
            args.add(f.toString());
        }
        Run r = run(args);
        if (r.status() != 0) {
            throw new AssertionError("dump_many.py failed: " + r.err());
        }
        Map<Path, Dump> out = new LinkedHashMap<>();
        for (String line : r.out().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = Json.parse(line);
            Path file = Paths.get(n.get("file").asText());
            out.put(file, n.get("ok").asBoolean() ? new Dump(n.get("dump"), null) : new Dump(null, n.get("error").asText()));
        }
        return out;
    }
}
