package dev.weightsonly.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real PyTorch 2.6 ({@code torch.load(weights_only=True)}, in the project's chroot, tools/torch26) refuses every
 * file the kit builds for an attack it names {@link Attack#refusedByPyTorch()}, for that attack (a code-execution
 * file for its global), loads the files of the other attacks (so the documented differences are true), refuses
 * every global the arbitraries call through every builder, and loads every benign control. One Python process reads
 * all the files.
 */
class PyTorchAgreesTest {

    @Test
    void pyTorchRefusesTheAttacksAndLoadsTheControls(@TempDir Path dir) throws Exception {
        // file -> "loads", or "refused" and what PyTorch's message must say: a refusal for another reason (a
        // builder that wrote a malformed file) would not show that PyTorch refuses the attack itself.
        Map<String, String> expected = new LinkedHashMap<>();
        Map<String, String> mustName = new LinkedHashMap<>();   // file -> the global PyTorch's refusal must name
        for (Attack attack : Attack.values()) {
            Files.write(dir.resolve(attack + ".pt"), attack.build());
            expected.put(attack + ".pt",
                    attack.refusedByPyTorch() ? "refused\t" + PYTORCH_SAYS.get(attack) : "loads\t");
            if (GLOBAL_OF.containsKey(attack)) {
                mustName.put(attack + ".pt", GLOBAL_OF.get(attack));
            }
        }
        // every global the arbitraries call, through every builder that calls one
        for (String global : HostileArbitraries.CODE_EXECUTION_GLOBALS) {
            Files.write(dir.resolve(global + ".call.pt"), HostileCheckpoints.callingGlobal(global, "id"));
            Files.write(dir.resolve(global + ".state_dict.pt"), HostileCheckpoints.stateDictCallingGlobal(global));
            Files.write(dir.resolve(global + ".legacy.pt"), HostileCheckpoints.legacyCallingGlobal(global));
            Files.write(dir.resolve(global + ".tar.pt"), HostileCheckpoints.tarCallingGlobal(global));
            for (String kind : List.of(".call.pt", ".state_dict.pt", ".legacy.pt")) {
                expected.put(global + kind, "refused\tUnpicklingError: Weights only load failed.");
                mustName.put(global + kind, global);
            }
            expected.put(global + ".tar.pt", "refused\t" + TAR_REFUSAL);
        }
        Files.write(dir.resolve("small_state_dict.pt"), BenignCheckpoints.smallStateDict());
        Files.write(dir.resolve("training_checkpoint.pt"), BenignCheckpoints.trainingCheckpoint());
        Files.write(dir.resolve("legacy_state_dict.pt"), BenignCheckpoints.legacyStateDict());
        expected.put("small_state_dict.pt", "loads\t");
        expected.put("training_checkpoint.pt", "loads\t");
        expected.put("legacy_state_dict.pt", "loads\t");

        Map<String, String> verdicts = torchVerdicts(dir, new ArrayList<>(expected.keySet()));
        List<String> disagreements = new ArrayList<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String verdict = verdicts.getOrDefault(e.getKey(), "none\t");
            String global = mustName.get(e.getKey());
            boolean agrees = verdict.startsWith(e.getValue())
                    && (global == null || verdict.contains("GLOBAL " + global + " "));
            if (!agrees) {
                disagreements.add(e.getKey() + ": expected " + e.getValue() + "..., PyTorch " + verdict);
            }
        }
        assertEquals(List.of(), disagreements);
    }

    /** PyTorch 2.6 refuses any 0.1.x tar under weights_only, whatever its pickle calls. */
    private static final String TAR_REFUSAL = "RuntimeError: Cannot use ``weights_only=True`` with files saved in the"
            + " legacy .tar format.";

    /** The global each code-execution attack calls. */
    private static final Map<Attack, String> GLOBAL_OF = Map.of(Attack.OS_SYSTEM, "posix.system",
            Attack.BUILTINS_EVAL, "builtins.eval", Attack.RUNPY_RUN_CODE, "runpy._run_code",
            Attack.LEGACY_OS_SYSTEM, "posix.system");

    /** How PyTorch 2.6 words its refusal of each attack it refuses. */
    private static final Map<Attack, String> PYTORCH_SAYS = Map.of(
            Attack.OS_SYSTEM, "UnpicklingError: Weights only load failed.",
            Attack.BUILTINS_EVAL, "UnpicklingError: Weights only load failed.",
            Attack.RUNPY_RUN_CODE, "UnpicklingError: Weights only load failed.",
            Attack.LEGACY_OS_SYSTEM, "UnpicklingError: Weights only load failed.",
            Attack.TAR_OS_SYSTEM, TAR_REFUSAL,
            Attack.TORCHSCRIPT, "RuntimeError: Cannot use ``weights_only=True`` with TorchScript archives",
            Attack.SPARSE_INDEX_OUT_OF_RANGE, "RuntimeError: size is inconsistent with indices");

    /** Runs torch_verdicts.py under PyTorch 2.6; fails (never skips) when it is not set up. */
    private static Map<String, String> torchVerdicts(Path dir, List<String> files) throws IOException,
            InterruptedException {
        Path repository = Path.of("").toAbsolutePath().getParent();
        Path torch26 = repository.resolve("tools/torch26");
        if (!Files.isExecutable(torch26)) {
            torch26 = repository.resolveSibling("shared/tools/torch26");
        }
        List<String> command = new ArrayList<>(List.of(torch26.toString(), "python3",
                Path.of("src/test/resources/testkit/torch_verdicts.py").toAbsolutePath().toString()));
        files.forEach(f -> command.add(dir.resolve(f).toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.MINUTES), "PyTorch 2.6 did not finish");
        assertEquals(0, process.exitValue(), "PyTorch 2.6 (" + torch26 + ") failed; run `tools/torch26 setup` (as root)"
                + " first. " + err);
        assertTrue(err.contains("torch 2.6"), "not PyTorch 2.6: " + err);
        Map<String, String> verdicts = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] fields = line.split("\t", 2);
            if (fields.length == 2) {
                verdicts.put(Path.of(fields[0]).getFileName().toString(), fields[1]);
            }
        }
        return verdicts;
    }
}
