/**
 * PyTorch's rules for a weights-only load: the default allowlist ({@link dev.weightsonly.torch.TorchAllowlist}),
 * storages from persistent ids, the rebuild functions, and the torch value types a checkpoint can hold
 * ({@link dev.weightsonly.torch.TorchSize}, {@link dev.weightsonly.torch.TorchDevice},
 * {@link dev.weightsonly.torch.TorchLayout}, {@link dev.weightsonly.torch.QScheme}).
 */
package dev.weightsonly.torch;
