package dev.weightsonly;

import dev.weightsonly.internal.globals.GlobalPolicy;

/**
 * A pickle names a global ({@code GLOBAL module.name}) that is not allowed, or whose module is blocked.
 * The message carries PyTorch's wording, so tools that grep for
 * {@code "GLOBAL x.y was not an allowed global by default"} work on both, followed, for a global that may be
 * allowed, by the remedy in this API's terms ({@code LoadOptions.builder().allowGlobal("x.y")}). A caller with
 * remedies of its own (a command line option) words the message itself from {@link #where()},
 * {@link #refusal()} and {@link #allowable()}.
 */
public final class UnsupportedGlobalException extends UnsafeCheckpointException {

    private static final long serialVersionUID = 1L;

    /** The refused global; see {@link #globalName()}. */
    private final String globalName;
    /** The refusal without the remedy; see {@link #refusal()}. */
    private final String refusal;
    /** Whether any option may allow the global; see {@link #allowable()}. */
    private final boolean allowable;

    private UnsupportedGlobalException(Location where, String globalName, String refusal, boolean allowable) {
        super(where, allowable ? refusal + " If you trust this class, allow it for the load:"
                + " LoadOptions.builder().allowGlobal(\"" + globalName + "\"), or for every load with"
                + " SafeGlobals.add(\"" + globalName + "\")." : refusal);
        this.globalName = globalName;
        this.refusal = refusal;
        this.allowable = allowable;
    }

    /**
     * The refused global, to allow it ({@link LoadOptions.Builder#allowGlobal(String)}) if the caller trusts it.
     *
     * @return {@code module.QualName}, after the Python 2 name mapping ({@code __builtin__} reads as
     *     {@code builtins})
     */
    public String globalName() {
        return globalName;
    }

    /**
    /**
     * Whether the global may be allowed at all: false for a blocked module ({@code sys, os, posix, nt}) and for
     * the globals that can only mean code execution or system access, which no option allows.
     *
     * @return true when {@code LoadOptions.builder().allowGlobal(globalName())} would accept it
     */
    public boolean allowable() {
        return allowable;
    }

    /**
     * The refusal without this API's remedy: PyTorch's wording, and for a global that can never be allowed, why.
     *
     * @return {@link #detail()} less its closing remedy sentence
     */
    public String refusal() {
        return refusal;
    }

    /**
     * Builds the refusal of a global outside the allowlist, with PyTorch's message followed by the remedy (or,
     * for a dangerous global, why it is never allowed).
     *
     * @param where the record and pickle offset of the {@code GLOBAL} opcode
     * @param module the global's module, after the Python 2 name mapping
     * @param name the global's qualified name inside its module
     * @return the exception, for the caller to throw
     */
    public static UnsupportedGlobalException notAllowed(Location where, String module, String name) {
        String full = module + "." + name;
        return new UnsupportedGlobalException(where, full, GlobalPolicy.notAllowedText(module, name),
                GlobalPolicy.dangerReason(full).isEmpty());
    }

    /**
     * Builds the refusal of a global whose module can never be allowed ({@code sys, os, posix, nt}), in
     * PyTorch's words.
     *
     * @param where the record and pickle offset of the {@code GLOBAL} opcode
     * @param module the blocked module
     * @param name the global's qualified name inside its module
     * @return the exception, for the caller to throw
     */
    public static UnsupportedGlobalException blocked(Location where, String module, String name) {
        return new UnsupportedGlobalException(where, module + "." + name, GlobalPolicy.blockedText(module, name),
                false);
    }
}
