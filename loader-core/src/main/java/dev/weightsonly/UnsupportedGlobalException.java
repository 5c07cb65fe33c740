package dev.weightsonly;

import dev.weightsonly.internal.scan.DangerousGlobals;

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
        String full = module + "." + name;
        // torch (2.7+) prints builtins without their module; keep its exact wording.
        String shown = full.startsWith("builtins.") ? full.substring("builtins.".length()) : full;
        String refusal = "Weights only load failed. Unsupported global: GLOBAL " + shown
                + " was not an allowed global by default. ";
        var danger = DangerousGlobals.reason(full);
        String detail = danger.isPresent()
                ? refusal + danger.get() + ": weightsonly never allows it. The file is malicious, or holds"
                        + " more than weights."
                : refusal + "Use SafeGlobals.add(\"" + full + "\") or SafeGlobals.scope(...) to allow it if you"
                        + " trust this class.";
        return new UnsupportedGlobalException(where, full, detail);
    }

    /** Builds the refusal of a global whose module can never be allowed ({@code sys, os, posix, nt}). */
    public static UnsupportedGlobalException blocked(Location where, String module, String name) {
        String full = module + "." + name;
        return new UnsupportedGlobalException(where, full, "Weights only load failed. Trying to load unsupported GLOBAL "
                + full + " whose module " + module + " is blocked.");
    }
}
