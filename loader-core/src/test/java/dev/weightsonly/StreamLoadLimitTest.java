package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.Fixtures;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Checkpoint#load(InputStream, String, LoadOptions)} copies the stream into memory, so it reads at most
 * {@link LoadLimits#maxStreamBytes()}: an endless stream is refused, naming the limit and how to raise it, and the
 * memory it took is bounded by the limit.
 */
class StreamLoadLimitTest {

    private static final long MIB = 1 << 20;

    private static LoadOptions maxStreamBytes(long max) {
        return LoadOptions.builder().limits(LoadLimits.builder().maxStreamBytes(max).build()).build();
    }

    /** Bytes for ever (as a socket that never closes would give), counting what was read. */
    private static final class Endless extends InputStream {
        long served;

        @Override
        public int read() {
            served++;
            return 'x';
        }

        @Override
        public int read(byte[] b, int off, int len) {
            Arrays.fill(b, off, off + len, (byte) 'x');
            served += len;
            return len;
        }
    }

    @Test
    void anEndlessStreamIsRefusedAtTheLimit() {
        Endless endless = new Endless();
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> Checkpoint.load(endless, "endless", maxStreamBytes(3 * MIB)));
        assertEquals("maxStreamBytes", e.limitName());
        assertEquals(3 * MIB, e.limit());
        assertTrue(e.getMessage().contains("endless"), e.getMessage());
        assertTrue(e.getMessage().contains("LoadLimits.builder().maxStreamBytes(...)"), e.getMessage());
        // read no further than the byte that shows the stream is longer (plus the last buffer's worth)
        assertTrue(endless.served <= 3 * MIB + (1 << 20), "read " + endless.served);
    }

    @Test
    void theDefaultIsGenerousButFinite() {
        assertEquals(64L << 30, LoadLimits.defaults().maxStreamBytes());
        assertThrows(IllegalArgumentException.class, () -> LoadLimits.builder().maxStreamBytes(0).build());
    }

    @Test
    void aStreamOfExactlyTheLimitLoads() throws IOException {
        byte[] bytes = Fixtures.bytes("legacy_state_dict"); // not zip: read through StreamBytes
        try (Checkpoint c = Checkpoint.load(new ByteArrayInputStream(bytes), "s", maxStreamBytes(bytes.length))) {
            assertTrue(c.tensorCount() > 0);
        }
        assertThrows(LimitExceededException.class,
                () -> Checkpoint.load(new ByteArrayInputStream(bytes), "s", maxStreamBytes(bytes.length - 1)));
    }

    /** A file's stream read through a temporary mapping (a zip checkpoint) is bounded alike. */
    @Test
    void aFileStreamThroughAMappingIsBoundedToo() throws IOException {
        long size = java.nio.file.Files.size(Fixtures.file("sd_linear"));
        try (FileInputStream in = new FileInputStream(Fixtures.file("sd_linear").toFile());
                Checkpoint c = Checkpoint.load(in, "f", maxStreamBytes(size))) {
            assertTrue(c.tensorCount() > 0);
        }
        try (FileInputStream in = new FileInputStream(Fixtures.file("sd_linear").toFile())) {
            LimitExceededException e = assertThrows(LimitExceededException.class,
                    () -> Checkpoint.load(in, "f", maxStreamBytes(size - 1)));
            assertEquals("maxStreamBytes", e.limitName());
        }
    }
}
