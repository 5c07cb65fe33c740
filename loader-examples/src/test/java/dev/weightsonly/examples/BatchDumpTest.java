package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.SharedFixtures;
import org.junit.jupiter.api.Test;

class BatchDumpTest {

    @Test
    void aCheckpointLoadsWithItsDumpAndScan() {
        String line = BatchDump.result(SharedFixtures.path("fixtures/sd_linear.pt"));
        assertTrue(line.startsWith("{\"path\":"), line);
        assertTrue(line.contains("\"verdict\":\"load\",\"dump\":{\"root\":{\"dict\":[[\"weight\""), line);
        assertTrue(line.endsWith(",\"scan\":\"clean\"}"), line);
    }

    @Test
    void aHostileFileIsRefusedWithTheExceptionAndTheScannerSaysDangerous() {
        String line = BatchDump.result(SharedFixtures.path("adversarial/A02_os_system.pt"));
        assertTrue(line.contains("\"verdict\":\"refuse\",\"error\":\"UnsupportedGlobalException: "), line);
        assertTrue(line.endsWith(",\"scan\":\"dangerous\"}"), line);
    }

    @Test
    void aMissingFileIsACrashLineNotAnExit() {
        String line = BatchDump.result(SharedFixtures.path("fixtures").resolve("no-such-file.pt"));
        assertTrue(line.contains("\"verdict\":\"crash\""), line);
    }
}
