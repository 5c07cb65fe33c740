package dev.weightsonly.internal.io;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LimitExceededException;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a whole stream into native memory of an arena of its own, which the checkpoint then owns.
 *
 * <p>The bytes go straight into that memory: a {@link FileInputStream} through its channel (one copy, by
 * the kernel), any other stream through one small reused buffer that stays in the CPU cache. The stream's
 * own estimate ({@link InputStream#available()}, exact for files, byte arrays and
 * {@code Files.newInputStream} under 2 GiB) sizes the memory, so such a stream is read into one allocation
 * of its size and never copied again. A stream that turns out longer (or gives no estimate) continues into
 * further chunks, each sized by the stream's new estimate or else doubling, and the chunks are copied once
 * into memory of the exact size at the end (each chunk released as soon as it is copied). A stream much
 * shorter than it claimed is copied into memory of its size.
 *
 * <p>A stream may be endless (a socket, a pipe that never closes): at most {@code maxBytes} are read
 * ({@link dev.weightsonly.LoadLimits#maxStreamBytes()}), and no allocation reaches past that bound by more than
 * the one byte that tells a stream of exactly {@code maxBytes} from a longer one.
 *
 * <p>Fresh native memory is what a copying load costs most: the kernel faults in and zeroes every page,
 * and {@link Arena#allocate} zeroes it once more. So memory is allocated once where the size is known,
 * and never grown by copying into ever larger allocations. A stream whose estimate is at most a quarter of the
 * heap's maximum (and under 2 GiB) is read into a heap array instead: the heap's pages are
 * usually faulted in already, and the loader copies the storages out of the array in parallel, as for a
 * byte array ({@code Checkpoint.load(byte[], ...)}), so no page of the stream's size is faulted in on one
 * thread. The array is the garbage collector's once the load returns. A heap too full of live objects to
 * take the array sends the stream to native memory, nothing read.
 */
public final class StreamBytes {

    /**
     * The bytes and the arena that owns them (closing it releases them).
     *
     * @param bytes everything the stream held, in one segment: native memory, or a heap array's
     * @param arena the shared arena that owns {@code bytes} (the caller closes it, or hands it to a checkpoint),
     *              or null when {@code bytes} is a heap array, which no one need release
     * @param prefaulted memory of the caller's arena allocated while a heap array was filled ({@link Prefaulted},
     *              finished), or null
     */
    public record Read(MemorySegment bytes, Arena arena, Prefaulted prefaulted) {

        Read(MemorySegment bytes, Arena arena) {
            this(bytes, arena, null);
        }

        /**
         * Whether the bytes are a heap array's.
         *
         * @return true when {@link #arena()} is null and {@link #bytes()} a heap segment
         */
        public boolean onHeap() {
            return arena == null;
        }
    }

    // Bytes asked of the stream per read. A stream over a channel (Files.newInputStream's) reads each into a
    // temporary direct buffer of that size, then copies it into ours: 64 KiB keeps that buffer in the CPU's cache.
    // With 1 MiB a read of 1 GiB took 570 to 830 ms instead of 230 to 260 ms (LoadLoop, sd_1g.pt, JDK 25), the
    // read system call itself five times slower (strace: 495 against 98 us per MiB).
    private static final int BUFFER = 64 << 10;
    /** The smallest heap read that allocates ahead on another thread ({@link Prefaulted}): 64 MiB. */
    static final int PREFAULT_MIN = 64 << 20;
    private static final long MIN_CHUNK = 64 << 10;
    private static final long MAX_CHANNEL_READ = 1L << 30;
    /** The longest Java array the JVMs in use allocate. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private StreamBytes() {
    }

    /** One allocation being filled. */
    private static final class Chunk {
        final Arena arena;
        final MemorySegment segment;
        long size;

        /** {@code shared}: memory a checkpoint may own; else scratch of this thread, cheap to release. */
        Chunk(long capacity, boolean shared) {
            arena = shared ? Arena.ofShared() : Arena.ofConfined();
            try {
                segment = arena.allocate(capacity, 64);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }

        long room() {
            return segment.byteSize() - size;
        }
    }

    /**
     * Reads {@code in} to its end into memory of the exact size, allocated as described above.
     *
     * @param in       the stream; read to its end (or just past {@code maxBytes}), not closed
     * @param maxBytes the most bytes the stream may hold
     * @param where    the stream, for the refusal's message
     * @return the bytes and their arena, which the caller owns
     * @throws LimitExceededException if the stream holds more than {@code maxBytes} (limit {@code maxStreamBytes};
     *     nothing allocated is left open)
     * @throws IOException if reading fails (nothing allocated is left open)
     */
    public static Read readAll(InputStream in, long maxBytes, Location where) throws IOException {
        return readAll(in, maxBytes, where, null);
    }

    /**
     * {@link #readAll(InputStream, long, Location)}, and while a heap array of a zip archive of at least
     * {@link #PREFAULT_MIN} bytes is filled, memory of {@code prefaultInto} is allocated on another thread
     * ({@link Prefaulted}, up to half the array's size) for the load to copy the archive's records into.
     *
     * @param in           the stream; read to its end (or just past {@code maxBytes}), not closed
     * @param maxBytes     the most bytes the stream may hold
     * @param where        the stream, for the refusal's message
     * @param prefaultInto the shared arena a load of the bytes will copy records into, or null; the memory made
     *                     ahead is the caller's to release with it, whatever this returns or throws
     * @return the bytes and their arena, which the caller owns, and the memory made ahead, if any
     * @throws LimitExceededException if the stream holds more than {@code maxBytes}
     * @throws IOException if reading fails (nothing this method allocated is left open)
     */
    public static Read readAll(InputStream in, long maxBytes, Location where, Arena prefaultInto) throws IOException {
        // Only FileInputStream itself (as Channels.newChannel decides): a subclass may change what read returns.
        FileChannel channel = in.getClass() == FileInputStream.class ? ((FileInputStream) in).getChannel() : null;
        long expected = channel != null ? Math.max(0, channel.size() - channel.position()) : Math.max(0, in.available());
        if (channel != null && expected > maxBytes) {
            throw tooLong(maxBytes, where); // the file's size is known: nothing read, nothing allocated
        }
        byte[] heap = channel == null ? heapArray(expected, maxBytes) : null;
        int extra = -1; // the byte past a full heap array: the stream was longer than it said
        if (heap != null) {
            Prefaulted ahead = null;
            try {
                int n = fill(in, heap, 0, Math.min(heap.length, BUFFER));
                if (prefaultInto != null && heap.length >= PREFAULT_MIN && n >= 4 && (heap[0] & 0xFF) == 'P'
                        && heap[1] == 'K' && heap[2] == 3 && heap[3] == 4) {
                    // A zip's local header first (ZipArchive.looksLikeZip's test, written out here: this package
                    // reads bytes and knows no format): records follow, which the load will copy.
                    ahead = Prefaulted.start(prefaultInto, heap.length / 2);
                }
                n = fill(in, heap, n, heap.length);
                if (n < heap.length) {
                    // shorter than it said
                    return new Read(MemorySegment.ofArray(heap).asSlice(0, n).asReadOnly(), null, finished(ahead));
                }
                extra = in.read();
                if (extra < 0) {
                    return new Read(MemorySegment.ofArray(heap).asReadOnly(), null, finished(ahead));
                }
            } finally {
                finished(ahead);
            }
            expected = heap.length + 1L + Math.max(0, in.available());
        }
        List<Chunk> chunks = new ArrayList<>();
        try {
            Chunk chunk = new Chunk(capped(Math.max(expected, MIN_CHUNK), maxBytes, 0), true);
            chunks.add(chunk);
            if (heap != null) {
                // On into native memory, the array's bytes and the one past them first (capped leaves room for both:
                // the array is at most maxBytes long).
                MemorySegment.copy(heap, 0, chunk.segment, ValueLayout.JAVA_BYTE, 0, heap.length);
                chunk.segment.set(ValueLayout.JAVA_BYTE, heap.length, (byte) extra);
                chunk.size = heap.length + 1L;
                heap = null;
            }
            long total = 0; // the bytes of the chunks before this one
            if (channel != null) {
                // One copy, kernel to our memory; the stream's position follows the channel's.
                while (chunk.room() > 0) {
                    int read = channel.read(chunk.segment.asSlice(chunk.size, Math.min(chunk.room(), MAX_CHANNEL_READ))
                            .asByteBuffer());
                    if (read < 0) {
                        break;
                    }
                    chunk.size += read;
                }
            }
            byte[] buffer = new byte[BUFFER];
            while (true) {
                if (chunk.size > maxBytes - total) {
                    throw tooLong(maxBytes, where);
                }
                if (chunk.room() == 0) {
                    // Full: one byte more decides between the end of the stream and another chunk.
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    total += chunk.size;
                    if (total >= maxBytes) {
                        throw tooLong(maxBytes, where); // this byte is one past the bound
                    }
                    // The stream's new estimate (past 2 GiB, Files.newInputStream estimates again), else doubling.
                    int estimate = in.available();
                    long next = estimate > 0 ? Math.max(estimate + 1L, MIN_CHUNK) : Math.max(MIN_CHUNK, total);
                    chunk = new Chunk(capped(next, maxBytes, total), false);
                    chunks.add(chunk);
                    chunk.segment.set(ValueLayout.JAVA_BYTE, chunk.size++, (byte) b);
                }
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, chunk.room()));
                if (n < 0) {
                    break;
                }
                MemorySegment.copy(buffer, 0, chunk.segment, ValueLayout.JAVA_BYTE, chunk.size, n);
                chunk.size += n;
            }
            return join(chunks);
        } catch (IOException | RuntimeException | Error e) {
            chunks.forEach(c -> c.arena.close());
            throw e;
        }
    }

    /** {@code ahead} finished (its thread ended), or null. */
    private static Prefaulted finished(Prefaulted ahead) {
        if (ahead != null) {
            ahead.finish();
        }
        return ahead;
    }

    /** The heap's maximum, asked once (-1 if the JVM sets none: then no stream is read into the heap). */
    private static final class HeapBound {
        static final long MAX = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    }

    /**
     * Reads into {@code array} from {@code from} until {@code to} or the end of the stream, at most {@link #BUFFER}
     * bytes a read: a stream over a channel (such as {@code Files.newInputStream}'s) reads through a temporary
     * direct buffer of the length asked for, which for the whole array would be fresh memory of the stream's size
     * (and one larger than the CPU's cache is slow to fill).
     *
     * @return where the bytes read end in the array
     */
    private static int fill(InputStream in, byte[] array, int from, int to) throws IOException {
        int n = from;
        while (n < to) {
            int read = in.read(array, n, Math.min(BUFFER, to - n));
            if (read < 0) {
                break;
            }
            n += read;
        }
        return n;
    }

    /**
     * An array for a stream of {@code expected} bytes, or null when the estimate is missing, past
     * {@code maxBytes} or more than a quarter of the heap's maximum, or when the heap cannot give it.
     */
    private static byte[] heapArray(long expected, long maxBytes) {
        if (expected <= 0 || expected > maxBytes || expected > MAX_ARRAY) {
            return null;
        }
        // The heap's bound, not what is free now: the arrays of earlier loads are garbage the collector reclaims
        // for this one.
        if (expected > HeapBound.MAX / 4) {
            return null;
        }
        try {
            return new byte[(int) expected];
        } catch (OutOfMemoryError e) {
            return null; // a heap full of live objects: native memory, as for a larger stream
        }
    }

    /**
     * {@code want} bytes of a chunk that follows {@code total} bytes, but no more than reach one byte past
     * {@code maxBytes}: the byte that shows the stream is longer than the bound.
     */
    private static long capped(long want, long maxBytes, long total) {
        long left = maxBytes - total; // >= 0: readAll refuses a stream as soon as it passes the bound
        return left < want ? left + 1 : want;
    }

    private static LimitExceededException tooLong(long maxBytes, Location where) {
        return where.limit("maxStreamBytes", maxBytes, "a stream of more than " + maxBytes + " bytes");
    }

    /** The chunks as one segment: the only chunk if it is (about) full, else one exact copy of them all. */
    private static Read join(List<Chunk> chunks) {
        Chunk first = chunks.getFirst();
        if (chunks.size() == 1 && first.room() <= Math.max(MIN_CHUNK, first.size / 8)) {
            return new Read(first.segment.asSlice(0, first.size).asReadOnly(), first.arena);
        }
        long total = chunks.stream().mapToLong(c -> c.size).sum();
        Chunk exact = new Chunk(total, true);
        try {
            for (Chunk c : chunks) {
                MemorySegment.copy(c.segment, 0, exact.segment, exact.size, c.size);
                exact.size += c.size;
            }
        } catch (RuntimeException | Error e) {
            exact.arena.close(); // the caller closes the chunks
            throw e;
        }
        chunks.forEach(c -> c.arena.close());
        return new Read(exact.segment.asReadOnly(), exact.arena);
    }
}
