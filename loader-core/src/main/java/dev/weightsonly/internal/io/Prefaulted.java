package dev.weightsonly.internal.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Native memory of a checkpoint's arena, allocated by a thread of its own while the loading thread reads a stream
 * into the heap, for the load to copy records into afterwards.
 *
 * <p>Why: fresh native memory is what a copying load spends most of its time on. {@link Arena#allocate} zeroes
 * what it allocates, and the kernel faults in every page on that first touch (2.4 us a page on the 2-core VM of
 * docs/BENCHMARKS.md: 640 ms per GiB on one core). A stream is read on one thread, so while it is read another
 * core is free: this class spends it faulting in memory that the load would otherwise fault in after the read.
 * The memory comes in chunks of {@link #CHUNK} bytes, which {@link #take} carves into the allocations a load asks
 * for (each at most a chunk), so no allocation is made larger or more often than the load would make it.
 *
 * <p>Bounds: at most {@code cap} bytes (the caller passes half the stream's size, so that a stream holding little
 * besides records wastes at most that), and no chunk once {@link #finish()} is called. A chunk nobody takes stays
 * allocated until the arena is closed, as any memory of it. Allocation failures stop the thread quietly: the load
 * then allocates what it needs as it would have without this class.
 */
public final class Prefaulted {

    /** The size of each allocation made ahead: 16 MiB, four of the 4 MiB groups a load copies small records in. */
    public static final long CHUNK = 16L << 20;
    private static final long ALIGNMENT = 64;

    private final Arena arena;
    private final long cap;
    private final ConcurrentLinkedQueue<MemorySegment> made = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean stop;
    // Carving, after finish: the chunk being carved and how much of it is given out.
    private MemorySegment current;
    private long used;

    private Prefaulted(Arena arena, long cap) {
        this.arena = arena;
        this.cap = cap;
        this.thread = Thread.ofPlatform().daemon().name("weightsonly-prefault").unstarted(this::run);
    }

    /**
     * Starts allocating up to {@code cap} bytes of {@code arena} on a thread of its own, if the machine has another
     * core for it; else returns null (the allocations would only take turns with the read).
     *
     * @param arena the shared arena the memory belongs to (the loaded checkpoint's); not closed before {@link #finish}
     * @param cap   the most bytes to allocate ahead
     * @return the memory being made, or null
     */
    public static Prefaulted start(Arena arena, long cap) {
        if (cap < CHUNK || ManagementFactory.getOperatingSystemMXBean().getAvailableProcessors() < 2) {
            return null;
        }
        Prefaulted ahead = new Prefaulted(arena, cap);
        ahead.thread.start();
        return ahead;
    }

    private void run() {
        try {
            for (long total = CHUNK; !stop && total <= cap; total += CHUNK) {
                made.add(arena.allocate(CHUNK, ALIGNMENT));
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            // No more native memory (or the arena is gone): the load allocates what it needs itself.
        }
    }

    /** Stops allocating and waits for the thread to end (at most one chunk's allocation); may be called again. */
    public void finish() {
        stop = true;
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true; // the join must end before the arena may be closed: wait on, then restore it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@code bytes} of the memory made ahead, 64-byte aligned, or null if none is left or {@code bytes} is more than
     * a chunk. Call after {@link #finish()}; safe from several threads.
     *
     * @param bytes the size of the allocation, at least 0
     * @return zeroed memory of the arena, not given out before, or null
     */
    public synchronized MemorySegment take(long bytes) {
        if (bytes > CHUNK) {
            return null;
        }
        if (current == null || CHUNK - used < bytes) {
            current = made.poll(); // the rest of the current chunk stays unused
            used = 0;
            if (current == null) {
                return null;
            }
        }
        MemorySegment slice = current.asSlice(used, bytes);
        used = Math.min(CHUNK, (used + bytes + ALIGNMENT - 1) & -ALIGNMENT);
        return slice;
    }
}
