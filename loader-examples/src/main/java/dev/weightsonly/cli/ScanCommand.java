package dev.weightsonly.cli;

import dev.weightsonly.scan.FolderScan;
import dev.weightsonly.scan.GlobalReference;
import dev.weightsonly.scan.SarifReport;
import dev.weightsonly.scan.ScanJson;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.scan.Verdict;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code weightsonly scan PATH...}: the globals each file's pickles name (folders: every checkpoint under them), found without loading anything,
 * each marked allowed, needs allowlisting, or dangerous. Its exit status gates a CI pipeline.
 */
@Command(name = "scan", mixinStandardHelpOptions = true,
        header = "Lists the globals each checkpoint names, and whether a weights-only load allows them.",
        description = {"Lists the globals each checkpoint names, without running anything, and whether a weights-only"
                + " load allows them. It works on files the loader refuses and on broken ones.",
                "A file whose globals are all allowed is then loaded, as inspect would load it (nothing runs), so"
                + " exit status 0 means that the file loads."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every global is allowed and a weights-only load accepts the file",
                "1:some global needs allowlisting (--allow)", "2:usage error or unreadable file",
                "3:a global is dangerous, or a file is malformed, carries code or is refused by a weights-only load"})
final class ScanCommand implements Callable<Integer> {

    static final int NEEDS_ALLOWLISTING = 1;
    static final int DANGEROUS = 3;

    @Parameters(paramLabel = "PATH", arity = "1..*",
            description = "checkpoints, or folders to scan recursively (see docs/scan-json.md for what is scanned)")
    List<Path> files;

    @Option(names = "--allow", paramLabel = "module.Name",
            description = "count this global as allowed (repeatable), as inspect --allow would load it")
    List<String> allow = new ArrayList<>();

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
            completionCandidates = Formats.class,
            description = "text (default), json (schema: docs/scan-json.md) or sarif (SARIF 2.1.0)")
    String format;

    @Option(names = "--json", description = "the same as --format json")
    boolean json;

    /** The --format values. */
    static final class Formats extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        Formats() {
            super(List.of("text", "json", "sarif"));
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        String fmt = json ? "json" : format;
        if (!new Formats().contains(fmt)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--format is text, json or sarif, not '" + fmt + "'");
        }
        return run(files, allow, fmt, spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /**
     * A command line of {@code scan} that needs no parsing beyond its paths and options, read without picocli
     * (building picocli's model of the command line is most of a one-shot process's start): {@code --json},
     * {@code --format F} and {@code --allow N} (also as {@code --opt=value}) and paths. Anything else (help,
     * version, {@code --}, an unknown or misspelt option, a path that starts with {@code -} or an {@code @}
     * argument file, no path at all, an unknown format) returns null, and picocli reads the command line as
     * before, with its messages.
     *
     * @param args the arguments after {@code scan}
     * @return the exit status, or null if picocli must read the command line
     */
    static Integer runPlain(List<String> args, PrintWriter out, PrintWriter err) {
        List<Path> paths = new ArrayList<>();
        List<String> allowed = new ArrayList<>();
        String fmt = "text";
        boolean formatGiven = false;
        boolean jsonFlag = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            boolean joined = !name.equals(a);
            if (a.equals("--json")) {
                if (jsonFlag) {
                    return null; // picocli refuses an option given twice
                }
                jsonFlag = true;
            } else if (name.equals("--format") || name.equals("--allow")) {
                String value;
                if (joined) {
                    value = a.substring(a.indexOf('=') + 1);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    return null; // picocli says what is missing
                }
                if (value.isEmpty() || value.startsWith("-")) {
                    return null; // picocli decides whether that is a value or a missing one
                }
                if (name.equals("--format")) {
                    if (formatGiven) {
                        return null;
                    }
                    formatGiven = true;
                    fmt = value;
                } else {
                    allowed.add(value);
                }
            } else if (a.isEmpty() || a.startsWith("-") || a.startsWith("@") || a.indexOf('\0') >= 0) {
                return null;
            } else {
                paths.add(Path.of(a));
            }
        }
        String effective = jsonFlag ? "json" : fmt;
        if (paths.isEmpty() || !new Formats().contains(effective)) {
            return null;
        }
        return run(paths, allowed, effective, out, err);
    }

    private static int run(List<Path> files, List<String> allow, String fmt, PrintWriter out, PrintWriter err) {
        Set<String> allowed = Set.copyOf(allow);
        // Folders, links and the per-file grades: FolderScan (loader-core), shared with the Maven plugin.
        FolderScan.Result result = FolderScan.scan(files, allowed::contains);
        switch (fmt) {
            case "json" -> out.println(ScanJson.write(result));
            case "sarif" -> out.println(SarifReport.write(result, new Version().getVersion()[0].replace("weightsonly ", ""),
                    Path.of("").toAbsolutePath()));
            default -> {
                for (FolderScan.FileResult f : result.files()) {
                    if (f.report() == null) {
                        err.println("weightsonly: " + TerminalText.oneLine(f.path() + ": " + f.error()));
                    } else {
                        print(f.report(), f.outcome().exitStatus(), out);
                    }
                }
                if (result.files().size() != files.size() || files.size() > 1) {
                    ScanSummary.print(result, out);
                }
            }
        }
        out.flush();
        return result.worst().exitStatus();
    }

    private static String verdictWord(ScanReport report, int status) {
        boolean malformedOnly = status == DANGEROUS && !report.dangerousFormat()
                && report.globals().stream().noneMatch(g -> g.verdict() == Verdict.DANGEROUS);
        return switch (status) {
            case DANGEROUS -> malformedOnly ? "malformed" : "dangerous";
            case NEEDS_ALLOWLISTING -> "needs allowlisting";
            default -> "allowed";
        };
    }

    private static String label(Verdict v) {
        return switch (v) {
            case ALLOWED_BY_DEFAULT -> "allowed";
            case ALLOWED_BY_USER -> "allowed (--allow)";
            case NEEDS_ALLOWLISTING -> "needs allowlisting";
            case DANGEROUS -> "DANGEROUS";
        };
    }

    /** One entry per distinct name, in order of first appearance, with how often it appears. */
    private static Map<String, List<GlobalReference>> byName(ScanReport report) {
        Map<String, List<GlobalReference>> names = new LinkedHashMap<>();
        for (GlobalReference g : report.globals()) {
            names.computeIfAbsent(g.name(), k -> new ArrayList<>()).add(g);
        }
        return names;
    }

    private static void print(ScanReport report, int status, PrintWriter out) {
        Map<String, List<GlobalReference>> names = byName(report);
        out.println(TerminalText.escape(report.source()) + ": " + verdictWord(report, status) + " (" + names.size() + " distinct globals)");
        int width = 0;
        for (List<GlobalReference> refs : names.values()) {
            width = Math.max(width, label(refs.get(0).verdict()).length());
        }
        for (Map.Entry<String, List<GlobalReference>> e : names.entrySet()) {
            GlobalReference first = e.getValue().get(0);
            String label = label(first.verdict());
            StringBuilder line = new StringBuilder("  ").append(label).append(" ".repeat(width - label.length()))
                    .append("  ").append(TerminalText.escape(e.getKey()));
            if (e.getValue().size() > 1) {
                line.append("  (x").append(e.getValue().size()).append(')');
            }
            if (first.verdict() != Verdict.ALLOWED_BY_DEFAULT && first.verdict() != Verdict.ALLOWED_BY_USER) {
                line.append("  [").append(TerminalText.escape(first.record())).append(" @ ").append(first.offset()).append(']');
            }
            if (first.reason() != null) {
                line.append(": ").append(TerminalText.oneLine(first.reason()));
            }
            out.println(line);
        }
        for (String problem : report.problems()) {
            out.println("  problem: " + TerminalText.oneLine(problem));
        }
    }
}
