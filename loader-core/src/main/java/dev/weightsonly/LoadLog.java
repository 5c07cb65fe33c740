package dev.weightsonly;

import dev.weightsonly.internal.load.CheckpointReader;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What loads tell an operator, through SLF4J, under two logger names that stay the same wherever the classes
 * live (documented in {@link Checkpoint}):
 * <ul>
 *   <li>{@value #LOAD}: WARN for every refused load (the file and the reason, once per call of a public
 *       {@code Checkpoint.load*} method), DEBUG for every file loaded (format, tensors, storages, milliseconds);</li>
 *   <li>{@value #AUDIT}: INFO for every global beyond PyTorch's default allowlist that a loaded file used, and
 *       who allowed it ({@code LoadOptions} or {@code SafeGlobals}): the audit trail of trust given.</li>
 * </ul>
 */
final class LoadLog {

    /** The logger of refusals (WARN) and timings (DEBUG). */
    static final String LOAD = "dev.weightsonly.load";

    /** The logger of globals used beyond PyTorch's defaults (INFO). */
    static final String AUDIT = "dev.weightsonly.audit";

    private static final Logger LOAD_LOG = LoggerFactory.getLogger(LOAD);
    private static final Logger AUDIT_LOG = LoggerFactory.getLogger(AUDIT);

    private LoadLog() {
    }

    /** One public load: its body, whose refusal is logged once, here, whatever layer threw it. */
    interface Body {
        Checkpoint run() throws CheckpointException;
    }

    static Checkpoint refusalsLogged(Body body) throws CheckpointException {
        try {
            return body.run();
        } catch (CheckpointException e) {
            // The reason without the source, which the log line names first: the message begins with it.
            LOAD_LOG.warn("{}: refused ({}): {}", e.source(), e.getClass().getSimpleName(),
                    e.getMessage().substring(e.source().length() + 2));
            throw e;
        }
    }

    /**
     * One file loaded: its timing (DEBUG) and the globals beyond the defaults that it used (INFO, one line each).
     *
     * @param startNanos {@link System#nanoTime()} when the load of this file began
     */
    static void loaded(String source, CheckpointReader.Result result, LoadOptions options, long startNanos) {
        for (String global : result.allowedGlobalsUsed()) {
            AUDIT_LOG.info("{}: uses global {}, allowed beyond PyTorch's defaults by {}", source, global,
                    options.allowedGlobals().contains(global) ? "LoadOptions" : "SafeGlobals");
        }
        timing(source, result.format(), result.tensorCount(), result.storageCount(), startNanos);
    }

    static void timing(String source, String format, int tensors, int storages, long startNanos) {
        if (LOAD_LOG.isDebugEnabled()) {
            LOAD_LOG.debug("{}: loaded {}: {} tensors, {} storages, in {} ms", source, format, tensors, storages,
                    String.format(Locale.ROOT, "%.3f", (System.nanoTime() - startNanos) / 1e6));
        }
    }
}
