package dev.weightsonly.cli;

import java.io.PrintWriter;
import java.io.Writer;

/**
 * The training run of the tool's ahead-of-time cache (JDK 25, JEP 483/514), which the build runs once with
 * {@code -XX:AOTCacheOutput} on the same class path as {@code java -jar weightsonly.jar}: the cache holds the
 * classes a run loads and links, so the run should do what users do most. A CI gate runs {@code scan} once per
 * build and a person {@code inspect}, so it runs both, with their output discarded.
 */
public final class AotTraining {

    private AotTraining() {
    }

    /**
     * Runs {@code weightsonly inspect CHECKPOINT} and {@code weightsonly scan FOLDER}.
     *
     * @param args a checkpoint to inspect and a folder of checkpoints to scan
     */
    public static void main(String[] args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: AotTraining CHECKPOINT FOLDER");
        }
        PrintWriter discard = new PrintWriter(Writer.nullWriter());
        int inspected = WeightsOnlyCommand.execute(new String[] {"inspect", args[0]}, discard, discard);
        int scanned = WeightsOnlyCommand.execute(new String[] {"scan", args[1]}, discard, discard);
        if (inspected != 0 || scanned != 0) {
            // A training run that failed trained the cache on an error path: the build should say so.
            throw new IllegalStateException("training run failed: inspect exit " + inspected + ", scan exit "
                    + scanned);
        }
    }
}
