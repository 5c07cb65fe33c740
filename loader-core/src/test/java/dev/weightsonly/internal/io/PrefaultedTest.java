package dev.weightsonly.internal.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightsonly.CheckpointException;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Memory made ahead on another thread while a stream is read: at most its cap, in the caller's arena, zeroed, and
 * carved into 64-byte aligned allocations of at most a chunk; made only for a zip stream a heap array holds.
 */
class PrefaultedTest {

    private static final long CHUNK = Prefaulted.CHUNK;

    private static boolean twoCores() {
        return ManagementFactory.getOperatingSystemMXBean().getAvailableProcessors() >= 2;
    }

    @Test
    void takesCarveTheChunksMadeUpToTheCap() {
        assumeTrue(twoCores(), "one core: nothing is made ahead (start returns null, tested below)");
        try (Arena arena = Arena.ofShared()) {
            Prefaulted ahead = Prefaulted.start(arena, 3 * CHUNK + CHUNK / 2);
            assertNotNull(ahead);
            ahead.finish();
            ahead.finish(); // again: nothing more
            // The thread may have been stopped early by finish, so count what it made: at most three chunks.
            int chunks = 0;
            MemorySegment first = ahead.take(100);
            if (first != null) {
                chunks = 1;
                assertEquals(0, first.address() % 64);
                assertEquals(100, first.byteSize());
                MemorySegment second = ahead.take(100);
                assertEquals(first.address() + 128, second.address(), "64-byte aligned, right after the first");
                assertEquals(-1, second.mismatch(arena.allocate(100)), "zeroed");
                assertNull(ahead.take(CHUNK + 1), "more than a chunk is never made ahead");
                while (ahead.take(CHUNK) != null) {
                    chunks++; // each whole chunk after the carved one
                }
            }
            assertTrue(chunks <= 3, chunks + " chunks for a cap of 3.5");
            assertNull(ahead.take(1), "nothing left");
            assertSame(arena.scope(), first == null ? arena.scope() : first.scope(), "the caller's arena's memory");
        }
    }

    @Test
    void nothingIsMadeForLessThanAChunkOrOnOneCore() {
        try (Arena arena = Arena.ofShared()) {
            assertNull(Prefaulted.start(arena, CHUNK - 1));
            if (!twoCores()) {
                assertNull(Prefaulted.start(arena, 10 * CHUNK));
            }
        }
    }

    /** A stream whose class the loader cannot see through (not a FileInputStream). */
    private static InputStream opaque(byte[] bytes) {
        return new FilterInputStream(new ByteArrayInputStream(bytes)) {
        };
    }

    @Test
    void aZipStreamReadIntoTheHeapHasMemoryMadeAheadAnyOtherNot() throws IOException {
        assumeTrue(twoCores(), "one core: nothing is made ahead");
        byte[] zip = new byte[StreamBytes.PREFAULT_MIN + 5];
        new Random(1).nextBytes(zip);
        zip[0] = 'P';
        zip[1] = 'K';
        zip[2] = 3;
        zip[3] = 4;
        byte[] other = zip.clone();
        other[0] = 'Q';
        CheckpointException.Location where = CheckpointException.Location.of("stream");
        try (Arena arena = Arena.ofShared()) {
            StreamBytes.Read read = StreamBytes.readAll(opaque(zip), Long.MAX_VALUE, where, arena);
            assertTrue(read.onHeap());
            assertNotNull(read.prefaulted(), "a zip's local header first: records follow");
            assertEquals(-1, read.bytes().mismatch(MemorySegment.ofArray(zip)), "every byte");
            StreamBytes.Read notZip = StreamBytes.readAll(opaque(other), Long.MAX_VALUE, where, arena);
            assertNull(notZip.prefaulted());
            StreamBytes.Read noArena = StreamBytes.readAll(opaque(zip), Long.MAX_VALUE, where);
            assertNull(noArena.prefaulted());
            byte[] small = java.util.Arrays.copyOf(zip, StreamBytes.PREFAULT_MIN - 1);
            assertNull(StreamBytes.readAll(opaque(small), Long.MAX_VALUE, where, arena).prefaulted());
            assertEquals(zip[12345], read.bytes().get(ValueLayout.JAVA_BYTE, 12345));
        }
    }
}
