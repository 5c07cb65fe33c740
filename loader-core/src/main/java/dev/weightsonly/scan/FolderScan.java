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

        /**
         * The exit status {@code weightsonly scan} gives a run whose worst file has this grade, so that scripts
         * and CI can tell "needs allowlisting" from "dangerous".
         *
         * @return 0 for clean, 1 for needs allowlisting, 2 for unreadable, 3 for dangerous
         */
        public int exitStatus() {
            return exitStatus;
        }

        /**
         * The grade of a scanned file.
         *
         * @param report what the scanner found in the file
         * @return {@link #DANGEROUS} for a dangerous global, a code-carrying format or a malformed file,
         *     else {@link #NEEDS_ALLOWLISTING} if a global needs allowlisting, else {@link #CLEAN}
         */
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

        /**
         * Whether a dangerous grade comes only from a broken file, which a report words differently from an attack.
         *
         * @return true for a dangerous grade with no dangerous global and no code-carrying format
         */
        public boolean malformedOnly() {
            return outcome == Outcome.DANGEROUS && !report.dangerousFormat()
                    && report.globals().stream().noneMatch(g -> g.verdict() == Verdict.DANGEROUS);
        }

        /**
         * One word for the file, as the tool's text and JSON reports print it.
         *
         * @return {@code allowed}, {@code needs_allowlisting}, {@code dangerous}, {@code malformed} or
         *     {@code unreadable}
         */
        public String verdictWord() {
            return switch (outcome) {
                case CLEAN -> "allowed";
                case NEEDS_ALLOWLISTING -> "needs_allowlisting";
                case UNREADABLE -> "unreadable";
                case DANGEROUS -> malformedOnly() ? "malformed" : "dangerous";
            };
        }
    }

    /**
     * How many files of each grade (malformed files count as dangerous, as their exit status does).
     *
     * @param files every file of the run
     * @param clean files whose every global is allowed
     * @param needsAllowlisting files with a global that needs allowlisting and none dangerous
     * @param dangerous files with a dangerous global, a code-carrying format, or malformed
     * @param unreadable files that could not be read
     */
    public record Summary(int files, int clean, int needsAllowlisting, int dangerous, int unreadable) {
    }

    /**
     * A run: every file's result, in order.
     *
     * @param files the results, readable files first in the order found, then the unreadable ones
     */
    public record Result(List<FileResult> files) {

        /**
         * Keeps an immutable copy of the results.
         *
         * @throws NullPointerException if {@code files} or a result is null
         */
        public Result {
            files = List.copyOf(files);
        }

        /**
         * Counts the files of each grade, for a report's totals line.
         *
         * @return the counts
         */
        public Summary summary() {
            int[] n = new int[Outcome.values().length];
            files.forEach(f -> n[f.outcome().ordinal()]++);
            return new Summary(files.size(), n[0], n[1], n[3], n[2]);
        }

        /**
         * The grade of the run, which decides the tool's exit status and whether the Maven plugin fails the build.
         *
         * @return the worst grade of any file, {@link Outcome#CLEAN} when there is no file
         */
        public Outcome worst() {
            return files.stream().map(FileResult::outcome).max(Enum::compareTo).orElse(Outcome.CLEAN);
        }

        /**
         * The files of each model (a hub snapshot, or a folder with a shard index), so that a report can speak of
         * a model rather than of its shards.
         *
         * @return model name ({@code org/name@rev}, or the sharded folder) to its files, in order of first
         *     appearance; files of no model are left out
         */
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

    /**
     * Scans {@code paths}: files as given, folders recursively for the model file names {@link ScanTargets}
     * lists. Never loads a file, and never throws for a file: an unreadable one is a result too.
     *
     * <p>The files are scanned on the available cores (the common fork-join pool and the calling thread), each
     * file by one thread; the results are in the order {@link ScanTargets} found the files, whatever order the
     * scans finished in.
     *
     * @param paths files and folders
     * @param userAllowed the globals the caller allows beyond PyTorch's, as for {@link GlobalScanner#scan}; asked
     *     from several threads at once, so it must be safe for that (a lookup in an unchanging set is)
     * @return every file's result and grade
     */
    public static Result scan(List<Path> paths, Predicate<String> userAllowed) {
        ScanTargets.Found found = ScanTargets.expand(paths);
        // A CI gate scans folders of many small files: each scan is independent, so the cores share them.
        List<FileResult> results = new ArrayList<>(found.targets().parallelStream()
                .map(t -> scanOne(t, userAllowed)).toList());
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
