package dev.weightsonly.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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

/**
 * Real PyTorch 2.6, the referee of the parity tests: a Debian 13 chroot made by the project's
 * {@code tools/torch26} (found from the repository root), which runs Python inside it. Tests that use it need
 * it and fail, never skip, when it is missing, with the command that sets it up ({@code tools/torch26 setup},
 * as root; {@code .ci/run} does it).
 *
 * <p>Two ways in, both one Python process for many inputs (a process per file would cost PyTorch's import
 * time, about 2 s, each time):
 * <ul>
 *   <li>{@link #load(List)}: PyTorch's answer for many files ({@code torch26_load.py}): the verdict of
 *       {@code torch.load(f, weights_only=True)}, the canonical dump of what it loaded, and
 *       {@code get_unsafe_globals_in_checkpoint}. Never a full unpickle: safe on hostile files. Each file is
 *       read in a forked child, so a file that crashes or hangs PyTorch is that file's verdict.</li>
 *   <li>{@link #runScript(Path, JsonNode)}: any other script, given one JSON input and returning one JSON
 *       output ({@code tools/torch26 python3 SCRIPT IN.json OUT.json}), for helpers with needs of their own.</li>
 * </ul>
 */
public final class Torch26 {

    /** PyTorch's answer for one file; see torch26_load.py for the fields. */
    public record Answer(Path file, boolean loads, String error, String reason, JsonNode dump, String dumpError,
            Boolean zip, List<String> unsafe, String unsafeError) {
    }

    private Torch26() {
    }

    /** The repository root: the first folder upwards from the working directory holding tools/torch26. */
    public static Path repositoryRoot() {
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("tools/torch26"))) {
                return p;
            }
        }
        throw new AssertionError("tools/torch26 not found above " + Paths.get("").toAbsolutePath());
    }

    public static Path script() {
        return repositoryRoot().resolve("tools/torch26");
    }

    /** Fails, with the command that fixes it, when PyTorch 2.6 cannot run. */
    public static void require() {
        Python.Run r = Python.exec(List.of(script().toString(), "check"));
        if (r.status() != 0) {
            throw new AssertionError("these tests need real PyTorch 2.6: run `sudo " + script() + " setup` (about"
                    + " 2 minutes, 1.5 GB; .ci/run does it). tools/torch26 said: " + r.err().strip());
        }
    }

    /** Runs {@code tools/torch26 python3 SCRIPT IN.json OUT.json} with {@code input} and returns OUT.json. */
    public static JsonNode runScript(Path script, JsonNode input) {
        require();
        try {
            Path in = Files.createTempFile("torch26-in", ".json");
            Path out = Files.createTempFile("torch26-out", ".json");
            try {
                Files.writeString(in, input.toString(), StandardCharsets.UTF_8);
                List<String> command = List.of(script().toString(), "python3", script.toAbsolutePath().toString(),
                        in.toString(), out.toString());
                Python.Run r = Python.exec(command);
                if (r.status() != 0) {
                    throw new AssertionError(script.getFileName() + " failed (status " + r.status() + "): " + r.err());
                }
                return Json.parse(Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(in);
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PyTorch 2.6's answer for every file, in one Python process; keys are the files as given. */
    public static Map<Path, Answer> load(List<Path> files) {
        ArrayNode paths = JsonNodeFactory.instance.arrayNode();
        for (Path f : files) {
            paths.add(f.toAbsolutePath().toString());
        }
        JsonNode out = runScript(Python.resources("torch26").resolve("torch26_load.py"), paths);
        if (!out.get("torch").asText().startsWith("2.6")) {
            throw new AssertionError("tools/torch26 runs PyTorch " + out.get("torch").asText() + ", not 2.6");
        }
        Map<Path, Answer> answers = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode r : out.get("results")) {
            Path file = files.get(i++);
            if (!r.get("file").asText().equals(file.toAbsolutePath().toString())) {
                throw new AssertionError("answers out of order at " + file);
            }
            List<String> unsafe = null;
            if (r.get("unsafe").isArray()) {
                unsafe = new ArrayList<>();
                for (JsonNode g : r.get("unsafe")) {
                    unsafe.add(g.asText());
                }
            }
            answers.put(file, new Answer(file, r.get("loads").asBoolean(), text(r, "error"), text(r, "reason"),
                    r.get("dump").isNull() ? null : r.get("dump"), text(r, "dump_error"),
                    r.get("zip").isNull() ? null : r.get("zip").asBoolean(), unsafe, text(r, "unsafe_error")));
        }
        if (answers.size() != files.size()) {
            throw new AssertionError(answers.size() + " answers for " + files.size() + " files");
        }
        return answers;
    }

    private static String text(JsonNode r, String field) {
        return r.get(field).isNull() ? null : r.get(field).asText();
    }
}
