package dev.weightsonly.cli;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.pickle.PyDict;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.writer.SafetensorsWriter;
import dev.weightsonly.writer.SharedStorage;
import dev.weightsonly.writer.TorchWriter;
import dev.weightsonly.writer.WriteProgress;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code weightsonly convert IN OUT}: a torch checkpoint to safetensors, or safetensors to a torch checkpoint,
 * chosen by OUT's extension. IN is loaded as {@code inspect} loads it (never running code), OUT is written by
 * {@link SafetensorsWriter} or {@link TorchWriter} through a temporary file, so a failed conversion leaves no
 * half-written OUT.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Converts a checkpoint: to safetensors when OUT ends in .safetensors,",
                "to torch's zip format when it ends in .pt, .pth or .bin.",
                "A torch checkpoint's tensors are written under their dotted paths",
                "(model.layer.weight, optimizer.state.0.exp_avg); its other values",
                "(epochs, settings) have no place in safetensors and are left out, with",
                "a note. Safetensors metadata is kept; a torch checkpoint gets",
                "{\"format\": \"pt\"}, as Hugging Face's converter writes."},
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
            description = {"tensors that share memory (tied weights, views):",
                    "write a copy of each (copy), or stop (refuse,",
                    "the default, as safetensors' own tools do)"})
    Shared shared;

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
        WriteProgress progress = ProgressBar.forTerminal(err, "writing " + out.getFileName());
        try (Checkpoint checkpoint = Checkpoint.load(in)) {
            Map<String, Tensor> tensors = checkpoint.tensors();
            try {
                if (toSafetensors) {
                    if (!isStateDict(checkpoint.root())) {
                        err.println("weightsonly: note: " + in + " is not a plain state dict: its " + tensors.size()
                                + " tensors are written under their dotted paths and its other values are left out");
                    }
                    Map<String, String> metadata = checkpoint.metadata().isEmpty() && !isSafetensors(in)
                            ? Map.of("format", "pt") : checkpoint.metadata();
                    SafetensorsWriter.builder().metadata(metadata).sharedStorage(shared.policy).progress(progress)
                            .build().write(tensors, out);
                } else {
                    if (!checkpoint.metadata().isEmpty() && !checkpoint.metadata().equals(Map.of("format", "pt"))) {
                        // {"format": "pt"} only says the tensors are PyTorch's, which a torch file says by itself
                        err.println("weightsonly: note: torch checkpoints have no place for the safetensors metadata "
                                + checkpoint.metadata().keySet() + "; it is left out");
                    }
                    TorchWriter.withProgress(progress).write(checkpoint.root(), out);
                }
            } catch (IllegalArgumentException cannot) {
                err.println("weightsonly: cannot write " + out + ": " + cannot.getMessage().replace('\n', ' '));
                return WeightsOnlyCommand.REFUSED;
            }
            long bytes = tensors.values().stream().mapToLong(Tensor::byteSize).sum();
            stdout.println(out + ": " + tensors.size() + " tensor" + (tensors.size() == 1 ? "" : "s") + ", "
                    + Sizes.human(bytes) + " (" + (toSafetensors ? "safetensors" : "torch zip") + ")");
            stdout.flush();
        }
        return 0;
    }

    private static boolean isSafetensors(Path file) {
        return String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    private static boolean isStateDict(Object root) {
        return root instanceof PyDict d && d.entrySet().stream()
                .allMatch(e -> e.getKey() instanceof String && e.getValue() instanceof Tensor);
    }
}
