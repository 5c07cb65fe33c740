/**
 * Machinery (not exported): PyTorch's rules for a weights-only load: the default allowlist
 * ({@link dev.weightsonly.internal.torch.TorchAllowlist}), storages from persistent ids, the rebuild functions
 * ({@link dev.weightsonly.internal.torch.TorchUnpicklerHost}), and the legacy formats' storages.
 */
package dev.weightsonly.internal.torch;
