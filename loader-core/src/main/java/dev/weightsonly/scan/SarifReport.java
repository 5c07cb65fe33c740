package dev.weightsonly.scan;

import dev.weightsonly.internal.dump.JsonText;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A scan as a SARIF 2.1.0 log (the format code-scanning dashboards read), one run of the tool
 * {@code weightsonly}. There is a rule per kind of finding ({@link Rule}); a result per distinct global
 * that is dangerous or needs allowlisting in a file, and per problem of a file (code-carrying format,
 * malformed, unreadable). Each result's level is the verdict's ({@code error} for what fails a gate with status
 * 3 or 2, {@code warning} for what needs allowlisting), its message names the global, and its location is the
 * file (physical) and the pickle record inside it (logical, kind {@code resource}); the global's name, the
 * record, the opcode's offset in that pickle and the count of references are in the result's properties.
 * Clean files produce no result. Relative paths are relative to {@code %SRCROOT%}, the folder given.
 */
public final class SarifReport {

    /** The kinds of finding, in the order of the rules array. */
    public enum Rule {
        /** WO001, error: a global that runs code, reaches the system or deserialises again. */
        DANGEROUS_GLOBAL("WO001", "DangerousGlobal", "error", "9.8",
                "A pickle names a global that runs code, reaches the system or deserialises again",
                "A weights-only load refuses this file. Do not load it with torch.load(weights_only=False):"
                        + " the global runs when the file is unpickled."),
        /** WO002, warning: a global outside PyTorch's allowlist that the caller has not allowed. */
        GLOBAL_NEEDS_ALLOWLISTING("WO002", "GlobalNeedsAllowlisting", "warning", "5.0",
                "A pickle names a global outside PyTorch's default weights-only allowlist",
                "A weights-only load refuses this file unless the global is allowed explicitly"
                        + " (--allow, LoadOptions.allowGlobal, the Maven plugin's <allow>) after reviewing it."),
        /** WO003, error: a format that carries code (a TorchScript archive). */
        CODE_CARRYING_FORMAT("WO003", "CodeCarryingFormat", "error", "8.8",
                "The file's format carries code (a TorchScript archive)",
                "torch.jit.load would run the archive's code; a weights-only load refuses it."),
        /** WO004, error: a file a load refuses as malformed, which hides what it holds. */
        MALFORMED("WO004", "MalformedCheckpoint", "error", "7.5",
                "The file is malformed: a load refuses it",
                "The file cannot be read through; a broken or crafted stream hides what it holds."),
        /** WO005, error: a file that could not be read (missing, a link out of the tree, an I/O error). */
        UNREADABLE("WO005", "UnreadableFile", "error", "5.0",
                "The file could not be read (missing, a link out of the tree, an I/O error)",
                "Fix the path, or remove the link that leads out of the scanned folder.");

        private final String id;
        private final String ruleName;
        private final String level;
        private final String securitySeverity;
        private final String shortText;
        private final String help;

        Rule(String id, String ruleName, String level, String securitySeverity, String shortText, String help) {
            this.id = id;
            this.ruleName = ruleName;
            this.level = level;
            this.securitySeverity = securitySeverity;
            this.shortText = shortText;
            this.help = help;
        }

        /**
         * The rule's stable id, which SARIF results and dashboards' suppressions refer to.
         *
         * @return {@code WO001} to {@code WO005}
         */
        public String id() {
            return id;
        }

        /**
         * The SARIF level of the rule's results.
         *
         * @return {@code error} for what fails a gate, {@code warning} for what needs allowlisting
         */
        public String level() {
            return level;
        }
    }

    private SarifReport() {
    }

    /**
     * The log for {@code result}.
     *
     * @param result the scan to report
     * @param version the tool's version
     * @param srcRoot the folder relative paths are relative to (becomes {@code %SRCROOT%}), or null
     * @return the SARIF 2.1.0 JSON document
     */
    public static String write(FolderScan.Result result, String version, Path srcRoot) {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",")
                .append("\"runs\":[{\"tool\":{\"driver\":{\"name\":\"weightsonly\",")
                .append("\"version\":").append(JsonText.quote(version)).append(",\"rules\":[");
        Rule[] rules = Rule.values();
        for (int i = 0; i < rules.length; i++) {
            Rule r = rules[i];
            sb.append(i == 0 ? "" : ",").append("{\"id\":").append(JsonText.quote(r.id))
                    .append(",\"name\":").append(JsonText.quote(r.ruleName))
                    .append(",\"shortDescription\":{\"text\":").append(JsonText.quote(r.shortText)).append('}')
                    .append(",\"help\":{\"text\":").append(JsonText.quote(r.help)).append('}')
                    .append(",\"defaultConfiguration\":{\"level\":").append(JsonText.quote(r.level)).append('}')
                    .append(",\"properties\":{\"tags\":[\"security\"],\"security-severity\":")
                    .append(JsonText.quote(r.securitySeverity)).append("}}");
        }
        sb.append("]}},");
        if (srcRoot != null) {
            String root = srcRoot.toAbsolutePath().normalize().toUri().toString();
            sb.append("\"originalUriBaseIds\":{\"%SRCROOT%\":{\"uri\":")
                    .append(JsonText.quote(root.endsWith("/") ? root : root + "/")).append("}},");
        }
        sb.append("\"invocations\":[{\"executionSuccessful\":true,\"exitCode\":")
                .append(result.worst().exitStatus()).append("}],\"results\":[");
        Results out = new Results(sb, srcRoot != null);
        for (FolderScan.FileResult f : result.files()) {
            if (f.report() == null) {
                out.add(Rule.UNREADABLE, f.path(), null, f.path() + ": " + f.error(), null);
                continue;
            }
            for (Map.Entry<String, List<GlobalReference>> e : ScanJson.byName(f).entrySet()) {
                GlobalReference g = e.getValue().get(0);
                Rule rule = switch (g.verdict()) {
                    case DANGEROUS -> Rule.DANGEROUS_GLOBAL;
                    case NEEDS_ALLOWLISTING -> Rule.GLOBAL_NEEDS_ALLOWLISTING;
                    default -> null;
                };
                if (rule == null) {
                    continue;
                }
                String text = e.getKey() + (rule == Rule.DANGEROUS_GLOBAL ? " is dangerous" : " needs allowlisting")
                        + (g.reason() == null ? "" : ": " + g.reason())
                        + " (" + g.opcode() + " in " + g.record() + " at pickle offset " + g.offset()
                        + (e.getValue().size() > 1 ? "; " + e.getValue().size() + " references" : "") + ")";
                out.add(rule, f.path(), g.record(), text, "{\"global\":" + JsonText.quote(e.getKey())
                        + ",\"verdict\":" + JsonText.quote(g.verdict().name().toLowerCase(java.util.Locale.ROOT))
                        + ",\"record\":" + JsonText.quote(g.record()) + ",\"offset\":" + g.offset()
                        + ",\"opcode\":" + JsonText.quote(g.opcode()) + ",\"count\":" + e.getValue().size() + "}");
            }
            boolean codeReported = false;
            for (String problem : f.report().problems()) {
                boolean code = f.report().dangerousFormat() && !codeReported && problem.contains("TorchScript");
                codeReported |= code;
                out.add(code ? Rule.CODE_CARRYING_FORMAT : Rule.MALFORMED, f.path(), null, problem, null);
            }
            if (f.report().dangerousFormat() && !codeReported) {
                out.add(Rule.CODE_CARRYING_FORMAT, f.path(), null, "the file's format carries code", null);
            }
        }
        return sb.append("]}]}").toString();
    }

    /** Appends results to the array. */
    private static final class Results {
        private final StringBuilder sb;
        private final boolean relativeToRoot;
        private boolean first = true;

        Results(StringBuilder sb, boolean relativeToRoot) {
            this.sb = sb;
            this.relativeToRoot = relativeToRoot;
        }

        void add(Rule rule, String path, String record, String text, String properties) {
            sb.append(first ? "" : ",").append("{\"ruleId\":").append(JsonText.quote(rule.id))
                    .append(",\"ruleIndex\":").append(rule.ordinal())
                    .append(",\"level\":").append(JsonText.quote(rule.level))
                    .append(",\"message\":{\"text\":").append(JsonText.quote(text.replace('\n', ' '))).append('}')
                    .append(",\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{");
            String uri = uri(path);
            sb.append("\"uri\":").append(JsonText.quote(uri));
            if (relativeToRoot && !Path.of(path).isAbsolute()) {
                sb.append(",\"uriBaseId\":\"%SRCROOT%\"");
            }
            sb.append("}}");
            if (record != null) {
                sb.append(",\"logicalLocations\":[{\"name\":").append(JsonText.quote(record))
                        .append(",\"fullyQualifiedName\":").append(JsonText.quote(path + "/" + record))
                        .append(",\"kind\":\"resource\"}]");
            }
            sb.append("}]");
            if (properties != null) {
                sb.append(",\"properties\":").append(properties);
            }
            sb.append('}');
            first = false;
        }
    }

    /** A path as a URI reference: a file URI when absolute, else relative with '/' separators, escaped. */
    static String uri(String path) {
        Path p = Path.of(path);
        if (p.isAbsolute()) {
            return p.toUri().toString();
        }
        String slashes = path.replace(java.io.File.separatorChar, '/');
        try {
            // A relative path whose first segment has a ':' would read as a scheme: "./" keeps it a path.
            String safe = slashes.indexOf(':') >= 0 && (slashes.indexOf('/') < 0
                    || slashes.indexOf(':') < slashes.indexOf('/')) ? "./" + slashes : slashes;
            return new URI(null, null, safe, null).toASCIIString();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("no URI for path " + path, e);
        }
    }
}
