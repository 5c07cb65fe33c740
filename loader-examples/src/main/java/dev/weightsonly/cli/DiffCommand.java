package dev.weightsonly.cli;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnreadableCheckpointException;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.dump.JsonText;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
 * any size can be compared in little memory. Sparse tensors ({@link Checkpoint#sparseTensors()}) are compared by
 * layout, size, dtype and stored parts ({@link SparseParts}). The work is bounded before it starts: the elements
 * to read are counted ({@link TensorComparison#elementsToRead}) and checked against {@code --max-elements}.
 *
 * <p>The exit status follows {@code diff(1)}, so that scripts can ask "did the weights change?": 0 identical, 1
 * different. A refused checkpoint is not "different": it exits with 3, after one line on standard error as
 * {@code inspect} prints it, and nothing on standard output.
 */
@Command(name = "diff", mixinStandardHelpOptions = true,
        header = "Compares two checkpoints tensor by tensor.",
        description = {"Compares two checkpoints tensor by tensor, by dotted path: it lists the tensors only in A or"
                + " only in B, the changes of dtype and shape, and for the others the number of differing elements"
                + " and the largest absolute difference.",
                "NaN equals NaN and 0.0 equals -0.0; integers are compared exactly."},
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

    @Option(names = "--max-elements", paramLabel = "N",
            description = "the most elements the comparison may read from each file, checked before it starts"
                    + " (default: 2^30 plus the two files' sizes in bytes; views that repeat one value, as expand"
                    + " makes, count once per stored value)")
    Long maxElements;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * One name whose tensors are not the same in A and B (or that only one file has: then the other is null).
     * A tensor is a {@link Tensor} or a {@link SparseTensor}; {@code values} is set when only the values of two
     * dense tensors differ, {@code parts} when the stored parts of two sparse tensors of one layout and size do.
     */
    record Change(String name, Object inA, Object inB, TensorComparison.ValueDiff values, List<PartChange> parts) {
        Change(String name, Object inA, Object inB, TensorComparison.ValueDiff values) {
            this(name, inA, inB, values, null);
        }
    }

    /** One stored part of a sparse tensor that differs: in its shape (then {@code values} is null) or its values. */
    record PartChange(String part, Tensor inA, Tensor inB, TensorComparison.ValueDiff values) {
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
        long limit = maxElements != null ? maxElements : defaultLimit(a, b);
        // One file given twice is loaded once: its views are then the same views, equal without reading them.
        boolean same = Files.isSameFile(a, b);
        try (Checkpoint first = Checkpoint.load(a, options);
                Checkpoint second = same ? first : Checkpoint.load(b, options)) {
            Map<String, Object> inA = allTensors(first);
            Map<String, Object> inB = allTensors(second);
            long work = elementsToRead(inA, inB);
            if (work > limit) {
                spec.commandLine().getErr().println("weightsonly: " + overLimit(work, limit));
                return REFUSED;
            }
            report = compareAll(inA, inB);
        } catch (UnreadableCheckpointException unreadable) {
            throw unreadable; // an I/O error (status 2), not a refusal
        } catch (CheckpointException refused) {
            // Reported as inspect reports it, but with its own status: a refused file is not a "different" one.
            spec.commandLine().getErr().println("weightsonly: " + WeightsOnlyCommand.refusal(refused, spec));
            return REFUSED;
        }
        out.print(json ? toJson(report) : toText(report));
        out.flush();
        return report.identical() ? IDENTICAL : DIFFERENT;
    }

    /** The default of {@code --max-elements}: 2^30 plus the files' sizes (every stored element takes a byte). */
    static long defaultLimit(Path... files) throws IOException {
        long limit = 1L << 30;
        for (Path f : files) {
            limit = Math.addExact(limit, Files.size(f));
        }
        return limit;
    }

    /** The one-line refusal when a comparison would read more than {@code limit} elements. */
    static String overLimit(long work, long limit) {
        return String.format(Locale.ROOT, "comparing these files would read %,d elements from each, more than the"
                + " limit of %,d (views can repeat a few stored values to any size); not compared. Pass"
                + " --max-elements %d to compare them anyway", work, limit, work);
    }

    /** Every tensor of the checkpoint by dotted path: the dense ones, then the sparse ones. */
    static Map<String, Object> allTensors(Checkpoint checkpoint) {
        Map<String, Object> all = new LinkedHashMap<>(checkpoint.tensors());
        checkpoint.sparseTensors().forEach(all::putIfAbsent);
        return all;
    }

    /** The elements {@link #compareAll} would read from each side, counted before reading any (saturating). */
    static long elementsToRead(Map<String, Object> inA, Map<String, Object> inB) {
        long total = 0;
        for (Map.Entry<String, Object> e : inA.entrySet()) {
            Object y = inB.get(e.getKey());
            if (e.getValue() instanceof Tensor x && y instanceof Tensor t && comparable(x, t)) {
                total = saturatingAdd(total, TensorComparison.elementsToRead(x, t));
            } else if (e.getValue() instanceof SparseTensor x && y instanceof SparseTensor t && comparable(x, t)) {
                Map<String, Tensor> py = SparseParts.of(t);
                for (Map.Entry<String, Tensor> part : SparseParts.of(x).entrySet()) {
                    if (comparable(part.getValue(), py.get(part.getKey()))) {
                        total = saturatingAdd(total, TensorComparison.elementsToRead(part.getValue(),
                                py.get(part.getKey())));
                    }
                }
            }
        }
        return total;
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    private static boolean comparable(Tensor x, Tensor y) {
        return x.dtype() == y.dtype() && Arrays.equals(x.shape(), y.shape());
    }

    private static boolean comparable(SparseTensor x, SparseTensor y) {
        return x.layout() == y.layout() && x.values().dtype() == y.values().dtype()
                && Arrays.equals(x.size(), y.size());
    }

    /** Matches the dense tensors by name and compares each pair present in both. */
    static Report compare(Map<String, Tensor> inA, Map<String, Tensor> inB) {
        return compareAll(new LinkedHashMap<>(inA), new LinkedHashMap<>(inB));
    }

    /** Matches the tensors (dense or sparse) by name and compares each pair present in both. */
    static Report compareAll(Map<String, Object> inA, Map<String, Object> inB) {
        List<Change> changes = new ArrayList<>();
        int equal = 0;
        for (Map.Entry<String, Object> e : inA.entrySet()) {
            Object x = e.getValue();
            Object y = inB.get(e.getKey());
            if (x instanceof Tensor u && y instanceof Tensor v && comparable(u, v)) {
                TensorComparison.ValueDiff values = TensorComparison.compare(u, v);
                if (values.equal()) {
                    equal++;
                } else {
                    changes.add(new Change(e.getKey(), x, y, values));
                }
            } else if (x instanceof SparseTensor u && y instanceof SparseTensor v && comparable(u, v)) {
                List<PartChange> parts = new ArrayList<>();
                Map<String, Tensor> pv = SparseParts.of(v);
                for (Map.Entry<String, Tensor> part : SparseParts.of(u).entrySet()) {
                    Tensor p = part.getValue();
                    Tensor q = pv.get(part.getKey());
                    TensorComparison.ValueDiff values = comparable(p, q) ? TensorComparison.compare(p, q) : null;
                    if (values == null || !values.equal()) {
                        parts.add(new PartChange(part.getKey(), p, q, values));
                    }
                }
                if (parts.isEmpty()) {
                    equal++;
                } else {
                    changes.add(new Change(e.getKey(), x, y, null, List.copyOf(parts)));
                }
            } else {
                changes.add(new Change(e.getKey(), x, y, null));  // only in A, or another kind, dtype or shape
            }
        }
        for (Map.Entry<String, Object> e : inB.entrySet()) {
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
        sb.append("A: ").append(TerminalText.escape(a.toString())).append(" (").append(plural(report.countA(), "tensor")).append(")\n");
        sb.append("B: ").append(TerminalText.escape(b.toString())).append(" (").append(plural(report.countB(), "tensor")).append(")\n");
        if (report.identical()) {
            sb.append("identical: ").append(plural(report.equal(), "tensor"))
                    .append(" with the same names, dtypes, shapes and values\n");
            return sb.toString();
        }
        int width = 0;
        for (Change c : report.changes()) {
            width = Math.max(width, TerminalText.escape(c.name()).length());
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
            } else if (c.parts() != null) {
                values++;
                marker = "~";
                what = partsChange(c);
            } else if (c.values() == null) {
                dtypeOrShape++;
                marker = "~";
                what = c.inA() instanceof Tensor x && c.inB() instanceof Tensor y ? geometryChange(x, y)
                        : describe(c.inA()) + " -> " + describe(c.inB());
            } else {
                values++;
                marker = "~";
                what = valueChange((Tensor) c.inA(), c.values());
            }
            String name = TerminalText.escape(c.name());
            sb.append(marker).append(' ').append(name).append(" ".repeat(width - name.length()))
                    .append("  ").append(what).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "different: %d only in A, %d only in B, %d with another dtype or shape,"
                + " %d with other values; %d equal%n", onlyA, onlyB, dtypeOrShape, values, report.equal()));
        return sb.toString();
    }

    /** {@code float32 [3, 4]}, or {@code sparse_coo float32 [3, 4]} for a sparse tensor. */
    private static String describe(Object t) {
        return switch (t) {
            case Tensor d -> d.dtype().torchName() + " " + Arrays.toString(d.shape());
            case SparseTensor s -> SparseParts.describe(s) + " " + Arrays.toString(s.size());
            default -> throw new IllegalArgumentException(String.valueOf(t));
        };
    }

    /** {@code values: 1 of 3 elements differ, max |a-b| = 0.5; sparse_coo float32 [3, 3]}, one clause a part. */
    private static String partsChange(Change c) {
        List<String> clauses = new ArrayList<>();
        for (PartChange p : c.parts()) {
            clauses.add(p.values() == null
                    ? p.part() + ": shape " + Arrays.toString(p.inA().shape()) + " -> " + Arrays.toString(p.inB().shape())
                    : p.part() + ": " + valueCount(p.values()));
        }
        return String.join("; ", clauses) + "; " + describe(c.inA());
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
        return "values: " + valueCount(d) + "; " + describe(t);
    }

    private static String valueCount(TensorComparison.ValueDiff d) {
        String count = String.format(Locale.ROOT, "%,d of %,d elements differ", d.differing(), d.elements());
        return count + (d.maxAbsDiff() == null ? " (stored bytes compared)" : ", max |a-b| = " + number(d.maxAbsDiff()));
    }

    /**
     * Doubles in their shortest exact form, as Python's {@code repr} writes them ({@code 0.0123}, {@code 1.5e-07},
     * {@code inf}); integers exactly.
     */
    static String number(Number n) {
        if (n instanceof Double v) {
            if (Double.isNaN(v)) {
                return "nan (a NaN against a number)";
            }
            return PyValues.floatRepr(v);
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
            } else if (c.parts() != null) {
                List<String> parts = new ArrayList<>();
                for (PartChange p : c.parts()) {
                    parts.add("{\"part\":\"" + p.part() + "\",\"a\":{" + geometry(p.inA()) + "},\"b\":{"
                            + geometry(p.inB()) + "}" + (p.values() == null ? "" : ",\"elements\":"
                            + p.values().elements() + ",\"differing\":" + p.values().differing()
                            + ",\"max_abs_diff\":" + jsonNumber(p.values().maxAbsDiff())) + "}");
                }
                changed.add("{\"name\":" + JsonText.quote(c.name()) + ",\"change\":\"sparse_parts\","
                        + geometry(c.inA()) + ",\"parts\":[" + String.join(",", parts) + "]}");
            } else if (!(c.inA() instanceof Tensor x && c.inB() instanceof Tensor y)) {
                changed.add("{\"name\":" + JsonText.quote(c.name()) + ",\"change\":\"layout_dtype_or_shape\",\"a\":{"
                        + geometry(c.inA()) + "},\"b\":{" + geometry(c.inB()) + "}}");
            } else if (c.values() == null) {
                String change = x.dtype() != y.dtype() && !Arrays.equals(x.shape(), y.shape())
                        ? "dtype_and_shape" : x.dtype() != y.dtype() ? "dtype" : "shape";
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

    /** {@code "dtype":"float32","shape":[3,4]}; a sparse tensor adds its layout, and its dtype is its values'. */
    private static String geometry(Object t) {
        long[] s = t instanceof SparseTensor sparse ? sparse.size() : ((Tensor) t).shape();
        StringBuilder shape = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) {
            shape.append(i == 0 ? "" : ",").append(s[i]);
        }
        String head = t instanceof SparseTensor sparse
                ? "\"layout\":\"" + SparseParts.layout(sparse) + "\",\"dtype\":\"" + sparse.values().dtype().torchName()
                : "\"dtype\":\"" + ((Tensor) t).dtype().torchName();
        return head + "\",\"shape\":" + shape.append(']');
    }

    /** A JSON number; NaN and infinity, which JSON lacks, as the strings {@code "nan"} and {@code "inf"}; null for none. */
    private static String jsonNumber(Number n) {
        if (n == null) {
            return "null";
        }
        if (n instanceof Double v && (v.isNaN() || v.isInfinite())) {
            return v.isNaN() ? "\"nan\"" : "\"inf\"";
        }
        return n instanceof BigInteger ? n.toString() : PyValues.floatRepr(n.doubleValue());
    }
}
