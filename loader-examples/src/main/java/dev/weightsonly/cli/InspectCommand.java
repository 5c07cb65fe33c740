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
        description = {"Loads a checkpoint and lists its tensors (name, dtype, shape, bytes) with totals.",
                "With --json, prints the canonical dump (docs/canonical-dump.md) instead."})
final class InspectCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "a torch.save checkpoint (.pt, .pth, .bin)")
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
                printTable(checkpoint, out);
            }
        }
        out.flush();
        return 0;
    }

    private static void printTable(Checkpoint checkpoint, PrintWriter out) {
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
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        printRow(out, header, width);
        for (String[] r : rows) {
            printRow(out, r, width);
        }
        out.printf("%d tensors%s, %d storages, %,d elements, %s (%,d bytes)%s%n", tensors.size() + sparse.size(),
                sparse.isEmpty() ? "" : " (" + sparse.size() + " sparse)", checkpoint.storageCount(), elements, Sizes.human(total), total,
                checkpoint.isMapped() ? ", mapped" : "");
    }

    private static void printRow(PrintWriter out, String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            boolean right = i == cells.length - 1;
            String cell = cells[i];
            String pad = " ".repeat(width[i] - cell.length());
            sb.append(right ? pad + cell : cell + pad);
            if (!right) {
                sb.append("  ");
            }
        }
        out.println(sb.toString().stripTrailing());
    }
}
