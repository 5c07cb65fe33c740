package dev.weightsonly;

import dev.weightsonly.internal.io.StreamBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A copying load reads the stream into memory sized by the stream's own estimate: every byte arrives, in
 * order, whether the estimate is exact, missing, too small or too large, and whatever the stream is; and no more
 * than {@code maxStreamBytes} of it.
 */
class StreamBytesTest {

    @TempDir
    Path dir;

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static final CheckpointException.Location WHERE = CheckpointException.Location.of("stream");

    private static byte[] readAll(InputStream in) throws IOException {
        return readAll(in, Long.MAX_VALUE);
    }

    private static byte[] readAll(InputStream in, long maxBytes) throws IOException {
        StreamBytes.Read read = StreamBytes.readAll(in, maxBytes, WHERE);
        assertTrue(read.bytes().isReadOnly());
        assertEquals(read.onHeap(), !read.bytes().isNative(), "heap bytes have no arena, native ones do");
        if (read.onHeap()) {
            return read.bytes().toArray(ValueLayout.JAVA_BYTE);
        }
        try {
            return read.bytes().toArray(ValueLayout.JAVA_BYTE);
        } finally {
            read.arena().close();
            // The memory is the arena's: closed, it is gone.
            assertTrue(!read.bytes().scope().isAlive());
        }
    }

    /**
     * An estimate that fits the heap reads the stream into a heap array (the storages are then copied out in
     * parallel); no estimate, or one past a quarter of the heap's maximum, reads it into native memory. Either way
     * every byte arrives, also when the stream is longer than it said (on into native memory after the array).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 65537, (1 << 20) + 3})
    void theEstimateChoosesHeapOrNativeMemory(int size) throws IOException {
        byte[] data = random(size);
        StreamBytes.Read exact = StreamBytes.readAll(new ByteArrayInputStream(data), size, WHERE);
        assertTrue(exact.onHeap());
        assertArrayEquals(data, exact.bytes().toArray(ValueLayout.JAVA_BYTE));
        StreamBytes.Read over = StreamBytes.readAll(estimating(data, size + 10), Long.MAX_VALUE, WHERE);
        assertTrue(over.onHeap());
        assertEquals(size, over.bytes().byteSize(), "a stream shorter than it said is its own length");
        for (int estimate : new int[] {0, size / 2, size - 1,
                (int) Math.min(Integer.MAX_VALUE - 8, Runtime.getRuntime().maxMemory() / 4 + 1)}) {
            // maxBytes = size caps what a too large estimate allocates
            StreamBytes.Read read = StreamBytes.readAll(estimating(data, estimate), size, WHERE);
            try {
                assertTrue(!read.onHeap(), "estimate " + estimate);
                assertArrayEquals(data, read.bytes().toArray(ValueLayout.JAVA_BYTE), "estimate " + estimate);
            } finally {
                read.arena().close();
            }
        }
    }

    /** Claims {@code estimate} bytes, whatever it holds. */
    private static InputStream estimating(byte[] data, int estimate) {
        return new FilterInputStream(new ByteArrayInputStream(data)) {
            @Override
            public int available() {
                return estimate;
            }
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 100, 65535, 65536, 65537, 3 * 65536 + 5, 1 << 20, (1 << 21) + 1})
    void everyByteArrivesWhateverTheStreamClaims(int size) throws IOException {
        byte[] data = random(size);
        assertArrayEquals(data, readAll(new ByteArrayInputStream(data)));
        assertArrayEquals(data, readAll(estimating(data, 0)));
        assertArrayEquals(data, readAll(estimating(data, size / 3)));
        assertArrayEquals(data, readAll(estimating(data, size * 4 + 100_000)));
    }

    /** A stream of exactly the bound is read; one byte more is refused, whatever the stream claims. */
    @ParameterizedTest
    @ValueSource(ints = {1, 100, 65536, 65537, 3 * 65536 + 5, (1 << 21) + 1})
    void theBoundIsExact(int size) throws IOException {
        byte[] data = random(size);
        for (int estimate : new int[] {0, size / 3, size, size * 4 + 100_000}) {
            assertArrayEquals(data, readAll(estimating(data, estimate), size));
            LimitExceededException e = assertThrows(LimitExceededException.class,
                    () -> readAll(estimating(data, estimate), size - 1));
            assertEquals("maxStreamBytes", e.limitName());
            assertEquals(size - 1, e.limit());
        }
    }

    @Test
    void aFileLongerThanTheBoundIsRefusedBeforeItIsRead() throws IOException {
        Path file = dir.resolve("data.bin");
        Files.write(file, random(1000));
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            assertThrows(LimitExceededException.class, () -> readAll(in, 999));
            assertEquals(0, in.getChannel().position(), "nothing read");
        }
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            assertEquals(1000, readAll(in, 1000).length);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 10, 70_000})
    void aFileInputStreamIsReadFromItsPosition(int skip) throws IOException {
        byte[] data = random(300_000);
        Path file = dir.resolve("data.bin");
        Files.write(file, data);
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            assertEquals(skip, in.skip(skip));
            byte[] expected = java.util.Arrays.copyOfRange(data, skip, data.length);
            assertArrayEquals(expected, readAll(in));
        }
    }

    @Test
    void aFileInputStreamSubclassIsReadThroughItsOwnRead() throws IOException {
        byte[] data = random(100_000);
        Path file = dir.resolve("data.bin");
        Files.write(file, data);
        // A subclass that changes what it reads: its bytes, not the file's, are what the load sees.
        try (FileInputStream in = new FileInputStream(file.toFile()) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                for (int i = 0; i < n; i++) {
                    b[off + i] ^= 0x5A;
                }
                return n;
            }

            @Override
            public int read() throws IOException {
                int b = super.read();
                return b < 0 ? b : (b ^ 0x5A) & 0xFF;
            }
        }) {
            byte[] expected = data.clone();
            for (int i = 0; i < expected.length; i++) {
                expected[i] ^= 0x5A;
            }
            assertArrayEquals(expected, readAll(in));
        }
    }

    @Test
    void anEmptyStreamIsEmpty() throws IOException {
        assertEquals(0, readAll(new ByteArrayInputStream(new byte[0])).length);
        assertEquals(0, readAll(estimating(new byte[0], 1 << 20)).length);
    }
}
