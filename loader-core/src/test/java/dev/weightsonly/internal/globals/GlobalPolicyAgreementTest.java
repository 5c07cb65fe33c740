package dev.weightsonly.internal.globals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.SafeGlobals;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.internal.pickle.Opcode;
import dev.weightsonly.internal.pickle.Pickles;
import dev.weightsonly.scan.GlobalReference;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.scan.Verdict;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The scanner and the loader decide every global alike, because both ask {@link GlobalPolicy}: for every name of
 * PyTorch's default allowlist and of the dangerous list (and a few Python 2 spellings and plain class names), a
 * pickle naming it is run through the real unpickler with the torch host and through {@link GlobalScanner}, with
 * the caller allowing nothing and with the caller allowing everything. The scanner never calls clean what the
 * loader refuses, never calls refused what the loader allows, and every default-allowed name scans clean.
 */
class GlobalPolicyAgreementTest {

    /** {@code module name} pairs as a pickle's GLOBAL opcode spells them. */
    private static List<String[]> spellings() {
        Set<String> names = new TreeSet<>(TorchAllowlist.names());
        names.addAll(DangerousGlobals.CALLABLES);
        for (String module : DangerousGlobals.MODULES) {
            names.add(module + ".anything");
        }
        names.add("torch._utils.os.system"); // a traversal through attribute lookups
        names.add("mypkg.models.Config"); // a class of the caller's: needs allowlisting
        names.add("argparse.Namespace");
        List<String[]> out = new ArrayList<>();
        for (String full : names) {
            int dot = full.lastIndexOf('.');
            out.add(new String[] {full.substring(0, dot), full.substring(dot + 1)});
        }
        // Python 2 spellings, which both map before deciding
        out.add(new String[] {"__builtin__", "set"});
        out.add(new String[] {"__builtin__", "eval"});
        out.add(new String[] {"__builtin__", "reduce"});
        out.add(new String[] {"__builtin__", "intern"});
        out.add(new String[] {"copy_reg", "_reconstructor"});
        out.add(new String[] {"UserDict", "UserDict"});
        return out;
    }

    private static byte[] pickleNaming(String module, String name) {
        return Pickles.b(Opcode.PROTO, 2, Pickles.global(module, name), Opcode.STOP);
    }

    /** The loader's outcome: null if it allowed the global, else its refusal. */
    private static UnsupportedGlobalException load(byte[] pickle, Set<String> callerAllowed) {
        try {
            Pickles.run(pickle, Pickles.torchHost(callerAllowed, LoadLimits.defaults()), LoadLimits.defaults());
            return null;
        } catch (UnsupportedGlobalException e) {
            return e;
        } catch (CheckpointException e) {
            throw new AssertionError("a pickle naming one global failed for another reason", e);
        }
    }

    private static GlobalReference scan(byte[] pickle, Predicate<String> callerAllowed) {
        ScanReport report = GlobalScanner.scan(MemorySegment.ofArray(pickle), "one-global.pkl", callerAllowed);
        assertEquals(1, report.globals().size(), report.toString());
        return report.globals().get(0);
    }

    @Test
    void theScannerAndTheLoaderDecideEveryListedNameAlike() {
        int checked = 0;
        for (String[] spelling : spellings()) {
            byte[] pickle = pickleNaming(spelling[0], spelling[1]);
            String[] mapped = PythonNames.map(spelling[0], spelling[1]);
            String full = mapped[0] + "." + mapped[1];
            for (boolean callerAllowsIt : new boolean[] {false, true}) {
                String what = spelling[0] + " " + spelling[1] + (callerAllowsIt ? " (allowed by the caller)" : "");
                UnsupportedGlobalException refusal = load(pickle, callerAllowsIt ? Set.of(full) : Set.of());
                GlobalReference ref = scan(pickle, name -> callerAllowsIt && name.equals(full));
                assertEquals(full, ref.name(), what);
                Verdict expected = GlobalPolicy.decide(full, name -> callerAllowsIt && name.equals(full));
                assertEquals(expected, ref.verdict(), what);
                boolean scansClean = ref.verdict() == Verdict.ALLOWED_BY_DEFAULT
                        || ref.verdict() == Verdict.ALLOWED_BY_USER;
                assertEquals(scansClean, refusal == null, what + ": scan says " + ref.verdict() + ", the loader "
                        + (refusal == null ? "allows it" : "refuses it: " + refusal.getMessage()));
                if (refusal != null) {
                    assertEquals(full, refusal.globalName(), what);
                }
                if (TorchAllowlist.contains(full)) {
                    assertEquals(Verdict.ALLOWED_BY_DEFAULT, ref.verdict(), what);
                }
                if (DangerousGlobals.isDangerous(full)) {
                    // dangerous even when the host was handed the name: nothing allows it
                    assertEquals(Verdict.DANGEROUS, ref.verdict(), what);
                    assertTrue(refusal != null && (refusal.getMessage().contains("never allows it")
                            || refusal.getMessage().contains("is blocked.")), what);
                    assertEquals(GlobalPolicy.dangerReason(full).orElseThrow(), ref.reason(), what);
                }
                checked++;
            }
        }
        assertTrue(checked > 2 * (TorchAllowlist.names().size() + DangerousGlobals.CALLABLES.size()), "" + checked);
    }

    @Test
    void noDangerousNameCanBeAllowedByTheCallerInEitherSpelling() {
        for (String name : List.of("builtins.eval", "__builtin__.eval", "os.system", "subprocess.Popen",
                "functools.partial", "torch.load")) {
            assertThrows(IllegalArgumentException.class, () -> SafeGlobals.add(name), name);
            assertThrows(IllegalArgumentException.class, () -> LoadOptions.builder().allowGlobal(name), name);
        }
        assertTrue(SafeGlobals.get().isEmpty());
    }

    @Test
    void theRefusalTextIsTorchsWordingAndWhyADangerousGlobalIsNever() {
        assertEquals("Weights only load failed. Unsupported global: GLOBAL mypkg.Config was not an allowed global"
                + " by default.", GlobalPolicy.notAllowedText("mypkg", "Config"));
        assertEquals("Weights only load failed. Trying to load unsupported GLOBAL os.system whose module os is"
                + " blocked.", GlobalPolicy.blockedText("os", "system"));
        assertTrue(GlobalPolicy.notAllowedText("builtins", "eval").startsWith(
                "Weights only load failed. Unsupported global: GLOBAL eval was not an allowed global by default."
                        + " builtins.eval can execute code"));
    }
}
