package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The disagreements with PyTorch 2.6 that differential fuzzing found (tools/difffuzz, docs/DIFFERENTIAL-FUZZING.md),
 * one small file each under src/test/resources/difffuzz, with the verdict of both sides in expected.tsv. Each file
 * must get the verdict recorded for weightsonly, and a file both sides load must dump as PyTorch's dump of it
 * ({@code NAME.torch.json}, written by tools/difffuzz/dump26.py). The torch column is checked against real
 * PyTorch by {@code tools/difffuzz/difffuzz.py --replay} in .ci/run.
 *
 * <p>A row whose status is {@code pending:HELPER} is a disagreement whose fix is on another branch of the same
 * issue: until it is merged, this test requires the old (wrong) verdict, so that merging the fix fails here until
 * the row's status becomes {@code fixed} — a strict expected failure, never a skipped case. A row of kind
 * {@code scan-property} also requires that the scanner does not call clean a file the loader refuses for a global.
 */
class DiffFuzzRegressionTest {

    record Row(String file, String weightsonly, String torch, String kind, String status, String note) {
    }

    static Path folder() {
        Path p = Paths.get("src/test/resources/difffuzz");
        return Files.isDirectory(p) ? p : Paths.get("loader-core/src/test/resources/difffuzz");
    }

    static List<Row> rows() throws IOException {
        List<Row> rows = new ArrayList<>();
        for (String line : Files.readAllLines(folder().resolve("expected.tsv"), StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.split("\t", -1);
            assertEquals(6, c.length, "expected.tsv: six tab-separated columns: " + line);
            rows.add(new Row(c[0], c[1], c[2], c[3], c[4], c[5]));
        }
        return rows;
    }

    /** "load" with the dump, or "refuse". */
    static String[] verdict(Path file) {
        try (Checkpoint c = Checkpoint.load(file)) {
            return new String[] {"load", CanonicalDump.toJson(c.root(), c.limits().maxNestingDepth(), 10_000_000L)};
        } catch (CheckpointException e) {
            return new String[] {"refuse", e.getMessage()};
        } catch (IOException e) {
            throw new AssertionError(file + ": " + e, e);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyRegressionFileGetsItsRecordedVerdict() throws IOException {
        return rows().stream().map(row -> DynamicTest.dynamicTest(row.file() + " (" + row.kind() + ")", () -> {
            Path file = folder().resolve(row.file());
            String[] got = verdict(file);
            if (row.kind().equals("scan-property")) {
                // the loader refuses for a global: the scanner must not call the file clean
                ScanReport report = GlobalScanner.scan(file, name -> false);
                boolean clean = !report.isDangerousOrMalformed() && !report.needsAllowlisting();
                assertEquals(row.status().startsWith("pending:"), clean, row.file() + ": " + row.note()
                        + (row.status().startsWith("pending:") ? " (now fixed? set its status to 'fixed')" : ""));
                assertEquals(row.weightsonly(), got[0], row.file() + ": " + got[1]);
                return;
            }
            if (row.status().startsWith("pending:")) {
                String old = row.weightsonly().equals("load") ? "refuse" : "load";
                assertEquals(old, got[0], row.file() + " now gets the verdict its fix (" + row.status()
                        + ") gives: set its status in expected.tsv to 'fixed'. "
                        + got[1].substring(0, Math.min(got[1].length(), 300)));
                return;
            }
            assertEquals("fixed", row.status().startsWith("documented:") ? "fixed" : row.status(),
                    "status must be fixed, documented:RULE or pending:HELPER");
            assertEquals(row.weightsonly(), got[0], row.file() + ": " + row.note() + " — "
                    + got[1].substring(0, Math.min(got[1].length(), 300)));
            Path reference = folder().resolve(row.file().replaceFirst("\\.pt$", "") + ".torch.json");
            if (got[0].equals("load") && row.torch().equals("load")) {
                assertTrue(Files.isRegularFile(reference), "both load " + row.file() + ": commit torch's dump as "
                        + reference.getFileName());
                assertNull(Json.firstDifference(Json.parse(got[1]), Json.parse(Files.readString(reference))),
                        row.file() + ": the dump differs from PyTorch 2.6's");
            }
        }));
    }

    @Test
    void everyFileOfTheFolderHasARow() throws IOException {
        List<String> listed = rows().stream().map(Row::file).toList();
        try (Stream<Path> files = Files.list(folder())) {
            List<String> pt = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pt")).sorted().toList();
            assertEquals(pt, listed.stream().sorted().toList(), "expected.tsv lists exactly the .pt files");
        }
    }
}
