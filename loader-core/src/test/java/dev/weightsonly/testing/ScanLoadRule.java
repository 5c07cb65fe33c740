package dev.weightsonly.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.scan.Verdict;

/**
 * The one rule between {@code scan} and {@code inspect} (issue 12, class 2): a scan that exits 0 means a
 * weights-only load accepts the file, and a load that refuses a global means the scan named that global.
 */
public final class ScanLoadRule {

    private ScanLoadRule() {
    }

    /** {@code refusal}: what the load with the same allowed names threw, or null if it loaded. */
    public static void assertAgree(String label, ScanReport report, CheckpointException refusal) {
        if (report.exitStatus() == 0) {
            assertTrue(refusal == null, label + ": scan exits 0 but the load refuses it: "
                    + (refusal == null ? "" : refusal.getMessage()) + "\n" + report);
        }
        if (refusal instanceof UnsupportedGlobalException u) {
            // Named, whatever its verdict: an allowed global can be refused where the loader takes none (a
            // legacy stream's header pickles); the scan then reports the load's refusal too (exit 3, above).
            assertTrue(report.names(Verdict.values()).contains(u.globalName()),
                    label + ": the load refuses " + u.globalName() + ", which the scan does not name: " + report);
        }
    }
}
