package dev.weightsonly.scan;

/** What a weights-only load makes of one global a pickle names. */
public enum Verdict {
    /** In PyTorch's default weights-only allowlist. */
    ALLOWED_BY_DEFAULT,
    /** Not in the default allowlist, but allowed by the caller ({@code SafeGlobals} or load options). */
    ALLOWED_BY_USER,
    /** Refused unless allowed explicitly: a class or function the file needs that is not known to be safe. */
    NEEDS_ALLOWLISTING,
    /** Code execution, system access or a nested deserialiser: never allowed. */
    DANGEROUS
}
