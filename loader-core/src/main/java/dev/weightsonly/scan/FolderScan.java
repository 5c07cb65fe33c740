package dev.weightsonly.scan;

import dev.weightsonly.internal.scan.ScanTargets;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Scans files and folders ({@link ScanTargets}) with {@link GlobalScanner} and grades each file, for the
 * tool's {@code scan} and the Maven plugin. A run's status is the worst file's.
 */
public final class FolderScan {

    /** A file's grade, worst last; {@link #exitStatus()} is the tool's documented status for it. */
    public enum Outcome {
        /** Every global is allowed. */
        CLEAN(0),
        /** Some global needs allowlisting, none is dangerous. */
        NEEDS_ALLOWLISTING(1),
        /** The file could not be read (missing, a link out of the tree, an I/O error). */
        UNREADABLE(2),
        /** A global is dangerous, the format carries code, or the file is malformed. */
        DANGEROUS(3);

        private final int exitStatus;

        Outcome(int exitStatus) {
            this.exitStatus = exitStatus;
        }

        public int exitStatus() {
            return exitStatus;
        }

        /** The grade of a scanned file. */
        public static Outcome of(ScanReport report) {
            return report.isDangerousOrMalformed() ? DANGEROUS
                    : report.needsAllowlisting() ? NEEDS_ALLOWLISTING : CLEAN;
        }
    }

    /**
     * One file's result.
     *
     * @param path    as reported
     * @param model   the model it belongs to, or null
     * @param report  what the scan found; null when unreadable
     * @param outcome its grade
     * @param error   why it is unreadable, else null
     */
    public record FileResult(String path, String model, ScanReport report, Outcome outcome, String error) {

        /** True for a dangerous grade that comes only from a broken file (no dangerous global, no code format). */
        public boolean malformedOnly() {
            return outcome == Outcome.DANGEROUS && !report.dangerousFormat()
                    && report.globals().stream().noneMatch(g -> g.verdict() == Verdict.DANGEROUS);
        }

        /** One word for the file: allowed, needs_allowlisting, dangerous, malformed or unreadable. */
        public String verdictWord() {
            return switch (outcome) {
                case CLEAN -> "allowed";
                case NEEDS_ALLOWLISTING -> "needs_allowlisting";
                case UNREADABLE -> "unreadable";
                case DANGEROUS -> malformedOnly() ? "malformed" : "dangerous";
            };
        }
    }

    /** How many files of each grade (malformed files count as dangerous, as their exit status does). */
    public record Summary(int files, int clean, int needsAllowlisting, int dangerous, int unreadable) {
    }

    /** A run: every file's result, in order. */
    public record Result(List<FileResult> files) {

        public Result {
            files = List.copyOf(files);
        }

        public Summary summary() {
            int[] n = new int[Outcome.values().length];
            files.forEach(f -> n[f.outcome().ordinal()]++);
            return new Summary(files.size(), n[0], n[1], n[3], n[2]);
        }

        /** The worst grade (CLEAN when there is no file). */
        public Outcome worst() {
            return files.stream().map(FileResult::outcome).max(Enum::compareTo).orElse(Outcome.CLEAN);
        }

        /** The files of each model, by model name in order of first appearance. */
        public Map<String, List<FileResult>> models() {
            Map<String, List<FileResult>> out = new LinkedHashMap<>();
            for (FileResult f : files) {
                if (f.model() != null) {
                    out.computeIfAbsent(f.model(), k -> new ArrayList<>()).add(f);
                }
            }
            return out;
        }
    }

    private FolderScan() {
    }

    /** Scans {@code paths} (files and folders); {@code userAllowed} as for {@link GlobalScanner#scan}. */
    public static Result scan(List<Path> paths, Predicate<String> userAllowed) {
        ScanTargets.Found found = ScanTargets.expand(paths);
        List<FileResult> results = new ArrayList<>();
        for (ScanTargets.Target t : found.targets()) {
            results.add(scanOne(t, userAllowed));
        }
        for (ScanTargets.Unreadable u : found.unreadable()) {
            results.add(new FileResult(u.path(), null, null, Outcome.UNREADABLE, u.reason()));
        }
        return new Result(results);
    }

    static FileResult scanOne(ScanTargets.Target t, Predicate<String> userAllowed) {
        try {
            ScanReport report = GlobalScanner.scan(t.file(), userAllowed); // its source is t.path()
            return new FileResult(t.path(), t.model(), report, Outcome.of(report), null);
        } catch (NoSuchFileException e) {
            return new FileResult(t.path(), t.model(), null, Outcome.UNREADABLE, "no such file");
        } catch (IOException e) {
            return new FileResult(t.path(), t.model(), null, Outcome.UNREADABLE, String.valueOf(e.getMessage()));
        }
    }
}
