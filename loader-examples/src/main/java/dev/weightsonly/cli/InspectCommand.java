package dev.weightsonly.cli;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code weightsonly inspect FILE}: what a checkpoint holds, as a table or as the canonical JSON dump. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        header = "Lists what a checkpoint holds: its tensors, and its other values such as the epoch.",
        description = {"Loads a checkpoint as torch.load(weights_only=True) does, without running code, and lists"
                + " its tensors (name, dtype, shape, bytes) with totals, then its other values (an epoch, a learning"
                + " rate, a setting) by dotted path, the first " + InspectCommand.MAX_VALUES + " of them.",
                "With --json, it prints the canonical dump of the whole checkpoint (docs/canonical-dump.md) instead."})
final class InspectCommand implements Callable<Integer> {

    /** How many non-tensor values the table shows (--json shows them all). */
    static final int MAX_VALUES = 50;

    /** How many characters of a value's text the table shows. */
    static final int MAX_VALUE_CHARS = 80;

    @Parameters(paramLabel = "FILE", description = "a torch.save checkpoint (.pt, .pth, .bin) or a safetensors file")
    Path file;

    @Option(names = "--json", description = "print the canonical JSON dump of the whole checkpoint")
    boolean json;

    @Option(names = "--allow", paramLabel = "module.Name",
            description = "allow this global for this load (repeatable); its objects load as inert records")
    List<String> allow = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LoadOptions options;
        try {
            options = LoadOptions.builder().allowGlobals(allow).build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint checkpoint = Checkpoint.load(file, options)) {
            if (json) {
                String dump;
                try {
                    dump = CanonicalDump.toJson(checkpoint.root(), checkpoint.limits().maxNestingDepth(),
                            10_000_000L);
                } catch (IllegalArgumentException overBound) {
                    // The dump's own bounds (nesting, size, hashing work, a cycle): the file loaded, but its
                    // dump is refused, as a load over a limit is.
                    spec.commandLine().getErr().println("weightsonly: " + TerminalText.oneLine(file + ": "
                            + overBound.getMessage()));
                    return WeightsOnlyCommand.REFUSED;
                }
                out.println(dump);
            } else {
                printContents(checkpoint, out);
            }
        }
        out.flush();
        return 0;
    }

    private static void printContents(Checkpoint checkpoint, PrintWriter out) {
        Map<String, Tensor> tensors = checkpoint.tensors();
        String[] header = {"name", "dtype", "shape", "bytes"};
        List<String[]> rows = new ArrayList<>();
        long total = 0;
        long elements = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            rows.add(new String[] {TerminalText.escape(e.getKey()), t.dtype().torchName(), Arrays.toString(t.shape()),
                    Sizes.human(t.byteSize())});
            total += t.byteSize();
            elements += t.numel();
        }
        Map<String, SparseTensor> sparse = checkpoint.sparseTensors();
        for (Map.Entry<String, SparseTensor> e : sparse.entrySet()) {
            // A sparse tensor's bytes are its stored parts (indices and values), not its dense size.
            long bytes = SparseParts.of(e.getValue()).values().stream().mapToLong(Tensor::byteSize).sum();
            rows.add(new String[] {TerminalText.escape(e.getKey()), SparseParts.describe(e.getValue()),
                    Arrays.toString(e.getValue().size()), Sizes.human(bytes)});
            total += bytes;
        }
        printTable(out, header, rows, true);
        out.printf("%d tensors%s, %d storages, %,d elements, %s (%,d bytes)%s%n", tensors.size() + sparse.size(),
                sparse.isEmpty() ? "" : " (" + sparse.size() + " sparse)", checkpoint.storageCount(), elements, Sizes.human(total), total,
                checkpoint.isMapped() ? ", mapped" : "");
        printValues(checkpoint.values(), out);
    }

    /**
     * The values that are not tensors (an epoch, a learning rate, a setting), after the tensors: at most
     * {@link #MAX_VALUES}, each cut to {@link #MAX_VALUE_CHARS} characters, names and text escaped.
     */
    private static void printValues(Map<String, Object> values, PrintWriter out) {
        if (values.isEmpty()) {
            return;
        }
        List<String[]> rows = new ArrayList<>();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (rows.size() == MAX_VALUES) {
                break;
            }
            rows.add(new String[] {TerminalText.escape(e.getKey()), ValueText.of(e.getValue(), MAX_VALUE_CHARS)});
        }
        out.println();
        printTable(out, new String[] {"name", "value"}, rows, false);
        out.println(values.size() + " other value" + (values.size() == 1 ? "" : "s")
                + (values.size() > MAX_VALUES ? ", the first " + MAX_VALUES + " shown (--json shows every value)" : ""));
    }

    /** Rows under a header, columns padded to their widest cell, the last one right-aligned (numbers) or not. */
    private static void printTable(PrintWriter out, String[] header, List<String[]> rows, boolean rightAligned) {
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        printRow(out, header, width, rightAligned);
        for (String[] r : rows) {
            printRow(out, r, width, rightAligned);
        }
    }

    private static void printRow(PrintWriter out, String[] cells, int[] width, boolean lastRightAligned) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            boolean last = i == cells.length - 1;
            boolean right = last && lastRightAligned;
            String cell = cells[i];
            String pad = " ".repeat(width[i] - cell.length());
            sb.append(right ? pad + cell : cell + pad);
            if (!last) {
                sb.append("  ");
            }
        }
        out.println(sb.toString().stripTrailing());
    }
}
