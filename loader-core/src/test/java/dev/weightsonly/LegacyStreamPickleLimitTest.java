package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.Fixtures;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * In the legacy stream the storages follow the pickles, so the bytes left after a pickle's start are no
 * measure of the pickle: {@code maxPickleBytes} bounds each pickle, not the rest of the file. (A 1 GiB
 * state dict saved with {@code _use_new_zipfile_serialization=False} was refused before.)
 */
class LegacyStreamPickleLimitTest {

    // legacy_state_dict.pt: 1350 bytes; its pickles end at 15, 21, 137, 890 (the object: 753 bytes), 1010.
    private static final String FIXTURE = "legacy_state_dict";

    private static LoadOptions maxPickleBytes(long max) {
        return LoadOptions.builder().limits(LoadLimits.builder().maxPickleBytes(max).build()).build();
    }

    @Test
    void aStreamLongerThanMaxPickleBytesLoadsWhenEachPickleFits() throws IOException {
        byte[] bytes = Fixtures.bytes(FIXTURE);
        assertTrue(bytes.length > 800);
        try (Checkpoint reference = Checkpoint.load(bytes, FIXTURE);
                Checkpoint bounded = Checkpoint.load(bytes, FIXTURE, maxPickleBytes(800))) {
            assertEquals(reference.tensorCount(), bounded.tensorCount());
            assertEquals(reference.stateDict().names(), bounded.stateDict().names());
        }
    }

    @Test
    void aPickleLongerThanMaxPickleBytesExceedsTheLimit() {
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> Checkpoint.load(Fixtures.bytes(FIXTURE), FIXTURE, maxPickleBytes(500)));
        assertEquals("maxPickleBytes", e.limitName());
        assertEquals(500, e.limit());
        assertTrue(e.getMessage().contains("pickle 4 (the saved object)"), e.getMessage());
    }
}
