package dev.weightsonly.cli;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnreadableCheckpointException;
import dev.weightsonly.UnsupportedGlobalException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code weightsonly} tool. Exit status: 0 success; 1 the checkpoint was refused (unsafe, malformed,
 * over a limit or unsupported: one line on standard error says why); 2 a usage or I/O error.
 */
@Command(name = "weightsonly", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Loads PyTorch checkpoints safely, as torch.load(weights_only=True) does, without running code.",
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

    /** The commands, in the order usage help lists them. */
    private static final List<String> COMMANDS = List.of("inspect", "scan", "diff", "convert", "verify", "help");

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
        if (args.length > 1 && args[0].equals("scan")) {
            // A CI gate's one call: a plain scan command line is read without picocli (ScanCommand.runPlain).
            Integer status = scanPlain(args, out, err);
            if (status != null) {
                return status;
            }
        }
        CommandLine cli = new CommandLine(new WeightsOnlyCommand());
        // picocli builds a command's model from its annotations by reflection, most of the tool's start-up (a
        // CI gate runs the tool once per build): a run of one named command builds only that one. Anything else
        // (no command, an option, a mistyped name, help) gets them all, for the usage text and its suggestions.
        String named = args.length > 0 && COMMANDS.contains(args[0]) && !args[0].equals("help") ? args[0] : null;
        for (String command : COMMANDS) {
            if (named == null || named.equals(command)) {
                cli.addSubcommand(command(command));
            }
        }
        cli.setOut(out);
        cli.setErr(err);
        cli.setExitCodeExceptionMapper(e -> isIoError(e) ? USAGE_OR_IO : e instanceof CheckpointException ? REFUSED
                : USAGE_OR_IO);
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine command = e.getCommandLine();
            command.getErr().println("weightsonly: " + usageError(e));
            // The qualified name: "weightsonly --help" for the tool itself, "weightsonly inspect --help" for a command.
            command.getErr().println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more"
                    + " information.");
            return USAGE_OR_IO;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println("weightsonly: " + describe(e, c.getCommandSpec()));
            if (isIoError(e)) {
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

    /** {@link ScanCommand#runPlain}, failing as picocli's handler below fails an execution. */
    private static Integer scanPlain(String[] args, PrintWriter out, PrintWriter err) {
        try {
            return ScanCommand.runPlain(List.of(args).subList(1, args.length), out, err);
        } catch (RuntimeException e) {
            err.println("weightsonly: " + describe(e, true));
            return isIoError(e) ? USAGE_OR_IO : DiffCommand.REFUSED;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static Object command(String name) {
        return switch (name) {
            case "inspect" -> new InspectCommand();
            case "scan" -> new ScanCommand();
            case "diff" -> new DiffCommand();
            case "convert" -> new ConvertCommand();
            case "verify" -> new VerifyCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** An I/O error (status 2): the file system's, or a load's that could not read the file at all. */
    static boolean isIoError(Throwable e) {
        return e instanceof UnreadableCheckpointException || e instanceof IOException && !(e instanceof CheckpointException);
    }

    /** A usage error's message; a mistyped command gets the commands it may have meant. */
    private static String usageError(CommandLine.ParameterException e) {
        CommandLine command = e.getCommandLine();
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.isUnknownOption()
                && !command.getSubcommands().isEmpty() && !unmatched.getUnmatched().isEmpty()) {
            String typed = unmatched.getUnmatched().getFirst();
            List<String> near = CommandNames.near(typed, command.getSubcommands().keySet());
            return TerminalText.oneLine("unknown command '" + typed + "'" + (near.isEmpty()
                    ? "; the commands are " + String.join(", ", command.getSubcommands().keySet())
                    : "; did you mean " + String.join(" or ", near.stream().map(n -> "'" + n + "'").toList()) + "?"));
        }
        return TerminalText.oneLine(e.getMessage());
    }

    /** The one-line reason, escaped for the terminal; never a Java class name or a stack trace. */
    static String describe(Exception e, CommandLine.Model.CommandSpec command) {
        return describe(e, command.findOption("--allow") != null);
    }

    /** {@link #describe(Exception, CommandLine.Model.CommandSpec)} for a command that has {@code --allow} or not. */
    static String describe(Exception e, boolean hasAllow) {
        if (e instanceof CheckpointException refused) {
            return refusal(refused, hasAllow);
        }
        if (e instanceof NoSuchFileException n) {
            return TerminalText.oneLine(n.getFile() + ": no such file");
        }
        if (e instanceof IOException) {
            return TerminalText.oneLine(e.getMessage());
        }
        String message = e.getMessage() == null ? "no details" : e.getMessage();
        return TerminalText.oneLine("could not process the input: " + message);
    }

    /**
     * A refused load's line, escaped for the terminal. A global that may be allowed gets the remedy in the
     * tool's terms, {@code --allow NAME} where the command has that option, in place of the library's (which
     * names a Java API).
     */
    static String refusal(CheckpointException e, CommandLine.Model.CommandSpec command) {
        return refusal(e, command.findOption("--allow") != null);
    }

    private static String refusal(CheckpointException e, boolean hasAllow) {
        String text = e.getMessage();
        if (e instanceof UnsupportedGlobalException global && global.allowable()) {
            text = global.where() + ": " + global.refusal() + (hasAllow
                    ? " If you trust this class, allow it with --allow " + global.globalName() + "."
                    : "");
        }
        return TerminalText.oneLine(text);
    }
}
