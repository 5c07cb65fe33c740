package dev.weightsonly;

import dev.weightsonly.torch.TorchAllowlist;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * How one load behaves: its {@link LoadLimits} and the globals it allows beyond PyTorch's default
 * allowlist. Passing options per load keeps one request's trust out of another's: nothing here is
 * process-wide. Immutable.
 */
public final class LoadOptions {

    private static final LoadOptions DEFAULTS = new Builder().build();

    /**
     * Modules and callables that can never be right inside a weights file: allowing them would let a
     * checkpoint ask for code execution, file or network access, or a nested unpickler. Refused at
     * registration. (weightsonly would still never call them; refusing says the request is a mistake.)
     */
    private static final Set<String> NEVER_ALLOWED_MODULES = Set.of(
            "sys", "os", "posix", "nt", "subprocess", "runpy", "pickle", "_pickle", "pickletools", "marshal",
            "importlib", "ctypes", "shutil", "socket", "pty", "code", "codeop", "webbrowser", "multiprocessing",
            "_posixsubprocess", "pdb", "timeit", "dill", "cloudpickle", "joblib", "types", "inspect", "asyncio",
            "signal", "platform", "tempfile", "glob", "io", "_io", "requests", "urllib", "http");
    private static final Set<String> NEVER_ALLOWED_GLOBALS = Set.of(
            "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr",
            "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.input", "builtins.breakpoint",
            "builtins.globals", "builtins.locals", "builtins.vars", "builtins.apply", "builtins.execfile",
            "builtins.memoryview", "builtins.type", "builtins.object", "copyreg._reconstructor",
            "functools.partial", "operator.attrgetter", "operator.methodcaller", "operator.itemgetter",
            "torch.load", "torch.save", "torch.jit.load", "torch.hub.load", "torch.serialization.load",
            "numpy.load", "numpy.testing._private.utils.runstring");

    private final LoadLimits limits;
    private final Set<String> allowedGlobals;

    private LoadOptions(LoadLimits limits, Set<String> allowedGlobals) {
        this.limits = limits;
        this.allowedGlobals = Set.copyOf(allowedGlobals);
    }

    /** Default limits, default allowlist only. */
    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public LoadLimits limits() {
        return limits;
    }

    /** The globals allowed beyond the default allowlist, as {@code module.QualName} strings. */
    public Set<String> allowedGlobals() {
        return allowedGlobals;
    }

    /**
     * Checks that {@code qualifiedName} may be allowed at all.
     *
     * @throws IllegalArgumentException if it is malformed, already allowed by default, or can never be
     *                                  right for weights (see the class documentation)
     */
    static String checkAllowable(String qualifiedName) {
        if (qualifiedName == null || !qualifiedName.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+")) {
            throw new IllegalArgumentException("a global is named by its Python qualified name, module.QualName,"
                    + " got '" + qualifiedName + "'");
        }
        String module = qualifiedName.substring(0, qualifiedName.indexOf('.'));
        if (NEVER_ALLOWED_GLOBALS.contains(qualifiedName) || NEVER_ALLOWED_MODULES.contains(module)
                || qualifiedName.toLowerCase(Locale.ROOT).contains("__builtin__")) {
            throw new IllegalArgumentException(qualifiedName + " can execute code or touch the system; a"
                    + " weights file never needs it, and weightsonly refuses to allow it");
        }
        return qualifiedName;
    }

    /** Builds {@link LoadOptions}. */
    public static final class Builder {
        private LoadLimits limits = LoadLimits.defaults();
        private final Set<String> allowed = new LinkedHashSet<>();

        private Builder() {
        }

        public Builder limits(LoadLimits limits) {
            this.limits = java.util.Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Allows one global for this load. Objects of an allowed class, and results of an allowed
         * function, load as inert {@link dev.weightsonly.pickle.PyObject}s: nothing of them is ever run.
         *
         * @param qualifiedName {@code module.QualName}, as the refusal message names it
         */
        public Builder allowGlobal(String qualifiedName) {
            checkAllowable(qualifiedName);
            if (!TorchAllowlist.contains(qualifiedName)) {
                allowed.add(qualifiedName);
            }
            return this;
        }

        public Builder allowGlobals(Collection<String> qualifiedNames) {
            for (String name : qualifiedNames) {
                allowGlobal(name);
            }
            return this;
        }

        public LoadOptions build() {
            return new LoadOptions(limits, allowed);
        }
    }
}
