package dev.weightsonly.internal.globals;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.GlobalFactory;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.scan.Verdict;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The one decision on a global a pickle names, and the words that go with it. The unpickler's host
 * ({@code TorchUnpicklerHost}, also for the plain-data pickles of a legacy stream), the scanner's grading ({@code GlobalScanner}) and the
 * registration of a caller's globals ({@code SafeGlobals}, {@code LoadOptions}) all ask here, so that
 * {@code scan} can never call clean a name that a load refuses: a scanner that decides differently from the
 * loader is the classic scanner bypass.
 *
 * <p>The lists it decides on live beside it: {@link TorchAllowlist} (PyTorch's default allowlist),
 * {@link DangerousGlobals} (never allowed, not even by the caller) and {@link PythonNames} (the Python 2 name
 * mapping that is applied before any decision).
 */
public final class GlobalPolicy {

    /** Modules that can never be allowed, not even by the user: torch blocks these four by module name. */
    private static final Set<String> BLOCKED_MODULES = Set.of("sys", "os", "posix", "nt");

    private static final Pattern QUALIFIED_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+");

    /** The factory that keeps an object as its inert record. */
    private static final GlobalFactory INERT = object -> object;

    private GlobalPolicy() {
    }

    /**
     * What a load makes of a global. Dangerous comes before the caller's list: no caller can allow a name that
     * can only mean code execution, system access or a nested deserialiser (and PyTorch's list holds none).
     *
     * @param qualifiedName {@code module.name}, after the Python 2 name mapping ({@link PythonNames#map})
     * @param callerAllowed the names the caller allows beyond PyTorch's default allowlist
     * @return {@link Verdict#DANGEROUS}, {@link Verdict#ALLOWED_BY_DEFAULT}, {@link Verdict#ALLOWED_BY_USER} or
     *     {@link Verdict#NEEDS_ALLOWLISTING}, in that order of precedence
     */
    public static Verdict decide(String qualifiedName, Predicate<String> callerAllowed) {
        // PyTorch's default allowlist holds no dangerous name (ScanLoadAgreementTest proves it for every name), so
        // asking it first decides the same, and spares the common case the dangerous list's walk of every module
        // prefix of the name (a measurable share of a scan of small files).
        if (TorchAllowlist.contains(qualifiedName)) {
            return Verdict.ALLOWED_BY_DEFAULT;
        }
        if (DangerousGlobals.isDangerous(qualifiedName)) {
            return Verdict.DANGEROUS;
        }
        return callerAllowed.test(qualifiedName) ? Verdict.ALLOWED_BY_USER : Verdict.NEEDS_ALLOWLISTING;
    }

    /**
     * Whether PyTorch's default allowlist holds {@code qualifiedName}.
     *
     * @param qualifiedName {@code module.name}
     * @return true if a load allows it without the caller allowing anything
     */
    public static boolean isAllowedByDefault(String qualifiedName) {
        return decide(qualifiedName, name -> false) == Verdict.ALLOWED_BY_DEFAULT;
    }

    /**
     * Why {@code qualifiedName} is dangerous, if it is.
     *
     * @param qualifiedName {@code module.name}, after the Python 2 name mapping
     * @return a sentence naming the global and what makes it dangerous, or empty
     */
    public static Optional<String> dangerReason(String qualifiedName) {
        return DangerousGlobals.reason(qualifiedName);
    }

    /**
     * Checks that the caller may allow {@code qualifiedName} at all ({@code SafeGlobals.add},
     * {@code LoadOptions.Builder.allowGlobal}).
     *
     * @param qualifiedName the name the caller passed
     * @return {@code qualifiedName}
     * @throws IllegalArgumentException if it is not a qualified name, or can never be right for weights
     *     ({@link DangerousGlobals}, in its Python 3 or its Python 2 spelling)
     */
    public static String checkAllowable(String qualifiedName) {
        if (qualifiedName == null || !QUALIFIED_NAME.matcher(qualifiedName).matches()) {
            throw new IllegalArgumentException("a global is named by its Python qualified name, module.QualName,"
                    + " got '" + qualifiedName + "'");
        }
        // DangerousGlobals knows Python 3 names; "__builtin__.eval" is builtins.eval to a pickle.
        int dot = qualifiedName.lastIndexOf('.');
        String[] mapped = PythonNames.map(qualifiedName.substring(0, dot), qualifiedName.substring(dot + 1));
        var danger = DangerousGlobals.reason(qualifiedName)
                .or(() -> DangerousGlobals.reason(mapped[0] + "." + mapped[1]));
        if (danger.isPresent()) {
            throw new IllegalArgumentException(danger.get() + "; a weights file never needs it, and weightsonly"
                    + " refuses to allow it");
        }
        return qualifiedName;
    }

    /**
     * Whether torch refuses every global of {@code module} with its "is blocked" message.
     *
     * @param module the module, after the Python 2 name mapping
     * @return true for {@code sys}, {@code os}, {@code posix} and {@code nt}
     */
    public static boolean isBlocked(String module) {
        return BLOCKED_MODULES.contains(module);
    }

    /**
     * A load's refusal of {@code module.name}, which the policy did not allow: torch's "is blocked" refusal for
     * a blocked module, its "not an allowed global" refusal otherwise.
     *
     * @param where the pickle and offset that name the global
     * @param module the module, after the Python 2 name mapping
     * @param name the name within the module
     * @return the exception to throw
     */
    public static UnsupportedGlobalException refusal(Location where, String module, String name) {
        return isBlocked(module)
                ? UnsupportedGlobalException.blocked(where, module, name)
                : UnsupportedGlobalException.notAllowed(where, module, name);
    }

    /**
     * The text of the refusal of a global that is not allowed: PyTorch's message and, for a dangerous global, why
     * it is never allowed. The remedy for an allowable one is the caller's to word.
     *
     * @param module the module, after the Python 2 name mapping
     * @param name the name within the module
     * @return the message of the {@code UnsupportedGlobalException}
     */
    public static String notAllowedText(String module, String name) {
        String full = module + "." + name;
        // torch (2.7+) prints builtins without their module; keep its exact wording.
        String shown = full.startsWith("builtins.") ? full.substring("builtins.".length()) : full;
        String refusal = "Weights only load failed. Unsupported global: GLOBAL " + shown
                + " was not an allowed global by default.";
        // The remedy is the caller's to word (UnsupportedGlobalException appends the API's; the tool its option).
        var danger = DangerousGlobals.reason(full);
        return danger.isPresent()
                ? refusal + " " + danger.get() + ": weightsonly never allows it. The file is malicious, or holds"
                        + " more than weights."
                : refusal;
    }

    /**
     * The text of the refusal of a global whose module is blocked ({@link #isBlocked}), in PyTorch's words.
     *
     * @param module the module
     * @param name the name within the module
     * @return the message of the {@code UnsupportedGlobalException}
     */
    public static String blockedText(String module, String name) {
        return "Weights only load failed. Trying to load unsupported GLOBAL " + module + "." + name + " whose module "
                + module + " is blocked.";
    }

    /**
     * The factory that keeps an allowed global's objects as their inert records.
     *
     * @return the one inert factory
     */
    public static GlobalFactory inert() {
        return INERT;
    }

    /**
     * Whether {@code factory} is {@link #inert()} (the loader then has nothing to apply).
     *
     * @param factory a caller's factory or the inert one
     * @return true for the inert factory
     */
    public static boolean isInert(GlobalFactory factory) {
        return factory == INERT;
    }
}
