package dev.weightsonly;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** Reads a whole stream into native memory of the arena. */
final class StreamBytes {

    private static final int CHUNK = 16 << 20;

    private StreamBytes() {
    }

    static MemorySegment readAll(InputStream in, Arena arena) throws IOException {
        List<byte[]> chunks = new ArrayList<>();
        long total = 0;
        while (true) {
            byte[] chunk = in.readNBytes(CHUNK);
            if (chunk.length > 0) {
                chunks.add(chunk);
                total += chunk.length;
            }
            if (chunk.length < CHUNK) {
                break;
            }
        }
        // Always memory of the arena, never a heap array: the checkpoint's close() must release it, after
        // which reading a tensor fails cleanly instead of quietly working on memory nobody owns.
        MemorySegment out = arena.allocate(total, 64);
        long at = 0;
        for (byte[] chunk : chunks) {
            MemorySegment.copy(chunk, 0, out, ValueLayout.JAVA_BYTE, at, chunk.length);
            at += chunk.length;
        }
        return out.asReadOnly();
    }
}
