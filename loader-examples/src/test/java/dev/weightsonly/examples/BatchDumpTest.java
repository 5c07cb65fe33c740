package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

class BatchDumpTest {

    private static final Path RESOURCES = Paths.get("../loader-core/src/test/resources");

    @Test
    void aCheckpointLoadsWithItsDumpAndScan() {
        String line = BatchDump.result(RESOURCES.resolve("fixtures/sd_linear.pt"));
        assertTrue(line.startsWith("{\"path\":"), line);
        assertTrue(line.contains("\"verdict\":\"load\",\"dump\":{\"root\":{\"dict\":[[\"weight\""), line);
        assertTrue(line.endsWith(",\"scan\":\"clean\"}"), line);
    }

    @Test
    void aHostileFileIsRefusedWithTheExceptionAndTheScannerSaysDangerous() {
        String line = BatchDump.result(RESOURCES.resolve("adversarial/A02_os_system.pt"));
        assertTrue(line.contains("\"verdict\":\"refuse\",\"error\":\"UnsupportedGlobalException: "), line);
        assertTrue(line.endsWith(",\"scan\":\"dangerous\"}"), line);
    }

    @Test
    void aMissingFileIsACrashLineNotAnExit() {
        String line = BatchDump.result(RESOURCES.resolve("no-such-file.pt"));
        assertTrue(line.contains("\"verdict\":\"crash\""), line);
    }
}
