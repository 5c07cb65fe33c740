package dev.weightsonly.examples;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnreadableCheckpointException;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.internal.dump.JsonText;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Loads many checkpoints in one JVM: reads file paths from standard input, one a line, and prints for each
 * one line of JSON, flushed at once, so that a driver can feed thousands of files without starting a JVM
 * for each (the differential fuzzer, {@code tools/difffuzz}, compares these lines with PyTorch's).
 *
 * <pre>{"path": P, "verdict": "load", "dump": {...canonical dump...}, "scan": S}
 * {"path": P, "verdict": "load", "dump_error": "...", "scan": S}
 * {"path": P, "verdict": "refuse", "error": "MalformedCheckpointException: ...", "scan": S}
 * {"path": P, "verdict": "crash", "error": "java.lang.NullPointerException: ...", "scan": S}</pre>
 *
 * {@code scan} is what {@link GlobalScanner} says of the same file: {@code "clean"}, {@code "allowlist"}
 * (a global needs allowlisting) or {@code "dangerous"} (a dangerous global or a malformed file). "crash"
 * is any exception the library promises never to throw (docs/SECURITY.md): always a bug.
 *
 * <p>Run: {@code java -cp loader-examples/target/weightsonly.jar dev.weightsonly.examples.BatchDump < list}.
 */
public final class BatchDump {

    private BatchDump() {
    }

    /**
     * Reads paths from standard input until its end and prints one JSON line for each (empty lines skipped).
     *
     * @param args ignored: the paths come from standard input, so that a driver can keep one JVM busy
     * @throws IOException if standard input cannot be read (a checkpoint's failure is a line of output instead)
     */
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (!line.isEmpty()) {
                out.println(result(Path.of(line)));
                out.flush();
            }
        }
    }

    /** The JSON line for one file. */
    static String result(Path file) {
        StringBuilder sb = new StringBuilder("{\"path\":");
        JsonText.quote(file.toString(), sb);
        try (Checkpoint checkpoint = Checkpoint.load(file)) {
            sb.append(",\"verdict\":\"load\"");
            try {
                String dump = CanonicalDump.toJson(checkpoint.root(), checkpoint.limits().maxNestingDepth(),
                        10_000_000L);
                sb.append(",\"dump\":").append(dump);
            } catch (IllegalArgumentException e) {
                sb.append(",\"dump_error\":");
                JsonText.quote(String.valueOf(e.getMessage()), sb);
            }
        } catch (CheckpointException e) {
            // A file that cannot be read at all (missing, a directory) is no verdict on its content: it goes with
            // the crashes, which a run reports apart.
            boolean verdict = !(e instanceof UnreadableCheckpointException);
            sb.append(verdict ? ",\"verdict\":\"refuse\",\"error\":" : ",\"verdict\":\"crash\",\"error\":");
            JsonText.quote(e.getClass().getSimpleName() + ": " + e.getMessage(), sb);
        } catch (RuntimeException | Error e) {
            // A fuzzing run must go on after a broken promise, to report it with the others.
            sb.append(",\"verdict\":\"crash\",\"error\":");
            JsonText.quote(e.getClass().getName() + ": " + e.getMessage(), sb);
        }
        sb.append(",\"scan\":\"").append(scan(file)).append("\"}");
        return sb.toString();
    }

    private static String scan(Path file) {
        try {
            ScanReport report = GlobalScanner.scan(file, name -> false);
            return report.isDangerousOrMalformed() ? "dangerous" : report.needsAllowlisting() ? "allowlist" : "clean";
        } catch (IOException | RuntimeException | Error e) {
            return "crash " + e.getClass().getName();
        }
    }
}
