package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
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

    @Test
    void aStreamCutInsideAPickleIsTruncatedNotOverTheLimit() {
        byte[] cut = java.util.Arrays.copyOf(Fixtures.bytes(FIXTURE), 600); // inside the object pickle
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class,
                () -> Checkpoint.load(cut, FIXTURE, maxPickleBytes(500)));
        assertTrue(e.getMessage().contains("pickle data was truncated"), e.getMessage());
    }

    /** Running out of the bytes read is what decides, by its type, never the message's words. */
    @Test
    void onlyRunningOutOfTheBoundedBytesExceedsTheLimit() throws CheckpointException {
        LoadLimits limits = LoadLimits.builder().maxPickleBytes(8).build();
        CheckpointException.Location where = CheckpointException.Location.of("t");
        TorchUnpicklerHost plain = TorchUnpicklerHost.plainData(java.util.Set.of(), limits);
        byte[] nones = new byte[64];
        java.util.Arrays.fill(nones, (byte) 'N'); // no STOP within 8 bytes, and more bytes after them
        LimitExceededException over = assertThrows(LimitExceededException.class, () -> Unpickler.loadPrefix(
                java.lang.foreign.MemorySegment.ofArray(nones), 0, 64, where, plain, limits));
        assertEquals("maxPickleBytes", over.limitName());
        MalformedCheckpointException truncated = assertThrows(MalformedCheckpointException.class,
                () -> Unpickler.loadPrefix(java.lang.foreign.MemorySegment.ofArray(nones), 0, 8, where,
                        plain, limits));
        assertTrue(truncated.getMessage().contains("pickle data was truncated"), truncated.getMessage());
        byte[] unknown = nones.clone();
        unknown[3] = (byte) 0xFF; // not an opcode, within the bound: malformed, whatever follows
        assertThrows(MalformedCheckpointException.class, () -> Unpickler.loadPrefix(
                java.lang.foreign.MemorySegment.ofArray(unknown), 0, 64, where, plain, limits));
        byte[] fits = nones.clone();
        fits[1] = '.';
        assertEquals(2, Unpickler.loadPrefix(java.lang.foreign.MemorySegment.ofArray(fits), 0, 64, where,
                plain, limits).end());
    }
}
