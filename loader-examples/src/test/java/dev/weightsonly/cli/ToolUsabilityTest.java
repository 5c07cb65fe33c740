package dev.weightsonly.cli;

import static dev.weightsonly.cli.Cli.fixture;
import static dev.weightsonly.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.writer.TorchWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 14, the tool as a person meets it: usage errors that name the right help, suggestions for a mistyped
 * command, whole sentences in {@code --help}, the values of a training checkpoint in {@code inspect}, floats in
 * their shortest exact form, and a path that is not a file reported as the I/O error it is.
 */
class ToolUsabilityTest {

    @TempDir
    Path tmp;

    private static List<String> errLines(Cli.Run r) {
        return r.err().lines().toList();
    }

    @Test
    void usageErrorsPointAtTheHelpOfTheCommandThatWasRun() {
        Cli.Run none = run();
        assertEquals(2, none.status());
        assertEquals(List.of("weightsonly: a command is required (try: weightsonly inspect FILE)",
                "Try 'weightsonly --help' for more information."), errLines(none));
        Cli.Run option = run("--frobnicate");
        assertEquals(2, option.status());
        assertEquals("Try 'weightsonly --help' for more information.", errLines(option).get(1));
        Cli.Run inspect = run("inspect");
        assertEquals(2, inspect.status());
        assertEquals(List.of("weightsonly: Missing required parameter: 'FILE'",
                "Try 'weightsonly inspect --help' for more information."), errLines(inspect));
    }

    @Test
    void aMistypedCommandGetsTheCommandItMeant() {
        Cli.Run swapped = run("inspcet", "model.pt");
        assertEquals(2, swapped.status());
        assertEquals(List.of("weightsonly: unknown command 'inspcet'; did you mean 'inspect'?",
                "Try 'weightsonly --help' for more information."), errLines(swapped));
        assertEquals("weightsonly: unknown command 'scna'; did you mean 'scan'?", errLines(run("scna", "x")).get(0));
        assertEquals("weightsonly: unknown command 'conver'; did you mean 'convert'?",
                errLines(run("conver", "a", "b")).get(0));
        assertEquals("weightsonly: unknown command 'insp'; did you mean 'inspect'?", errLines(run("insp")).get(0));
        // Nothing near: no guess, the list of commands.
        assertEquals("weightsonly: unknown command 'frobnicate'; the commands are inspect, scan, diff, convert,"
                + " verify, help", errLines(run("frobnicate")).get(0));
        // A hostile argument is escaped like anything else the tool prints.
        assertEquals("weightsonly: unknown command 'x\\x1b[2J'; the commands are inspect, scan, diff, convert,"
                + " verify, help", errLines(run("x\u001b[2J")).get(0));
    }

    @Test
    void nearNamesAreASlipAwayAndNoFurther() {
        List<String> commands = List.of("inspect", "scan", "diff", "convert", "verify", "help");
        assertEquals(List.of("diff"), CommandNames.near("dif", commands));
        assertEquals(List.of("verify"), CommandNames.near("verfiy", commands));
        assertEquals(List.of("inspect"), CommandNames.near("INSPECT", commands));
        assertEquals(List.of(), CommandNames.near("x", commands));
        assertEquals(List.of(), CommandNames.near("load", commands));
        assertEquals(List.of(), CommandNames.near("a".repeat(100_000), commands));
        assertEquals(1, CommandNames.distance("inspcet", "inspect"));
        assertEquals(3, CommandNames.distance("", "abc"));
    }

    @Test
    void everyCommandIsDescribedInWholeSentences() {
        CommandLine cli = new CommandLine(new WeightsOnlyCommand());
        Cli.Run help = run("--help");
        assertEquals(0, help.status());
        String helpText = help.out().replaceAll("\\s+", " ");
        for (Map.Entry<String, CommandLine> e : cli.getSubcommands().entrySet()) {
            CommandLine.Model.UsageMessageSpec usage = e.getValue().getCommandSpec().usageMessage();
            String[] header = usage.header();
            assertEquals(1, header.length, e.getKey());
            assertWholeSentences(e.getKey() + " header", header[0]);
            // The list of commands shows the whole header, never a description cut at a line end.
            assertTrue(helpText.contains(" " + e.getKey() + " " + header[0] + " "), e.getKey() + ": " + help.out());
            if (!e.getKey().equals("help")) {
                assertTrue(usage.description().length > 0, e.getKey());
                for (String paragraph : usage.description()) {
                    assertWholeSentences(e.getKey() + " description", paragraph);
                }
                Cli.Run own = run(e.getKey(), "--help");
                assertEquals(0, own.status());
                assertTrue(own.out().replaceAll("\\s+", " ").contains(usage.description()[0]), own.out());
            }
        }
    }

    private static void assertWholeSentences(String what, String text) {
        assertTrue(Character.isUpperCase(text.charAt(0)), what + " starts a sentence: " + text);
        assertTrue(text.endsWith("."), what + " ends a sentence: " + text);
        assertFalse(text.contains("\n") || text.contains("  "), what + " is not broken by hand: " + text);
    }

    @Test
    void inspectShowsTheValuesOfATrainingCheckpoint() {
        Cli.Run r = run("inspect", fixture("train_checkpoint.pt").toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        int header = lines.indexOf("name                                     value");
        assertTrue(header > 0, r.out());
        assertEquals("", lines.get(header - 1), "a blank line after the tensors' totals");
        assertTrue(lines.contains("epoch                                    3"), r.out());
        assertTrue(lines.contains("optimizer.param_groups.0.lr              0.00025"), r.out());
        assertTrue(lines.contains("optimizer.param_groups.0.eps             1e-08"), r.out());
        assertTrue(lines.contains("optimizer.param_groups.0.foreach         None"), r.out());
        assertTrue(lines.contains("loss_history.1                           nan"), r.out());
        assertTrue(lines.contains("text                                     'naïve 日本語 ✓'"), r.out());
        assertTrue(lines.contains("complex                                  (1.5-2j)"), r.out());
        assertTrue(lines.contains("bytes                                    b'\\x00\\xffhi'"), r.out());
        assertTrue(lines.contains("size                                     torch.Size([2, 3])"), r.out());
        assertEquals("53 other values, the first 50 shown (--json shows every value)", lines.getLast());
        assertEquals(header + 1 + 50 + 1, lines.size(), r.out());
        Cli.Run stateDict = run("inspect", fixture("sd_conv_bn.pt").toString());
        assertTrue(stateDict.out().strip().endsWith("mapped"), "a state dict has no values section: " + stateDict.out());
    }

    @Test
    void valuesFromAFileAreBoundedAndEscaped() throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("clear\u001b[2J", "up\u001b[1A\rforged\u202e");
        root.put("long", "x".repeat(1_000_000));
        root.put("sum", 0.1 + 0.2);
        root.put("tiny", Double.MIN_VALUE);
        root.put("huge", new java.math.BigInteger("1".repeat(5000)));
        root.put("none", PyNone.NONE);
        root.put("z", new PyComplex(0, -1));
        Path file = tmp.resolve("values.pt");
        TorchWriter.save(root, file);
        Cli.Run r = run("inspect", file.toString());
        assertEquals(0, r.status(), r.err());
        for (char c : r.out().toCharArray()) {
            assertTrue(c == '\n' || !TerminalText.needsEscape(c), "raw U+" + Integer.toHexString(c));
        }
        assertTrue(r.out().contains("clear\\x1b[2J  'up\\x1b[1A\\rforged\\u202e'"), r.out());
        assertTrue(r.out().contains("long          '" + "x".repeat(InspectCommand.MAX_VALUE_CHARS) + "...'\n"), r.out());
        assertTrue(r.out().contains("sum           0.30000000000000004\n"), r.out());
        assertTrue(r.out().contains("tiny          5e-324\n"), r.out()); // Double.toString says 4.9E-324
        assertTrue(r.out().contains("huge          <an int of 16607 bits>\n"), r.out());
        assertTrue(r.out().contains("z             -1j\n"), r.out());
        assertTrue(r.out().length() < 2_000, r.out().length() + " characters");
    }

    private static Tensor floats(DType dtype, double... values) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * dtype.elementSize()]);
        for (int i = 0; i < values.length; i++) {
            if (dtype == DType.FLOAT64) {
                bytes.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, values[i]);
            } else {
                bytes.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                        (float) values[i]);
            }
        }
        return Tensor.contiguousView(Storage.of(bytes, "0", "cpu"), dtype, 0, values.length);
    }

    @Test
    void floatsArePrintedInTheirShortestExactForm() {
        // Elements as verify lists them: a float32 in the float32's shortest digits, not the double's.
        Tensor f32 = floats(DType.FLOAT32, 0.1, 1e-45, 3e38);
        assertEquals("0.1", VerifyCommand.value(f32, new long[] {0}));
        assertEquals("1e-45", VerifyCommand.value(f32, new long[] {1})); // Float.toString says 1.4E-45
        assertEquals("3e+38", VerifyCommand.value(f32, new long[] {2}));
        Tensor f64 = floats(DType.FLOAT64, 0.1, Double.MIN_VALUE, 1e16, 12345.678);
        assertEquals("0.1", VerifyCommand.value(f64, new long[] {0}));
        assertEquals("5e-324", VerifyCommand.value(f64, new long[] {1}));
        assertEquals("1e+16", VerifyCommand.value(f64, new long[] {2}));
        assertEquals("12345.678", VerifyCommand.value(f64, new long[] {3}));
        // diff's largest difference, in text and in JSON.
        assertEquals("1e-05", DiffCommand.number(1e-5));
        assertEquals("0.30000000000000004", DiffCommand.number(0.1 + 0.2));
        assertEquals("inf", DiffCommand.number(Double.POSITIVE_INFINITY));
    }

    @Test
    void aPathThatIsNotAFileIsAnIoErrorForEveryCommand() {
        String dir = tmp.toString();
        String good = fixture("sd_linear.pt").toString();
        for (String[] args : List.of(new String[] {"inspect", dir}, new String[] {"diff", dir, good},
                new String[] {"verify", good, "--against", dir}, new String[] {"convert", dir,
                        tmp.resolve("out.safetensors").toString()})) {
            Cli.Run r = run(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.err());
            assertEquals("weightsonly: " + dir + ": is a directory, not a checkpoint file", r.err().strip(),
                    String.join(" ", args));
            assertEquals("", r.out());
        }
    }
}
