package dev.weightsonly;

import dev.weightsonly.internal.globals.GlobalPolicy;

/**
 * A pickle names a global ({@code GLOBAL module.name}) that is not allowed, or whose module is blocked.
 * The message carries PyTorch's wording, so tools that grep for
 * {@code "GLOBAL x.y was not an allowed global by default"} work on both.
 */
public final class UnsupportedGlobalException extends UnsafeCheckpointException {

    private static final long serialVersionUID = 1L;

    private final String globalName;

    UnsupportedGlobalException(Location where, String globalName, String detail) {
        super(where, detail);
        this.globalName = globalName;
    }

    /** The refused global, {@code module.QualName}, after the Python 2 name mapping. */
    public String globalName() {
        return globalName;
    }

    /** Builds the refusal, with PyTorch's message followed by the remedy. */
    public static UnsupportedGlobalException notAllowed(Location where, String module, String name) {
        return new UnsupportedGlobalException(where, module + "." + name, GlobalPolicy.notAllowedText(module, name));
    }

    /** Builds the refusal of a global whose module can never be allowed ({@code sys, os, posix, nt}). */
    public static UnsupportedGlobalException blocked(Location where, String module, String name) {
        return new UnsupportedGlobalException(where, module + "." + name, GlobalPolicy.blockedText(module, name));
    }
}
