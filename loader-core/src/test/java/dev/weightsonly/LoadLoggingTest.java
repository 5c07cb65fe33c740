package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.CapturedLogs;
import dev.weightsonly.testing.Fixtures;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * Issue 14: what loads log through SLF4J, asserted through the tests' capturing binding ({@link CapturedLogs}): a
 * WARN under {@code dev.weightsonly.load} for every refusal (once per call, naming the file and the reason), an
 * INFO under {@code dev.weightsonly.audit} for every global beyond PyTorch's defaults a loaded file used (and who
 * allowed it), a DEBUG under {@code dev.weightsonly.load} with the format, the counts and the time of each file.
 */
class LoadLoggingTest {

    private static final String LOAD = "dev.weightsonly.load";
    private static final String AUDIT = "dev.weightsonly.audit";
    private static final String DICTIONARY = SafeGlobalsTest.DICTIONARY;
    private static final Path FILE = SafeGlobalsTest.FILE;

    @TempDir
    Path tmp;

    @AfterEach
    void reset() {
        SafeGlobals.clear();
    }

    @Test
    void everyRefusalIsOneWarningNamingTheFileAndTheReason() throws IOException {
        try (CapturedLogs logs = CapturedLogs.start()) {
            UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(FILE));
            List<CapturedLogs.Event> warnings = logs.events(LOAD, Level.WARN);
            assertEquals(1, warnings.size(), logs.events().toString());
            assertEquals(FILE + ": refused (UnsupportedGlobalException): "
                    + e.getMessage().substring(FILE.toString().length() + 2), warnings.get(0).message());
            assertEquals(List.of(), logs.events(AUDIT, Level.INFO));
        }
        byte[] bytes = Files.readAllBytes(FILE);
        try (CapturedLogs logs = CapturedLogs.start()) {
            assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(bytes, "copy.pt"));
            assertThrows(UnsupportedGlobalException.class,
                    () -> Checkpoint.load(new ByteArrayInputStream(bytes), "stream.pt"));
            assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.load(tmp.resolve("missing.pt")));
            List<String> warnings = logs.events(LOAD, Level.WARN).stream().map(CapturedLogs.Event::message).toList();
            assertEquals(3, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).startsWith("copy.pt: refused (UnsupportedGlobalException): "), warnings.get(0));
            assertTrue(warnings.get(1).startsWith("stream.pt: refused (UnsupportedGlobalException): "), warnings.get(1));
            assertEquals(tmp.resolve("missing.pt") + ": refused (UnreadableCheckpointException): no such file",
                    warnings.get(2));
        }
    }

    @Test
    void aShardRefusedInsideAShardedLoadIsOneWarning() throws IOException {
        Files.copy(FILE, tmp.resolve("shard.bin"));
        Path index = tmp.resolve("pytorch_model.bin.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"shard.bin\"}}");
        try (CapturedLogs logs = CapturedLogs.start()) {
            assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.loadSharded(index));
            List<CapturedLogs.Event> warnings = logs.events(LOAD, Level.WARN);
            assertEquals(1, warnings.size(), logs.events().toString());
            assertTrue(warnings.get(0).message().startsWith(tmp.resolve("shard.bin").toAbsolutePath()
                    + ": refused (UnsupportedGlobalException): "), warnings.get(0).message());
        }
    }

    @Test
    void aGlobalAllowedBeyondTheDefaultsIsAuditedWithWhoAllowedIt() throws IOException {
        try (CapturedLogs logs = CapturedLogs.start()) {
            try (Checkpoint c = Checkpoint.load(FILE, LoadOptions.builder().allowGlobal(DICTIONARY).build())) {
                assertEquals(List.of(FILE + ": uses global " + DICTIONARY + ", allowed beyond PyTorch's defaults by"
                        + " LoadOptions"), messages(logs, AUDIT, Level.INFO));
            }
        }
        try (CapturedLogs logs = CapturedLogs.start();
             SafeGlobals.Scope scope = SafeGlobals.scope(DICTIONARY);
             Checkpoint c = Checkpoint.load(FILE)) {
            assertEquals(List.of(FILE + ": uses global " + DICTIONARY + ", allowed beyond PyTorch's defaults by"
                    + " SafeGlobals"), messages(logs, AUDIT, Level.INFO));
            assertEquals(List.of(), logs.events(LOAD, Level.WARN));
        }
        // A file that uses only PyTorch's defaults leaves no audit line, even when the load allows more.
        try (CapturedLogs logs = CapturedLogs.start();
             Checkpoint c = Checkpoint.load(Fixtures.file("sd_linear"),
                     LoadOptions.builder().allowGlobal(DICTIONARY).build())) {
            assertEquals(List.of(), logs.events(AUDIT, Level.INFO));
        }
    }

    @Test
    void everyLoadedFileHasItsTimingAtDebug() throws IOException {
        Path file = Fixtures.file("sd_linear");
        try (CapturedLogs logs = CapturedLogs.start()) {
            try (Checkpoint c = Checkpoint.load(file)) {
                List<String> debug = messages(logs, LOAD, Level.DEBUG);
                assertEquals(1, debug.size(), debug.toString());
                assertTrue(debug.get(0).matches(java.util.regex.Pattern.quote(file + ": loaded zip: "
                        + c.tensorCount() + " tensors, " + c.storageCount() + " storages, in ") + "\\d+\\.\\d{3} ms"),
                        debug.get(0));
            }
            try (Checkpoint c = Checkpoint.load(Files.readAllBytes(Fixtures.file("legacy_state_dict")), "legacy")) {
                assertTrue(messages(logs, LOAD, Level.DEBUG).get(1).startsWith("legacy: loaded legacy stream: "
                        + c.tensorCount() + " tensors"), messages(logs, LOAD, Level.DEBUG).toString());
            }
        }
    }

    private static List<String> messages(CapturedLogs logs, String logger, Level level) {
        return logs.events(logger, level).stream().map(CapturedLogs.Event::message).toList();
    }
}
