package dev.weightsonly;

import dev.weightsonly.internal.io.Sha256;
import dev.weightsonly.internal.load.LoadAccess;
import dev.weightsonly.internal.scan.DangerousGlobals;
import dev.weightsonly.internal.torch.TorchAllowlist;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How one load behaves: its {@link LoadLimits}, the globals it allows beyond PyTorch's default allowlist,
 * and whether it also honours {@link SafeGlobals}. Globals passed here belong to this load alone, which is
 * how a service keeps one request's trust out of another's. Immutable.
 */
public final class LoadOptions {

    static {
        // the loader (CheckpointReader) reads the allowlist in force through this, not through public API
        LoadAccess.BRIDGE.install(new LoadAccess.Ops() {
            @Override
            public Map<String, GlobalFactory> effectiveGlobals(LoadOptions options) {
                return options.effectiveGlobals();
            }

            @Override
            public boolean isInert(GlobalFactory factory) {
                return SafeGlobals.isInert(factory);
            }
        });
    }

    private static final LoadOptions DEFAULTS = new Builder().build();

    private final LoadLimits limits;
    private final Map<String, GlobalFactory> globals;
    private final boolean sharedSafeGlobals;
    private final boolean torchScriptWeights;
    private final String expectedSha256;

    private LoadOptions(LoadLimits limits, Map<String, GlobalFactory> globals, boolean sharedSafeGlobals,
            boolean torchScriptWeights, String expectedSha256) {
        this.expectedSha256 = expectedSha256;
        this.limits = limits;
        this.globals = Collections.unmodifiableMap(new LinkedHashMap<>(globals));
        this.sharedSafeGlobals = sharedSafeGlobals;
        this.torchScriptWeights = torchScriptWeights;
    }

    /** Whether a TorchScript archive's weights are read (default false: such archives are refused). */
    public boolean torchScriptWeights() {
        return torchScriptWeights;
    }

    /** The SHA-256 the file must have (lowercase hex), or null when no digest is checked. */
    public String expectedSha256() {
        return expectedSha256;
    }

    /** Default limits; the default allowlist plus whatever {@link SafeGlobals} allows on the loading thread. */
    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public LoadLimits limits() {
        return limits;
    }

    /** The globals this load allows itself, beyond the default allowlist (not counting {@link SafeGlobals}). */
    public Set<String> allowedGlobals() {
        return globals.keySet();
    }

    /** Whether the load also allows what {@link SafeGlobals} allows on the loading thread (default true). */
    public boolean sharedSafeGlobals() {
        return sharedSafeGlobals;
    }

    /** Names to factories for a load starting now on this thread: SafeGlobals (if shared), then this load's own. */
    Map<String, GlobalFactory> effectiveGlobals() {
        if (!sharedSafeGlobals) {
            return globals;
        }
        Map<String, GlobalFactory> all = SafeGlobals.snapshot();
        all.putAll(globals);
        return all;
    }

    /**
     * Checks that {@code qualifiedName} may be allowed at all.
     *
     * @throws IllegalArgumentException if it is not a qualified name, or can never be right for weights
     *                                  ({@link DangerousGlobals})
     */
    static String checkAllowable(String qualifiedName) {
        if (qualifiedName == null || !qualifiedName.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+")) {
            throw new IllegalArgumentException("a global is named by its Python qualified name, module.QualName,"
                    + " got '" + qualifiedName + "'");
        }
        // DangerousGlobals knows Python 3 names; "__builtin__.eval" is builtins.eval to a pickle.
        int dot = qualifiedName.lastIndexOf('.');
        String[] mapped = dev.weightsonly.internal.pickle.PythonNames.map(qualifiedName.substring(0, dot),
                qualifiedName.substring(dot + 1));
        var danger = DangerousGlobals.reason(qualifiedName)
                .or(() -> DangerousGlobals.reason(mapped[0] + "." + mapped[1]));
        if (danger.isPresent()) {
            throw new IllegalArgumentException(danger.get() + "; a weights file never needs it, and weightsonly"
                    + " refuses to allow it");
        }
        return qualifiedName;
    }

    /** Builds {@link LoadOptions}. */
    public static final class Builder {
        private LoadLimits limits = LoadLimits.defaults();
        private final Map<String, GlobalFactory> globals = new LinkedHashMap<>();
        private boolean sharedSafeGlobals = true;
        private boolean torchScriptWeights;
        private String expectedSha256;

        private Builder() {
        }

        /**
         * Whether to read the weights of a TorchScript archive ({@code torch.jit.save}) instead of refusing
         * it (the default, as torch's weights-only load does since CVE-2025-32434). When true, the tensors of
         * its {@code data.pkl} and {@code constants.pkl} load under their module paths, the compiled module
         * objects ({@code __torch__.*}) load as inert records, and the archive's code is never read.
         */
        public Builder torchScriptWeights(boolean read) {
            this.torchScriptWeights = read;
            return this;
        }

        public Builder limits(LoadLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Allows one global for this load. Objects of an allowed class, and results of an allowed
         * function, load as inert {@link dev.weightsonly.python.PyObject}s: nothing of them is ever run.
         *
         * @param qualifiedName {@code module.QualName}, as the refusal message names it
         * @throws IllegalArgumentException for a global that can only mean code execution or system access
         */
        public Builder allowGlobal(String qualifiedName) {
            return allowGlobal(qualifiedName, SafeGlobals.inert());
        }

        /** Allows one global for this load, building its objects with {@code factory}. */
        public Builder allowGlobal(String qualifiedName, GlobalFactory factory) {
            checkAllowable(qualifiedName);
            Objects.requireNonNull(factory, "factory");
            if (!TorchAllowlist.contains(qualifiedName)) {
                globals.put(qualifiedName, factory);
            }
            return this;
        }

        public Builder allowGlobals(Collection<String> qualifiedNames) {
            for (String name : qualifiedNames) {
                allowGlobal(name);
            }
            return this;
        }

        /**
         * Whether this load also allows what {@link SafeGlobals} allows on the loading thread (default true).
         * False makes the load depend on nothing but these options.
         */
        public Builder sharedSafeGlobals(boolean shared) {
            this.sharedSafeGlobals = shared;
            return this;
        }

        /**
         * The SHA-256 the whole file must have (64 hex digits, as {@code sha256sum} and model hubs publish
         * it), or null for none. The digest of the bytes the load reads is checked before anything of them is
         * used; a mismatch is an {@link UnsafeCheckpointException} naming both digests. It costs a read of
         * every byte (a mapped load otherwise reads only what is used): see {@link Sha256}. A mapped load
         * checks the bytes as they are when it starts; a file that others can rewrite while it is mapped
         * should be loaded from a stream, which copies it (docs/SECURITY.md).
         *
         * @throws IllegalArgumentException if {@code hex} is not 64 hex digits
         */
        public Builder expectSha256(String hex) {
            this.expectedSha256 = hex == null ? null : Sha256.normalize(hex.strip());
            return this;
        }

        public LoadOptions build() {
            return new LoadOptions(limits, globals, sharedSafeGlobals, torchScriptWeights, expectedSha256);
        }
    }
}
