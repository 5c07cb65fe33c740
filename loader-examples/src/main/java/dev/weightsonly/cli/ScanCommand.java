package dev.weightsonly.cli;

import dev.weightsonly.dump.JsonText;
import dev.weightsonly.scan.GlobalReference;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.scan.Verdict;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
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
 * {@code weightsonly scan FILE...}: the globals each file's pickles name, found without loading anything,
 * each marked allowed, needs allowlisting, or dangerous. Its exit status gates a CI pipeline.
 */
@Command(name = "scan", mixinStandardHelpOptions = true,
        description = {"Lists the globals each checkpoint names, without loading it, and whether a weights-only",
                "load allows them. Works on files the loader refuses and on broken ones."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every global is allowed", "1:some global needs allowlisting (--allow)",
                "2:usage error or unreadable file", "3:a global is dangerous, or a file is malformed or carries code"})
final class ScanCommand implements Callable<Integer> {

    static final int NEEDS_ALLOWLISTING = 1;
    static final int DANGEROUS = 3;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "checkpoints to scan")
    List<Path> files;

    @Option(names = "--allow", paramLabel = "module.Name",
            description = "count this global as allowed (repeatable), as inspect --allow would load it")
    List<String> allow = new ArrayList<>();

    @Option(names = "--json", description = "print one JSON document instead of the report")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Set<String> allowed = Set.copyOf(allow);
        int status = 0;
        List<String> jsonFiles = new ArrayList<>();
        for (Path file : files) {
            ScanReport report;
            try {
                report = GlobalScanner.scan(file, allowed::contains);
            } catch (NoSuchFileException e) {
                err.println("weightsonly: " + TerminalText.escape(file + ": no such file"));
                status = Math.max(status, WeightsOnlyCommand.USAGE_OR_IO);
                continue;
            } catch (IOException e) {
                err.println("weightsonly: " + TerminalText.oneLine(file + ": " + e.getMessage()));
                status = Math.max(status, WeightsOnlyCommand.USAGE_OR_IO);
                continue;
            }
            int fileStatus = report.isDangerousOrMalformed() ? DANGEROUS
                    : report.needsAllowlisting() ? NEEDS_ALLOWLISTING : 0;
            status = Math.max(status, fileStatus);
            if (json) {
                jsonFiles.add(toJson(report, fileStatus));
            } else {
                print(report, fileStatus, out);
            }
        }
        if (json) {
            out.println("{\"files\":[" + String.join(",", jsonFiles) + "]}");
        }
        out.flush();
        return status;
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

    private static String toJson(ScanReport report, int status) {
        StringBuilder sb = new StringBuilder("{\"file\":").append(JsonText.quote(report.source()))
                .append(",\"verdict\":").append(JsonText.quote(verdictWord(report, status).replace(' ', '_')))
                .append(",\"globals\":[");
        boolean first = true;
        for (Map.Entry<String, List<GlobalReference>> e : byName(report).entrySet()) {
            GlobalReference g = e.getValue().get(0);
            sb.append(first ? "" : ",").append("{\"name\":").append(JsonText.quote(e.getKey()))
                    .append(",\"verdict\":").append(JsonText.quote(g.verdict().name().toLowerCase(java.util.Locale.ROOT)))
                    .append(",\"count\":").append(e.getValue().size())
                    .append(",\"record\":").append(JsonText.quote(g.record()))
                    .append(",\"offset\":").append(g.offset())
                    .append(",\"reason\":").append(g.reason() == null ? "null" : JsonText.quote(g.reason())).append('}');
            first = false;
        }
        sb.append("],\"problems\":[");
        for (int i = 0; i < report.problems().size(); i++) {
            sb.append(i == 0 ? "" : ",").append(JsonText.quote(report.problems().get(i)));
        }
        return sb.append("]}").toString();
    }
}
