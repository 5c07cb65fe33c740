/**
 * The torch value types a loaded checkpoint can hold besides tensors: {@link dev.weightsonly.torch.SparseTensor},
 * {@link dev.weightsonly.torch.MetaTensor}, {@link dev.weightsonly.torch.TorchSize},
 * {@link dev.weightsonly.torch.TorchDevice}, {@link dev.weightsonly.torch.TorchLayout},
 * {@link dev.weightsonly.torch.QScheme} and bare storages ({@link dev.weightsonly.torch.TorchStorage}).
 * PyTorch's rules for a weights-only load (the default allowlist, storages from persistent ids, the rebuild
 * functions) are machinery, in {@code dev.weightsonly.internal.torch}.
 */
package dev.weightsonly.torch;
