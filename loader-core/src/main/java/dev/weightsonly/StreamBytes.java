package dev.weightsonly;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;

/**
 * Reads a whole stream into native memory of an arena of its own, which the checkpoint then owns.
 *
 * <p>The bytes go straight into that memory: a {@link FileInputStream} through its channel (one copy, by
 * the kernel), any other stream through one small reused buffer that stays in the CPU cache. The stream's
 * own estimate ({@link InputStream#available()}, exact for files, byte arrays and
 * {@code Files.newInputStream} under 2 GiB) sizes the memory, so a file is read into one allocation of its
 * size and never copied again. A stream that turns out longer (or gives no estimate) grows the memory by
 * doubling, each size in a new arena and the old one released; one much shorter than it claimed is copied
 * into memory of its size. Fresh native memory is what a copying load costs most (the kernel faults in and
 * zeroes every page, and {@link Arena#allocate} zeroes it again), so it is allocated once where the size is
 * known.
 */
final class StreamBytes {

    /** The bytes and the arena that owns them (closing it releases them). */
    record Read(MemorySegment bytes, Arena arena) {
    }

    private static final int BUFFER = 1 << 20;
    private static final int MIN_CAPACITY = 64 << 10;
    private static final long MAX_CHANNEL_READ = 1L << 30;

    private StreamBytes() {
    }

    static Read readAll(InputStream in) throws IOException {
        // Only FileInputStream itself (as Channels.newChannel decides): a subclass may change what read returns.
        FileChannel channel = in.getClass() == FileInputStream.class ? ((FileInputStream) in).getChannel() : null;
        long expected = channel != null ? Math.max(0, channel.size() - channel.position()) : Math.max(0, in.available());
        Growing out = new Growing(Math.max(expected, MIN_CAPACITY));
        try {
            if (channel != null) {
                // One copy, kernel to our memory; the stream's position follows the channel's.
                while (out.size < out.capacity()) {
                    long n = Math.min(out.capacity() - out.size, MAX_CHANNEL_READ);
                    int read = channel.read(out.segment.asSlice(out.size, n).asByteBuffer());
                    if (read < 0) {
                        break;
                    }
                    out.size += read;
                }
            }
            byte[] buffer = new byte[BUFFER];
            while (true) {
                if (out.size == out.capacity()) {
                    // Full: one byte more decides between the end of the stream and growing.
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    out.grow();
                    out.segment.set(ValueLayout.JAVA_BYTE, out.size++, (byte) b);
                }
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, out.capacity() - out.size));
                if (n < 0) {
                    break;
                }
                MemorySegment.copy(buffer, 0, out.segment, ValueLayout.JAVA_BYTE, out.size, n);
                out.size += n;
            }
            return out.finish();
        } catch (IOException | RuntimeException | Error e) {
            out.arena.close();
            throw e;
        }
    }

    /** Native memory that grows by doubling, each size in an arena of its own. */
    private static final class Growing {
        Arena arena;
        MemorySegment segment;
        long size;

        Growing(long capacity) {
            arena = Arena.ofShared();
            segment = arena.allocate(capacity, 64);
        }

        long capacity() {
            return segment.byteSize();
        }

        void grow() {
            long capacity = capacity() > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : capacity() * 2;
            resize(capacity);
        }

        private void resize(long capacity) {
            Arena next = Arena.ofShared();
            try {
                MemorySegment bigger = next.allocate(capacity, 64);
                MemorySegment.copy(segment, 0, bigger, 0, size);
                arena.close();
                arena = next;
                segment = bigger;
            } catch (RuntimeException | Error e) {
                next.close();
                throw e;
            }
        }

        Read finish() {
            // A stream much shorter than it claimed: keep memory of its size, not of its claim.
            if (capacity() - size > Math.max(MIN_CAPACITY, size / 8)) {
                resize(size);
            }
            return new Read(segment.asSlice(0, size).asReadOnly(), arena);
        }
    }
}
