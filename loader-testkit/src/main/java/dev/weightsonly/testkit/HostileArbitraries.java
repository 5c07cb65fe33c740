package dev.weightsonly.testkit;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * jqwik arbitraries of checkpoints, for properties such as "for all hostile checkpoints, my upload endpoint answers
 * 4xx and loads nothing":
 *
 * <pre>{@code
 * @Property(tries = 50)
 * void uploadsAreRefused(@ForAll("hostile") byte[] file) { ... }
 *
 * @Provide
 * Arbitrary<byte[]> hostile() { return HostileArbitraries.hostile(); }
 * }</pre>
 *
 * <p>Shrinking goes towards the first attack listed (the simplest file).
 */
public final class HostileArbitraries {

    private HostileArbitraries() {
    }

    /** Dangerous globals a code-execution payload calls; every one is refused by weightsonly and by PyTorch. */
    static final List<String> CODE_EXECUTION_GLOBALS = List.of("posix.system", "os.system", "nt.system",
            "builtins.eval", "builtins.exec", "builtins.__import__", "subprocess.Popen", "subprocess.check_output",
            "runpy._run_code", "pty.spawn", "pickle.loads", "marshal.loads", "code.InteractiveInterpreter.runcode",
            "webbrowser.open", "shutil.rmtree", "socket.create_connection", "importlib.import_module");

    /**
     * Every attack of {@link Attack}.
     *
     * @return files of every attack, with code-execution payloads over many globals
     */
    public static Arbitrary<byte[]> hostile() {
        return Arbitraries.oneOf(List.of(hostile(Attack.values()), callingDangerousGlobal()));
    }

    /**
     * The files of the given attacks.
     *
     * @param attacks the attacks to draw from
     * @return their files
     */
    public static Arbitrary<byte[]> hostile(Attack... attacks) {
        if (attacks.length == 0) {
            throw new IllegalArgumentException("no attack given");
        }
        return Arbitraries.of(Arrays.asList(attacks)).map(Attack::build);
    }

    /**
     * Attacks, to check the refusal kind of each: {@code @ForAll("attacks") Attack attack}, then
     * {@code attack.build()} and {@code attack.refusal()}.
     *
     * @return every attack
     */
    public static Arbitrary<Attack> attacks() {
        return Arbitraries.of(Attack.class);
    }

    /**
     * Zip checkpoints whose pickle calls a dangerous global (posix.system, builtins.eval, subprocess.Popen,
     * runpy._run_code, ...) with an arbitrary string argument, as the root or hidden among valid weights.
     *
     * @return the files
     */
    public static Arbitrary<byte[]> callingDangerousGlobal() {
        Arbitrary<String> global = Arbitraries.of(CODE_EXECUTION_GLOBALS);
        Arbitrary<String> argument = Arbitraries.strings().ofMaxLength(40);
        return Arbitraries.oneOf(List.of(
                global.flatMap(g -> argument.map(a -> HostileCheckpoints.callingGlobal(g, a))),
                global.map(HostileCheckpoints::stateDictCallingGlobal),
                global.map(HostileCheckpoints::legacyCallingGlobal),
                global.map(HostileCheckpoints::tarCallingGlobal)));
    }

    /**
     * Benign controls: a state dict, a training checkpoint, a legacy-format state dict.
     *
     * @return files every loader should accept
     */
    public static Arbitrary<byte[]> benign() {
        return Arbitraries.of(List.<java.util.function.Supplier<byte[]>>of(BenignCheckpoints::smallStateDict,
                BenignCheckpoints::trainingCheckpoint, BenignCheckpoints::legacyStateDict))
                .map(java.util.function.Supplier::get);
    }
}
