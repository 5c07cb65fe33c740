package dev.weightsonly.scan;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a static scan of a file found: every global each of its pickles names, and the problems that
 * stopped or worried the scan (a broken stream, a TorchScript archive). Globals read before a break are
 * still reported.
 *
 * @param source   the file name
 * @param globals  every reference, in file order
 * @param problems malformed streams, unreadable containers, formats that carry code, a weights-only load's
 *                 refusal of a file the walk found clean; empty for a clean file
 * @param dangerousFormat true when the container itself carries code (a TorchScript archive)
 */
public record ScanReport(String source, List<GlobalReference> globals, List<String> problems, boolean dangerousFormat) {

    /**
     * Keeps immutable copies of the lists.
     *
     * @throws NullPointerException if a list or an element is null
     */
    public ScanReport {
        globals = List.copyOf(globals);
        problems = List.copyOf(problems);
    }

    /**
     * The names of the globals with the given verdicts, for example those to review before allowing them.
     *
     * @param verdicts the verdicts wanted
     * @return the distinct names, in order of first appearance, whose verdict is one of {@code verdicts}
     */
    public List<String> names(Verdict... verdicts) {
        Set<Verdict> wanted = Set.of(verdicts);
        Set<String> out = new LinkedHashSet<>();
        for (GlobalReference g : globals) {
            if (wanted.contains(g.verdict())) {
                out.add(g.name());
            }
        }
        return List.copyOf(out);
    }

    /**
     * Whether no allowlist could make the file load safely.
     *
     * @return true if any global is dangerous, the format carries code, or the file could not be read through
     */
    public boolean isDangerousOrMalformed() {
        return dangerousFormat || !problems.isEmpty()
                || globals.stream().anyMatch(g -> g.verdict() == Verdict.DANGEROUS);
    }

    /**
     * Whether some global needs allowlisting; check {@link #isDangerousOrMalformed()} first, which outranks it.
     *
     * @return true if some global is outside both PyTorch's allowlist and the caller's
     */
    public boolean needsAllowlisting() {
        return globals.stream().anyMatch(g -> g.verdict() == Verdict.NEEDS_ALLOWLISTING);
    }

    /**
     * The exit status {@code weightsonly scan} gives this file: 3 when {@link #isDangerousOrMalformed()} (a
     * dangerous global, code in the container, a broken file, or a file a weights-only load refuses), else 1
     * when some global {@link #needsAllowlisting()}, else 0 (the file loads).
     *
     * @return 3, 1 or 0
     */
    public int exitStatus() {
        return isDangerousOrMalformed() ? 3 : needsAllowlisting() ? 1 : 0;
    }
}
