package dev.weightsonly;

import dev.weightsonly.internal.globals.GlobalPolicy;

/**
 * A pickle names a global ({@code GLOBAL module.name}) that is not allowed, or whose module is blocked.
 * The message carries PyTorch's wording, so tools that grep for
 * {@code "GLOBAL x.y was not an allowed global by default"} work on both.
 */
public final class UnsupportedGlobalException extends UnsafeCheckpointException {

    private static final long serialVersionUID = 1L;

    /** The refused global; see {@link #globalName()}. */
    private final String globalName;

    UnsupportedGlobalException(Location where, String globalName, String detail) {
        super(where, detail);
        this.globalName = globalName;
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
     * Builds the refusal of a global outside the allowlist, with PyTorch's message followed by the remedy (or,
     * for a dangerous global, why it is never allowed).
     *
     * @param where the record and pickle offset of the {@code GLOBAL} opcode
     * @param module the global's module, after the Python 2 name mapping
     * @param name the global's qualified name inside its module
     * @return the exception, for the caller to throw
     */
    public static UnsupportedGlobalException notAllowed(Location where, String module, String name) {
        return new UnsupportedGlobalException(where, module + "." + name, GlobalPolicy.notAllowedText(module, name));
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
        return new UnsupportedGlobalException(where, module + "." + name, GlobalPolicy.blockedText(module, name));
    }
}
