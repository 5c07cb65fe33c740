package dev.weightsonly;

import dev.weightsonly.internal.io.Sha256;
import dev.weightsonly.internal.load.LoadAccess;
import dev.weightsonly.internal.globals.GlobalPolicy;
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

    /**
     * Whether a TorchScript archive's weights are read; see {@link Builder#torchScriptWeights(boolean)}.
     *
     * @return true if TorchScript archives load as weights, false (the default) if they are refused
     */
    public boolean torchScriptWeights() {
        return torchScriptWeights;
    }

    /**
     * The digest the file must have; see {@link Builder#expectSha256(String)}.
     *
     * @return the SHA-256 as 64 lowercase hex digits, or null when no digest is checked
     */
    public String expectedSha256() {
        return expectedSha256;
    }

    /**
     * The options of {@code torch.load(f, weights_only=True)}: PyTorch's default allowlist plus whatever
     * {@link SafeGlobals} allows on the loading thread, the default {@link LoadLimits}, no digest, and
     * TorchScript archives refused.
     *
     * @return the shared default options (immutable)
     */
    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Starts options from the defaults, to allow globals for one load, change limits or expect a digest.
     *
     * @return a new builder holding the defaults
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The bounds this load enforces on what a file may claim.
     *
     * @return the limits; {@link LoadLimits#defaults()} unless the builder set others
     */
    public LoadLimits limits() {
        return limits;
    }

    /**
     * The globals this load allows itself, beyond the default allowlist (not counting {@link SafeGlobals}).
     *
     * @return an unmodifiable set of qualified names ({@code module.QualName}), in the order they were allowed
     */
    public Set<String> allowedGlobals() {
        return globals.keySet();
    }

    /**
     * Whether the load also allows what {@link SafeGlobals} allows on the loading thread.
     *
     * @return true (the default) if {@link SafeGlobals} counts, false if only these options do
     */
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
     * Builds {@link LoadOptions}; start one with {@link LoadOptions#builder()}. Not thread-safe; the options it
     * builds are.
     */
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
         *
         * @param read true to read TorchScript weights, false to refuse such archives
         * @return this builder
         */
        public Builder torchScriptWeights(boolean read) {
            this.torchScriptWeights = read;
            return this;
        }

        /**
         * Replaces the limits, for example to load a genuine checkpoint larger than a default allows.
         *
         * @param limits the limits to enforce, usually from {@link LoadLimits#builder()}
         * @return this builder
         * @throws NullPointerException if {@code limits} is null
         */
        public Builder limits(LoadLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Allows one global for this load. Objects of an allowed class, and results of an allowed
         * function, load as inert {@link dev.weightsonly.python.PyObject}s: nothing of them is ever run.
         *
         * @param qualifiedName {@code module.QualName}, as the refusal message names it
         * @return this builder
         * @throws IllegalArgumentException for a malformed name, or a global that can only mean code execution
         *     or system access
         */
        public Builder allowGlobal(String qualifiedName) {
            return allowGlobal(qualifiedName, GlobalPolicy.inert());
        }

        /**
         * Allows one global for this load, building its objects with {@code factory} instead of leaving them
         * inert records. A global already on PyTorch's allowlist keeps its built-in meaning.
         *
         * @param qualifiedName {@code module.QualName}, as the refusal message names it
         * @param factory turns each loaded object of that global into the caller's Java value
         * @return this builder
         * @throws IllegalArgumentException for a malformed name, or a global that can only mean code execution
         *     or system access
         * @throws NullPointerException if {@code factory} is null
         */
        public Builder allowGlobal(String qualifiedName, GlobalFactory factory) {
            GlobalPolicy.checkAllowable(qualifiedName);
            Objects.requireNonNull(factory, "factory");
            if (!GlobalPolicy.isAllowedByDefault(qualifiedName)) {
                globals.put(qualifiedName, factory);
            }
            return this;
        }

        /**
         * Allows several globals for this load, as {@link #allowGlobal(String)} each (for example names read
         * from configuration).
         *
         * @param qualifiedNames {@code module.QualName}s
         * @return this builder
         * @throws IllegalArgumentException for any name {@link #allowGlobal(String)} refuses; the names before it
         *     stay allowed
         */
        public Builder allowGlobals(Collection<String> qualifiedNames) {
            for (String name : qualifiedNames) {
                allowGlobal(name);
            }
            return this;
        }

        /**
         * Whether this load also allows what {@link SafeGlobals} allows on the loading thread (default true).
         * False makes the load depend on nothing but these options.
         *
         * @param shared whether {@link SafeGlobals} counts for this load
         * @return this builder
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
         * @param hex the expected digest, 64 hex digits in either case (surrounding blanks ignored), or null
         * @return this builder
         * @throws IllegalArgumentException if {@code hex} is not 64 hex digits
         */
        public Builder expectSha256(String hex) {
            this.expectedSha256 = hex == null ? null : Sha256.normalize(hex.strip());
            return this;
        }

        /**
         * Freezes the options; the builder may be reused, and later changes do not affect what it built.
         *
         * @return the immutable options
         */
        public LoadOptions build() {
            return new LoadOptions(limits, globals, sharedSafeGlobals, torchScriptWeights, expectedSha256);
        }
    }
}
