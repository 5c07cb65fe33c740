package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.SafeGlobals;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.testing.SharedFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The test a user of the library would write to pin down its promise: a checkpoint whose pickle calls
 * {@code os.system} or {@code eval} is refused, with an exception that names the global, and nothing runs.
 * It uses only the public API, on files built like real attacks (see {@code gen_malicious.py}).
 */
class MaliciousPickleIsRefusedTest {

    private static final Path MALICIOUS = SharedFixtures.path("fixtures/malicious");

    @Test
    void osSystemIsRefusedAndNamed() {
        Path file = MALICIOUS.resolve("os_system.pt");
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(file));
        assertEquals("os.system", e.globalName());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("GLOBAL os.system"), e.getMessage());
        assertEquals(file.toString(), e.source());
    }

    @Test
    void builtinsEvalIsRefusedAndNamed() {
        Path file = MALICIOUS.resolve("builtins_eval.pt");
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class, () -> Checkpoint.load(file));
        assertEquals("builtins.eval", e.globalName());
        // PyTorch's own wording, so that log searches written for torch.load find it too.
        assertTrue(e.getMessage().contains("Unsupported global: GLOBAL eval was not an allowed global by default"),
                e.getMessage());
    }

    @Test
    void theRefusalIsAnUnsafeCheckpointExceptionWhicheverWayTheBytesArrive() throws Exception {
        for (String name : List.of("os_system.pt", "builtins_eval.pt")) {
            byte[] bytes = Files.readAllBytes(MALICIOUS.resolve(name));
            // Catching the general type is enough for code that only needs to know "do not trust this file".
            assertThrows(UnsafeCheckpointException.class, () -> Checkpoint.load(bytes, name));
            try (var in = Files.newInputStream(MALICIOUS.resolve(name))) {
                UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class,
                        () -> Checkpoint.load(in, name));
                assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
            }
        }
    }

    @Test
    void theseGlobalsCannotBeAllowedEvenOnPurpose() {
        IllegalArgumentException forLoad = assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.builder().allowGlobal("os.system"));
        assertTrue(forLoad.getMessage().contains("os.system"), forLoad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SafeGlobals.add("builtins.eval"));
        assertTrue(!SafeGlobals.get().contains("builtins.eval"));
    }

    @Test
    void aScanNamesTheGlobalWithoutLoadingTheFile() throws Exception {
        assertEquals(List.of("os.system"), SafeGlobals.unsafeGlobals(MALICIOUS.resolve("os_system.pt")));
        assertEquals(List.of("builtins.eval"), SafeGlobals.unsafeGlobals(MALICIOUS.resolve("builtins_eval.pt")));
    }
}
