package dev.weightsonly.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;
import org.opentest4j.AssertionFailedError;

/** The guard fails a test that starts a process or drops a file, and passes one that does neither. */
class SideEffectGuardTest {

    static final Path WATCHED = createWatched();

    private static Path createWatched() {
        try {
            return Files.createTempDirectory("side-effect-guard");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Sample tests, run only through the engine below (nested classes are not discovered by the build). */
    static class Samples {
        @RegisterExtension
        static SideEffectGuard guard = SideEffectGuard.watching(WATCHED);

        @Test
        void startsAProcessThatEnds() throws Exception {
            new ProcessBuilder("true").start().waitFor();
        }

        @Test
        void startsAProcessThatKeepsRunning() throws Exception {
            Process p = new ProcessBuilder("sleep", "30").start();
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
            SideEffectGuardTest.running = p;
        }

        @Test
        void dropsAFile() throws IOException {
            Files.writeString(WATCHED.resolve("dropped.sh"), "id");
        }

        @Test
        void loadsAHostileFile() {
            CheckpointAssertions.assertRefused(HostileCheckpoints.osSystem());
        }
    }

    static volatile Process running;

    private static Events run(String method) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectMethod(Samples.class, method)).execute()
                .testEvents();
    }

    @Test
    void aProcessThatStartedAndEndedFailsTheTest() {
        Events events = run("startsAProcessThatEnds");
        assertEquals(1, events.failed().count());
        assertTrue(events.failed().stream().findFirst().orElseThrow().getPayload(
                org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow()
                .getMessage().contains("a process was started and ended"));
    }

    @Test
    void aProcessStillRunningFailsTheTest() {
        try {
            Events events = run("startsAProcessThatKeepsRunning");
            assertEquals(1, events.failed().count());
        } finally {
            if (running != null) {
                running.destroyForcibly();
            }
        }
    }

    @Test
    void aDroppedFileFailsTheTestNamingIt() {
        Events events = run("dropsAFile");
        assertEquals(1, events.failed().count());
        String message = events.failed().stream().findFirst().orElseThrow().getPayload(
                org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow()
                .getMessage();
        assertTrue(message.contains("gained [dropped.sh]"), message);
    }

    @Test
    void duringFailsForAProcessOrADroppedFileAndPassesCleanCode() throws Throwable {
        SideEffectGuard guard = SideEffectGuard.watching(WATCHED);
        AssertionFailedError process = assertThrows(AssertionFailedError.class,
                () -> guard.during(() -> new ProcessBuilder("true").start().waitFor()));
        assertTrue(process.getMessage().contains("a process was started and ended"), process.getMessage());
        AssertionFailedError file = assertThrows(AssertionFailedError.class,
                () -> guard.during(() -> Files.writeString(WATCHED.resolve("during.sh"), "id")));
        assertTrue(file.getMessage().contains("gained [during.sh]"), file.getMessage());
        // the action's own failure is kept, beside the side effect
        AssertionFailedError both = assertThrows(AssertionFailedError.class, () -> guard.during(() -> {
            Files.writeString(WATCHED.resolve("then-failed.sh"), "id");
            throw new IllegalStateException("the action failed too");
        }));
        assertEquals("the action failed too", both.getSuppressed()[0].getMessage());
        // without a side effect, the action's exception is what comes out
        assertThrows(IllegalStateException.class, () -> guard.during(() -> {
            throw new IllegalStateException("no side effect");
        }));
        guard.during(() -> CheckpointAssertions.assertRefused(HostileCheckpoints.osSystem()));
    }

    @Test
    void refusingAHostileFileHasNoSideEffects() {
        Events events = run("loadsAHostileFile");
        assertEquals(1, events.succeeded().count());
        assertEquals(0, events.failed().count());
    }
}
