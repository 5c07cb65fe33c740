package dev.weightsonly.cli;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.writer.SafetensorsWriter;
import dev.weightsonly.writer.SharedStorage;
import dev.weightsonly.writer.TorchWriter;
import dev.weightsonly.writer.WriteProgress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code weightsonly convert IN OUT}: a torch checkpoint to safetensors, or safetensors to a torch checkpoint,
 * chosen by OUT's extension. IN is loaded as {@code inspect} loads it (never running code), OUT is written by
 * {@link SafetensorsWriter} or {@link TorchWriter} through a temporary file, so a failed conversion leaves no
 * half-written OUT; a shutdown hook deletes that file if the JVM is stopped mid-write. OUT's size is computed
 * before anything is written and bounded by {@code --max-output-bytes}: a view of a few stored values can stand
 * for terabytes, which safetensors would write out whole. Sparse tensors are kept in torch files; safetensors
 * cannot hold them, so they are refused by name, or written dense with {@code --densify}.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        header = "Converts a checkpoint to safetensors, or to torch's zip format.",
        description = {"Converts a checkpoint: to safetensors when OUT ends in .safetensors, to torch's zip format"
                + " when it ends in .pt, .pth or .bin.",
                "A torch checkpoint's tensors are written to safetensors under their dotted paths (model.layer.weight,"
                + " optimizer.state.0.exp_avg); its other values (epochs, settings) have no place there and are left"
                + " out, with a note. Safetensors metadata is kept, and a torch checkpoint gets {\"format\": \"pt\"},"
                + " as Hugging Face's converter writes."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:converted", "1:IN was refused, or OUT's format cannot hold it (reason on stderr)",
                "2:usage or I/O error"})
final class ConvertCommand implements Callable<Integer> {

    /** What to do with tensors that share memory, for safetensors output. */
    enum Shared {
        copy(SharedStorage.COPY_EACH_VIEW), refuse(SharedStorage.REFUSE);

        final SharedStorage policy;

        Shared(SharedStorage policy) {
            this.policy = policy;
        }
    }

    @Parameters(index = "0", paramLabel = "IN", description = "a torch checkpoint or a safetensors file")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "the file to write: .safetensors, or .pt/.pth/.bin")
    Path out;

    @Option(names = "--shared", paramLabel = "copy|refuse", defaultValue = "refuse",
            description = "tensors that share memory (tied weights, views): write a copy of each (copy), or stop"
                    + " (refuse, the default, as safetensors' own tools do)")
    Shared shared;

    @Option(names = "--max-output-bytes", paramLabel = "N",
            description = "the largest OUT may be, checked before anything is written (default: 2^30 plus 4 times"
                    + " IN's size; views that repeat a few stored values to any size are written out whole in"
                    + " safetensors)")
    Long maxOutputBytes;

    @Option(names = "--densify",
            description = "write sparse tensors to safetensors as dense tensors (safetensors has no sparse layout;"
                    + " without this option they make convert stop)")
    boolean densify;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String name = String.valueOf(out.getFileName()).toLowerCase(Locale.ROOT);
        boolean toSafetensors = name.endsWith(".safetensors");
        if (!toSafetensors && !name.endsWith(".pt") && !name.endsWith(".pth") && !name.endsWith(".bin")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "OUT must end in .safetensors, .pt, .pth"
                    + " or .bin (the extension chooses the format): " + out);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long limit = maxOutputBytes != null ? maxOutputBytes : Math.addExact(1L << 30, Math.multiplyExact(4, Files.size(in)));
        WriteProgress progress = ProgressBar.forTerminal(err, "writing " + TerminalText.escape(String.valueOf(out.getFileName())));
        try (Checkpoint checkpoint = Checkpoint.load(in)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>(checkpoint.tensors());
            Map<String, SparseTensor> sparse = checkpoint.sparseTensors();
            if (toSafetensors && !sparse.isEmpty() && !densify) {
                return cannot("safetensors has no sparse tensors, and " + in + " holds " + sparse.size() + ": "
                        + names(sparse) + "; write .pt to keep them sparse, or pass --densify to write them dense");
            }
            long bytes = toSafetensors ? safetensorsBytes(tensors.values(), sparse.values())
                    : storageBytes(tensors.values(), sparse.values());
            if (bytes > limit) {
                return cannot(String.format(Locale.ROOT, "it would be %,d bytes, more than the limit of %,d (views"
                        + " can repeat a few stored values to any size); nothing written. Pass --max-output-bytes %d"
                        + " to write it anyway", bytes, limit, bytes));
            }
            Thread cleanup = deleteTemporaryFilesAtExit(out);
            try {
                if (toSafetensors) {
                    for (Map.Entry<String, SparseTensor> e : sparse.entrySet()) {
                        tensors.putIfAbsent(e.getKey(), dense(e.getKey(), e.getValue()));
                    }
                    if (!isStateDict(checkpoint.root())) {
                        err.println("weightsonly: note: " + TerminalText.escape(in.toString()) + " is not a plain state"
                                + " dict: its " + tensors.size() + " tensors are written under their dotted paths and"
                                + " its other values are left out");
                    }
                    Map<String, String> metadata = checkpoint.metadata().isEmpty() && !isSafetensors(in)
                            ? Map.of("format", "pt") : checkpoint.metadata();
                    SafetensorsWriter.builder().metadata(metadata).sharedStorage(shared.policy).progress(progress)
                            .build().write(tensors, out);
                } else {
                    if (!checkpoint.metadata().isEmpty() && !checkpoint.metadata().equals(Map.of("format", "pt"))) {
                        // {"format": "pt"} only says the tensors are PyTorch's, which a torch file says by itself
                        err.println("weightsonly: note: torch checkpoints have no place for the safetensors metadata "
                                + TerminalText.escape(checkpoint.metadata().keySet().toString()) + "; it is left out");
                    }
                    TorchWriter.withProgress(progress).write(checkpoint.root(), out);
                }
            } catch (IllegalArgumentException | UnsupportedOperationException cannot) {
                return cannot(cannot.getMessage());
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs: it deletes what the interrupted write left
                }
            }
            int count = tensors.size() + (toSafetensors ? 0 : sparse.size());
            stdout.println(TerminalText.escape(out.toString()) + ": " + count + " tensor" + (count == 1 ? "" : "s")
                    + ", " + Sizes.human(bytes) + " (" + (toSafetensors ? "safetensors" : "torch zip") + ")");
            stdout.flush();
        }
        return 0;
    }

    /**
     * A registered shutdown hook that deletes the temporary siblings of {@code target} that the writers
     * create during this run (hidden {@code .NAME.<random>.tmp} files, renamed over NAME when complete):
     * the writers delete theirs when a write fails, and this covers a JVM stopped mid-write (Ctrl-C,
     * SIGTERM), so an interrupted conversion leaves no file. Siblings present before the run are left alone.
     */
    static Thread deleteTemporaryFilesAtExit(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        String prefix = "." + target.getFileName() + ".";
        Set<Path> before = temporarySiblings(dir, prefix);
        Thread hook = new Thread(() -> {
            try {
                for (Path p : temporarySiblings(dir, prefix)) {
                    if (!before.contains(p)) {
                        Files.deleteIfExists(p);
                    }
                }
            } catch (IOException ignored) {
                // nothing more can be done while the JVM exits
            }
        }, "weightsonly-convert-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    private static Set<Path> temporarySiblings(Path dir, String prefix) throws IOException {
        Set<Path> found = new HashSet<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> {
                String n = String.valueOf(p.getFileName());
                return n.startsWith(prefix) && n.endsWith(".tmp");
            })) {
                files.forEach(found::add);
            }
        }
        return found;
    }

    /** One line on standard error, and the refusal status. */
    private int cannot(String why) {
        spec.commandLine().getErr().println("weightsonly: " + TerminalText.oneLine("cannot write " + out + ": " + why));
        return WeightsOnlyCommand.REFUSED;
    }

    /** The sparse tensor as a dense one; its size was counted against the output limit before. */
    private static Tensor dense(String name, SparseTensor s) {
        try {
            return s.toDense();
        } catch (RuntimeException e) {
            throw new UnsupportedOperationException("sparse tensor '" + name + "' (" + SparseParts.describe(s)
                    + ") cannot be made dense: " + e.getMessage(), e);
        }
    }

    private static String names(Map<String, SparseTensor> sparse) {
        return String.join(", ", sparse.entrySet().stream().limit(8)
                .map(e -> "'" + e.getKey() + "' (" + SparseParts.layout(e.getValue()) + ")").toList())
                + (sparse.size() > 8 ? ", ..." : "");
    }

    /** The tensor bytes of a safetensors file: every view written out whole, sparse tensors dense. */
    static long safetensorsBytes(Collection<Tensor> tensors, Collection<SparseTensor> sparse) {
        long total = 0;
        try {
            for (Tensor t : tensors) {
                total = Math.addExact(total, t.byteSize());
            }
            for (SparseTensor s : sparse) {
                long n = s.values().dtype().elementSize();
                for (long d : s.size()) {
                    n = Math.multiplyExact(n, d);
                }
                total = Math.addExact(total, n);
            }
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
        return total;
    }

    /** The tensor bytes of a torch file: each storage once, whatever views it has. */
    static long storageBytes(Collection<Tensor> tensors, Collection<SparseTensor> sparse) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tensor> all = new ArrayList<>(tensors);
        sparse.forEach(s -> all.addAll(SparseParts.of(s).values()));
        long total = 0;
        for (Tensor t : all) {
            if (seen.add(t.storage())) {
                total += t.storage().byteSize();    // storages are slices of memory: no overflow
            }
        }
        return total;
    }

    private static boolean isSafetensors(Path file) {
        return String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    private static boolean isStateDict(Object root) {
        return root instanceof PyDict d && d.entrySet().stream()
                .allMatch(e -> e.getKey() instanceof String
                        && (e.getValue() instanceof Tensor || e.getValue() instanceof SparseTensor));
    }
}
