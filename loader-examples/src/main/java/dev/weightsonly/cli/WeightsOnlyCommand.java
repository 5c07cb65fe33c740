package dev.weightsonly.cli;

import dev.weightsonly.CheckpointException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code weightsonly} tool. Exit status: 0 success; 1 the checkpoint was refused (unsafe, malformed,
 * over a limit or unsupported: one line on standard error says why); 2 a usage or I/O error.
 */
@Command(name = "weightsonly", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Loads PyTorch checkpoints safely, as torch.load(weights_only=True) does, without running code.",
        subcommands = {InspectCommand.class, ScanCommand.class, DiffCommand.class, ConvertCommand.class,
                VerifyCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success",
                "1:inspect, convert: the checkpoint was refused; scan: a global needs allowlisting;"
                        + " diff, verify: the files differ",
                "2:usage or I/O error",
                "3:scan: a global is dangerous, or a file is malformed, carries code or is refused by a load;"
                        + " diff, verify: a checkpoint was refused"})
public final class WeightsOnlyCommand implements Runnable {

    static final int REFUSED = 1;
    static final int USAGE_OR_IO = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (try: weightsonly inspect FILE)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the tool with the given streams and returns its exit status (used by tests). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new WeightsOnlyCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExitCodeExceptionMapper(e -> e instanceof CheckpointException ? REFUSED : USAGE_OR_IO);
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("weightsonly: " + e.getMessage());
            e.getCommandLine().getErr().println("Try 'weightsonly " + e.getCommandLine().getCommandName()
                    + " --help' for more information.");
            return USAGE_OR_IO;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println("weightsonly: " + describe(e));
            if (e instanceof IOException && !(e instanceof CheckpointException)) {
                return USAGE_OR_IO;
            }
            // Anything else came from reading a file, whatever its class: the input is refused, never a
            // usage error. diff, verify and scan give a refused file their own status (3).
            return switch (c.getCommandName()) {
                case "diff", "verify", "scan" -> DiffCommand.REFUSED;
                default -> REFUSED;
            };
        });
        return cli.execute(args);
    }

    /** The one-line reason, escaped for the terminal; never a Java class name or a stack trace. */
    static String describe(Exception e) {
        if (e instanceof NoSuchFileException n) {
            return TerminalText.oneLine(n.getFile() + ": no such file");
        }
        if (e instanceof IOException) {
            return TerminalText.oneLine(e.getMessage());
        }
        String message = e.getMessage() == null ? "no details" : e.getMessage();
        return TerminalText.oneLine("could not process the input: " + message);
    }
}
