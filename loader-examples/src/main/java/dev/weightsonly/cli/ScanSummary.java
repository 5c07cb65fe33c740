package dev.weightsonly.cli;

import dev.weightsonly.scan.FolderScan;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** The closing lines of {@code scan} over folders or several files: one line per model, then the counts. */
final class ScanSummary {

    private ScanSummary() {
    }

    static void print(FolderScan.Result result, PrintWriter out) {
        for (Map.Entry<String, List<FolderScan.FileResult>> m : result.models().entrySet()) {
            FolderScan.FileResult worst = m.getValue().stream()
                    .max((a, b) -> a.outcome().compareTo(b.outcome())).orElseThrow();
            out.println("model " + m.getKey() + ": " + worst.verdictWord().replace('_', ' ') + " ("
                    + m.getValue().size() + " file" + (m.getValue().size() == 1 ? "" : "s") + ")");
        }
        FolderScan.Summary s = result.summary();
        out.println(s.files() + " file" + (s.files() == 1 ? "" : "s") + ": " + s.clean() + " clean, "
                + s.needsAllowlisting() + " need allowlisting, " + s.dangerous() + " dangerous or malformed, "
                + s.unreadable() + " unreadable");
    }
}
