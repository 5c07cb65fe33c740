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
 * file the kit builds for an attack it names {@link Attack#refusedByPyTorch()}, and loads every benign control.
 * One Python process reads all the files.
 */
class PyTorchAgreesTest {

    @Test
    void pyTorchRefusesTheAttacksAndLoadsTheControls(@TempDir Path dir) throws Exception {
        Map<String, Boolean> expectRefused = new LinkedHashMap<>();
        for (Attack attack : Attack.values()) {
            if (attack.refusedByPyTorch()) {
                Files.write(dir.resolve(attack + ".pt"), attack.build());
                expectRefused.put(attack + ".pt", true);
            }
        }
        Files.write(dir.resolve("runpy.pt"), HostileCheckpoints.runpyRunCode());
        expectRefused.put("runpy.pt", true);
        Files.write(dir.resolve("legacy_subprocess.pt"), HostileCheckpoints.legacyCallingGlobal("subprocess.Popen"));
        expectRefused.put("legacy_subprocess.pt", true);
        Files.write(dir.resolve("small_state_dict.pt"), BenignCheckpoints.smallStateDict());
        Files.write(dir.resolve("training_checkpoint.pt"), BenignCheckpoints.trainingCheckpoint());
        Files.write(dir.resolve("legacy_state_dict.pt"), BenignCheckpoints.legacyStateDict());
        expectRefused.put("small_state_dict.pt", false);
        expectRefused.put("training_checkpoint.pt", false);
        expectRefused.put("legacy_state_dict.pt", false);

        Map<String, String> verdicts = torchVerdicts(dir, new ArrayList<>(expectRefused.keySet()));
        List<String> disagreements = new ArrayList<>();
        for (Map.Entry<String, Boolean> e : expectRefused.entrySet()) {
            String verdict = verdicts.getOrDefault(e.getKey(), "none\t");
            if (!verdict.startsWith(e.getValue() ? "refused\t" : "loads\t")) {
                disagreements.add(e.getKey() + ": PyTorch " + verdict);
            }
        }
        assertEquals(List.of(), disagreements);
    }

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
