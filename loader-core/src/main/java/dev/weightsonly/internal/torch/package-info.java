/**
 * Machinery (not exported): what PyTorch's allowed globals mean in a weights-only load (which
 * globals are allowed is decided in {@link dev.weightsonly.internal.globals}): storages from persistent ids,
 * the rebuild functions ({@link dev.weightsonly.internal.torch.TorchUnpicklerHost}), and the legacy formats'
 * storages.
 */
package dev.weightsonly.internal.torch;
