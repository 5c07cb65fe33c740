/**
 * Machinery (not exported): the globals policy, in one place. {@link dev.weightsonly.internal.globals.GlobalPolicy}
 * decides every global a pickle names (allowed by default, allowed by the caller, dangerous, or needing the
 * caller's allowlisting) for the loader and the scanner alike, checks what a caller may allow, and words the
 * refusal; it decides on PyTorch's default allowlist ({@link dev.weightsonly.internal.globals.TorchAllowlist}),
 * the dangerous list ({@link dev.weightsonly.internal.globals.DangerousGlobals}) and the Python 2 name mapping
 * ({@link dev.weightsonly.internal.globals.PythonNames}). A global the caller allowed loads as an
 * {@link dev.weightsonly.internal.globals.AllowedGlobal}.
 */
package dev.weightsonly.internal.globals;
