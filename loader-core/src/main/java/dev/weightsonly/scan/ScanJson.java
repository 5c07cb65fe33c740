package dev.weightsonly.scan;

import dev.weightsonly.internal.dump.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code scan --format json} document; its schema is docs/scan-json.md. One object: {@code files} (one
 * entry per file, in scan order), {@code models} (files grouped by model) and {@code summary} (the counts and
 * the exit status).
 */
public final class ScanJson {

    private ScanJson() {
    }

    /**
     * The document for {@code result}, on one line.
     *
     * @param result the scan to report
     * @return the JSON document docs/scan-json.md describes
     */
    public static String write(FolderScan.Result result) {
        StringBuilder sb = new StringBuilder("{\"files\":[");
        boolean first = true;
        for (FolderScan.FileResult f : result.files()) {
            sb.append(first ? "" : ",");
            file(f, sb);
            first = false;
        }
        sb.append("],\"models\":[");
        first = true;
        for (Map.Entry<String, List<FolderScan.FileResult>> m : result.models().entrySet()) {
            FolderScan.Outcome worst = m.getValue().stream().map(FolderScan.FileResult::outcome)
                    .max(Enum::compareTo).orElseThrow();
            sb.append(first ? "" : ",").append("{\"model\":").append(JsonText.quote(m.getKey()))
                    .append(",\"outcome\":").append(JsonText.quote(lower(worst))).append(",\"files\":[");
            for (int i = 0; i < m.getValue().size(); i++) {
                sb.append(i == 0 ? "" : ",").append(JsonText.quote(m.getValue().get(i).path()));
            }
            sb.append("]}");
            first = false;
        }
        FolderScan.Summary s = result.summary();
        sb.append("],\"summary\":{\"files\":").append(s.files()).append(",\"clean\":").append(s.clean())
                .append(",\"needs_allowlisting\":").append(s.needsAllowlisting())
                .append(",\"dangerous\":").append(s.dangerous()).append(",\"unreadable\":").append(s.unreadable())
                .append(",\"exit_status\":").append(result.worst().exitStatus()).append("}}");
        return sb.toString();
    }

    private static void file(FolderScan.FileResult f, StringBuilder sb) {
        sb.append("{\"file\":").append(JsonText.quote(f.path()))
                .append(",\"model\":").append(f.model() == null ? "null" : JsonText.quote(f.model()))
                .append(",\"verdict\":").append(JsonText.quote(f.verdictWord()))
                .append(",\"outcome\":").append(JsonText.quote(lower(f.outcome())))
                .append(",\"exit_status\":").append(f.outcome().exitStatus())
                .append(",\"globals\":[");
        boolean first = true;
        for (Map.Entry<String, List<GlobalReference>> e : byName(f).entrySet()) {
            GlobalReference g = e.getValue().get(0);
            sb.append(first ? "" : ",").append("{\"name\":").append(JsonText.quote(e.getKey()))
                    .append(",\"verdict\":").append(JsonText.quote(lower(g.verdict())))
                    .append(",\"count\":").append(e.getValue().size())
                    .append(",\"record\":").append(JsonText.quote(g.record()))
                    .append(",\"offset\":").append(g.offset())
                    .append(",\"opcode\":").append(JsonText.quote(g.opcode()))
                    .append(",\"reason\":").append(g.reason() == null ? "null" : JsonText.quote(g.reason()))
                    .append('}');
            first = false;
        }
        sb.append("],\"problems\":[");
        List<String> problems = problems(f);
        for (int i = 0; i < problems.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(JsonText.quote(problems.get(i)));
        }
        sb.append("]}");
    }

    /** The file's problems: the scan's, or why it could not be read. */
    static List<String> problems(FolderScan.FileResult f) {
        return f.report() == null ? List.of(f.error()) : f.report().problems();
    }

    /**
     * A file's globals grouped by name, as the JSON document and the tool's text report list them.
     *
     * @param f one file's result
     * @return one entry per distinct global name, in order of first appearance, with every reference to it;
     *     empty for an unreadable file
     */
    public static Map<String, List<GlobalReference>> byName(FolderScan.FileResult f) {
        Map<String, List<GlobalReference>> names = new LinkedHashMap<>();
        if (f.report() != null) {
            for (GlobalReference g : f.report().globals()) {
                names.computeIfAbsent(g.name(), k -> new ArrayList<>()).add(g);
            }
        }
        return names;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
