package dev.weightsonly.internal.dump;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Supplier;

/**
 * Runs a recursive walk on a thread whose stack holds its deepest nesting. The walk recurses a few frames
 * per level, and how many bytes a frame takes depends on whether the JIT has compiled it yet, so a walk
 * bounded at 1,000 levels can still overflow the caller's stack (1 MiB by default) while it runs
 * interpreted. A thread sized for the bound turns "no StackOverflowError" from likely into certain.
 * The dump and the pickle writer ({@code dev.weightsonly.writer}) both walk on one.
 */
public final class DeepStack {

    // Generous for five interpreted frames per level; reserved address space, committed only as it is used.
    private static final long BYTES_PER_LEVEL = 16 << 10;
    private static final int SHALLOW = 100;
    // A caller may pass any bound; 512 MiB of stack holds some 30,000 levels.
    private static final long MAX_STACK = 512L << 20;

    private DeepStack() {
    }

    /**
     * The result of {@code walk}, run on a thread whose stack holds {@code maxDepth} levels of recursion (on the
     * calling thread when the bound is shallow). The caller waits; an interrupt is kept for after the walk.
     *
     * @param <T> the walk's result type
     * @param maxDepth the deepest recursion the walk allows itself
     * @param walk the recursive walk, which must enforce {@code maxDepth} itself
     * @return what {@code walk} returned
     * @throws RuntimeException what {@code walk} threw, as it threw it (an {@link Error} likewise)
     */
    public static <T> T call(int maxDepth, Supplier<T> walk) {
        if (maxDepth <= SHALLOW) {
            return walk.get();
        }
        FutureTask<T> task = new FutureTask<>(walk::get);
        long stack = Math.min(MAX_STACK, (maxDepth + 64L) * BYTES_PER_LEVEL);
        Thread thread = new Thread(null, task, "weightsonly-deep-walk", stack);
        thread.setDaemon(true);
        thread.start();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the walk is short and not interruptible: wait for it, then say so
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
