package dev.weightsonly.cli;

import dev.weightsonly.dump.JsonText;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code weightsonly diff A B}: what changed between two checkpoints, tensor by tensor. Tensors are matched by
 * their dotted path ({@link Checkpoint#tensors()}); for each name the command reports whether it is only in one
 * file, whether its dtype or shape changed, and otherwise how many elements differ and by how much at most
 * ({@link TensorComparison}). Both files are mapped, and values are compared in bounded chunks, so checkpoints of
 * any size can be compared in little memory.
 *
 * <p>The exit status follows {@code diff(1)}, so that scripts can ask "did the weights change?": 0 identical, 1
 * different. A refused checkpoint is not "different": it exits with 3, after one line on standard error as
 * {@code inspect} prints it, and nothing on standard output.
 */
@Command(name = "diff", mixinStandardHelpOptions = true,
        description = {"Compares two checkpoints tensor by tensor (by dotted path): tensors only in A or only in B,",
                "dtype and shape changes, and for the others the number of differing elements and the largest",
                "absolute difference. NaN equals NaN and 0.0 equals -0.0; integers are compared exactly."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:identical (same names, dtypes, shapes and values)", "1:different",
                "2:usage or I/O error", "3:a checkpoint was refused (reason on standard error)"})
final class DiffCommand implements Callable<Integer> {

    static final int IDENTICAL = 0;
    static final int DIFFERENT = 1;
    static final int REFUSED = 3;

    @Parameters(index = "0", paramLabel = "A", description = "the first checkpoint")
    Path a;

    @Parameters(index = "1", paramLabel = "B", description = "the second checkpoint")
    Path b;

    @Option(names = "--json", description = "print one JSON document instead of the report")
    boolean json;

    @Option(names = "--allow", paramLabel = "module.Name",
            description = "allow this global in both loads (repeatable); its objects load as inert records")
    List<String> allow = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One name whose tensors are not the same in A and B (or that only one file has: then the other is null). */
    record Change(String name, Tensor inA, Tensor inB, TensorComparison.ValueDiff values) {
    }

    /** Everything the report prints, in A's order (then B's order for tensors only in B). */
    record Report(int countA, int countB, List<Change> changes, int equal) {
        boolean identical() {
            return changes.isEmpty();
        }
    }

    @Override
    public Integer call() throws IOException {
        LoadOptions options;
        try {
            options = LoadOptions.builder().allowGlobals(allow).build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        Report report;
        try (Checkpoint first = Checkpoint.load(a, options); Checkpoint second = Checkpoint.load(b, options)) {
            report = compare(first.tensors(), second.tensors());
        } catch (CheckpointException refused) {
            // Reported as inspect reports it, but with its own status: a refused file is not a "different" one.
            spec.commandLine().getErr().println("weightsonly: " + refused.getMessage().replace("\r", "").replace('\n', ' '));
            return REFUSED;
        }
        out.print(json ? toJson(report) : toText(report));
        out.flush();
        return report.identical() ? IDENTICAL : DIFFERENT;
    }

    /** Matches the tensors by name and compares each pair present in both. */
    static Report compare(Map<String, Tensor> inA, Map<String, Tensor> inB) {
        List<Change> changes = new ArrayList<>();
        int equal = 0;
        for (Map.Entry<String, Tensor> e : inA.entrySet()) {
            Tensor x = e.getValue();
            Tensor y = inB.get(e.getKey());
            if (y == null || x.dtype() != y.dtype() || !Arrays.equals(x.shape(), y.shape())) {
                changes.add(new Change(e.getKey(), x, y, null));
                continue;
            }
            TensorComparison.ValueDiff values = TensorComparison.compare(x, y);
            if (values.equal()) {
                equal++;
            } else {
                changes.add(new Change(e.getKey(), x, y, values));
            }
        }
        for (Map.Entry<String, Tensor> e : inB.entrySet()) {
            if (!inA.containsKey(e.getKey())) {
                changes.add(new Change(e.getKey(), null, e.getValue(), null));
            }
        }
        return new Report(inA.size(), inB.size(), changes, equal);
    }

    // ---------------------------------------------------------------------------------------------
    // Text

    private String toText(Report report) {
        StringBuilder sb = new StringBuilder();
        sb.append("A: ").append(a).append(" (").append(plural(report.countA(), "tensor")).append(")\n");
        sb.append("B: ").append(b).append(" (").append(plural(report.countB(), "tensor")).append(")\n");
        if (report.identical()) {
            sb.append("identical: ").append(plural(report.equal(), "tensor"))
                    .append(" with the same names, dtypes, shapes and values\n");
            return sb.toString();
        }
        int width = 0;
        for (Change c : report.changes()) {
            width = Math.max(width, c.name().length());
        }
        int onlyA = 0;
        int onlyB = 0;
        int dtypeOrShape = 0;
        int values = 0;
        for (Change c : report.changes()) {
            String marker;
            String what;
            if (c.inB() == null) {
                onlyA++;
                marker = "-";
                what = "only in A: " + describe(c.inA());
            } else if (c.inA() == null) {
                onlyB++;
                marker = "+";
                what = "only in B: " + describe(c.inB());
            } else if (c.values() == null) {
                dtypeOrShape++;
                marker = "~";
                what = geometryChange(c.inA(), c.inB());
            } else {
                values++;
                marker = "~";
                what = valueChange(c.inA(), c.values());
            }
            sb.append(marker).append(' ').append(c.name()).append(" ".repeat(width - c.name().length()))
                    .append("  ").append(what).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "different: %d only in A, %d only in B, %d with another dtype or shape,"
                + " %d with other values; %d equal%n", onlyA, onlyB, dtypeOrShape, values, report.equal()));
        return sb.toString();
    }

    private static String describe(Tensor t) {
        return t.dtype().torchName() + " " + Arrays.toString(t.shape());
    }

    /** {@code dtype float32 -> float16, shape [3, 4]}, {@code shape [3, 4] -> [4, 3], float32}, or both changes. */
    private static String geometryChange(Tensor x, Tensor y) {
        String dtype = x.dtype().torchName() + " -> " + y.dtype().torchName();
        String shape = Arrays.toString(x.shape()) + " -> " + Arrays.toString(y.shape());
        if (x.dtype() == y.dtype()) {
            return "shape " + shape + ", " + x.dtype().torchName();
        }
        if (Arrays.equals(x.shape(), y.shape())) {
            return "dtype " + dtype + ", shape " + Arrays.toString(x.shape());
        }
        return "dtype " + dtype + ", shape " + shape;
    }

    private static String valueChange(Tensor t, TensorComparison.ValueDiff d) {
        String count = String.format(Locale.ROOT, "%,d of %,d elements differ", d.differing(), d.elements());
        String max = d.maxAbsDiff() == null ? " (stored bytes compared)" : ", max |a-b| = " + number(d.maxAbsDiff());
        return "values: " + count + max + "; " + describe(t);
    }

    /** Doubles in their shortest exact form ({@code 0.0123}, {@code 1.5e-07}, {@code nan}); integers exactly. */
    static String number(Number n) {
        if (n instanceof Double v) {
            if (Double.isNaN(v)) {
                return "nan (a NaN against a number)";
            }
            return Double.isInfinite(v) ? "inf" : Double.toString(v).replace("E", "e");
        }
        return n.toString();
    }

    private static String plural(long n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }

    // ---------------------------------------------------------------------------------------------
    // JSON

    private String toJson(Report report) {
        StringBuilder sb = new StringBuilder("{\"a\":").append(JsonText.quote(a.toString()))
                .append(",\"b\":").append(JsonText.quote(b.toString()))
                .append(",\"identical\":").append(report.identical())
                .append(",\"tensors_in_a\":").append(report.countA())
                .append(",\"tensors_in_b\":").append(report.countB())
                .append(",\"equal\":").append(report.equal());
        List<String> onlyA = new ArrayList<>();
        List<String> onlyB = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        for (Change c : report.changes()) {
            if (c.inB() == null) {
                onlyA.add("{\"name\":" + JsonText.quote(c.name()) + "," + geometry(c.inA()) + "}");
            } else if (c.inA() == null) {
                onlyB.add("{\"name\":" + JsonText.quote(c.name()) + "," + geometry(c.inB()) + "}");
            } else if (c.values() == null) {
                String change = c.inA().dtype() != c.inB().dtype() && !Arrays.equals(c.inA().shape(), c.inB().shape())
                        ? "dtype_and_shape" : c.inA().dtype() != c.inB().dtype() ? "dtype" : "shape";
                changed.add("{\"name\":" + JsonText.quote(c.name()) + ",\"change\":\"" + change + "\",\"a\":{"
                        + geometry(c.inA()) + "},\"b\":{" + geometry(c.inB()) + "}}");
            } else {
                TensorComparison.ValueDiff d = c.values();
                changed.add("{\"name\":" + JsonText.quote(c.name()) + ",\"change\":\"values\"," + geometry(c.inA())
                        + ",\"elements\":" + d.elements() + ",\"differing\":" + d.differing()
                        + ",\"max_abs_diff\":" + jsonNumber(d.maxAbsDiff()) + "}");
            }
        }
        sb.append(",\"only_in_a\":[").append(String.join(",", onlyA)).append(']');
        sb.append(",\"only_in_b\":[").append(String.join(",", onlyB)).append(']');
        sb.append(",\"changed\":[").append(String.join(",", changed)).append("]}\n");
        return sb.toString();
    }

    private static String geometry(Tensor t) {
        StringBuilder shape = new StringBuilder("[");
        long[] s = t.shape();
        for (int i = 0; i < s.length; i++) {
            shape.append(i == 0 ? "" : ",").append(s[i]);
        }
        return "\"dtype\":\"" + t.dtype().torchName() + "\",\"shape\":" + shape.append(']');
    }

    /** A JSON number; NaN and infinity, which JSON lacks, as the strings {@code "nan"} and {@code "inf"}; null for none. */
    private static String jsonNumber(Number n) {
        if (n == null) {
            return "null";
        }
        if (n instanceof Double v && (v.isNaN() || v.isInfinite())) {
            return v.isNaN() ? "\"nan\"" : "\"inf\"";
        }
        return n instanceof BigInteger ? n.toString() : Double.toString(n.doubleValue());
    }
}
