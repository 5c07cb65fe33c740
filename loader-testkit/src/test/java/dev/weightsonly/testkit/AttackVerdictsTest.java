package dev.weightsonly.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.opentest4j.AssertionFailedError;

/** Every attack is refused as its catalogue entry says; the assertions fail with clear messages otherwise. */
class AttackVerdictsTest {

    @ParameterizedTest
    @EnumSource(Attack.class)
    void everyAttackIsRefusedAsCatalogued(Attack attack) {
        CheckpointAssertions.assertRefused(attack.build()).as(attack.refusal());
    }

    @Test
    void codeExecutionIsRefusedNamingTheGlobal() {
        CheckpointAssertions.assertRefused(HostileCheckpoints.osSystem()).as(UnsafeCheckpointException.class)
                .becauseOfGlobal("posix.system");
        CheckpointAssertions.assertRefused(HostileCheckpoints.builtinsEval()).becauseOfGlobal("builtins.eval");
        CheckpointAssertions.assertRefused(HostileCheckpoints.runpyRunCode()).becauseOfGlobal("runpy._run_code");
        CheckpointAssertions.assertRefused(HostileCheckpoints.legacyCallingGlobal("subprocess.Popen"))
                .becauseOfGlobal("subprocess.Popen");
        CheckpointAssertions.assertRefused(HostileCheckpoints.tarCallingGlobal("builtins.exec"))
                .becauseOfGlobal("builtins.exec");
    }

    @Test
    void aMemoFloodIsRefusedPastTheLimitTheCallerSets() {
        LoadOptions limited = LoadOptions.builder().limits(LoadLimits.builder().maxMemoEntries(1000).build()).build();
        CheckpointAssertions.assertRefused(HostileCheckpoints.memoFlood(1001), limited).as(LimitExceededException.class);
        assertEquals(0, CheckpointAssertions.assertLoads(HostileCheckpoints.memoFlood(999)));
    }

    @Test
    void filesAndBytesAreJudgedWithTheCallersOptions(@TempDir Path dir) throws IOException {
        LoadOptions limited = LoadOptions.builder().limits(LoadLimits.builder().maxMemoEntries(1000).build()).build();
        Path flood = Files.write(dir.resolve("flood.pt"), HostileCheckpoints.memoFlood(1001));
        CheckpointAssertions.assertRefused(flood, limited).as(LimitExceededException.class);
        assertEquals(0, CheckpointAssertions.assertLoads(flood));   // under the default limit it loads
        AssertionFailedError refused = assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertLoads(flood, limited));
        assertTrue(refused.getMessage().contains(flood + " to load, but it was refused: ")
                && refused.getMessage().contains("LimitExceededException"), refused.getMessage());
        assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertLoads(HostileCheckpoints.memoFlood(1001), limited));
        assertEquals(0, CheckpointAssertions.assertLoads(HostileCheckpoints.memoFlood(1000), limited));
    }

    @Test
    void benignControlsLoad() {
        assertEquals(2, CheckpointAssertions.assertLoads(BenignCheckpoints.smallStateDict()));
        assertEquals(2, CheckpointAssertions.assertLoads(BenignCheckpoints.trainingCheckpoint()));
        assertEquals(1, CheckpointAssertions.assertLoads(BenignCheckpoints.legacyStateDict()));
    }

    @Test
    void failuresSayWhatWasExpectedAndWhatHappened() {
        AssertionFailedError loaded = assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertRefused(BenignCheckpoints.smallStateDict()));
        assertTrue(loaded.getMessage().contains("to be refused, but it loaded"), loaded.getMessage());

        AssertionFailedError kind = assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertRefused(HostileCheckpoints.osSystem())
                        .as(MalformedCheckpointException.class));
        assertTrue(kind.getMessage().contains("refused as MalformedCheckpointException, but it was refused as "
                + "UnsupportedGlobalException"), kind.getMessage());

        AssertionFailedError global = assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertRefused(HostileCheckpoints.osSystem()).becauseOfGlobal("os.system"));
        assertTrue(global.getMessage().contains("but it was refused for posix.system"), global.getMessage());

        // A wrong path is no refusal: the assertion fails rather than passing on a file that is not there.
        java.nio.file.Path missing = java.nio.file.Path.of("no-such-model.pt").toAbsolutePath();
        AssertionFailedError unreadable = assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertRefused(missing));
        assertTrue(unreadable.getMessage().contains("to be refused, but it could not be read at all: " + missing
                + ": no such file"), unreadable.getMessage());

        AssertionFailedError refused = assertThrows(AssertionFailedError.class,
                () -> CheckpointAssertions.assertLoads(HostileCheckpoints.recordSizeMismatch()));
        assertTrue(refused.getMessage().contains("to load, but it was refused: ")
                && refused.getMessage().contains("MalformedCheckpointException"), refused.getMessage());
    }

    @Property(tries = 60)
    void everyHostileFileIsRefused(@ForAll("hostile") byte[] file) {
        CheckpointAssertions.assertRefused(file);
    }

    @Property(tries = 60)
    void everyDangerousCallIsRefusedForItsGlobal(@ForAll("calls") byte[] file) {
        CheckpointAssertions.assertRefused(file).as(UnsafeCheckpointException.class);
    }

    @Property(tries = 20)
    void everyBenignFileLoads(@ForAll("benign") byte[] file) {
        CheckpointAssertions.assertLoads(file);
    }

    @Provide
    Arbitrary<byte[]> hostile() {
        return HostileArbitraries.hostile();
    }

    @Provide
    Arbitrary<byte[]> calls() {
        return HostileArbitraries.callingDangerousGlobal();
    }

    @Provide
    Arbitrary<byte[]> benign() {
        return HostileArbitraries.benign();
    }
}
