package dev.weightsonly.torch;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;

/**
 * A storage as a persistent id yields it: the bytes and the dtype its storage class declared
 * ({@code torch.FloatStorage} is float32; {@code torch.UntypedStorage} is bytes, and the tensor's dtype
 * then comes from {@code _rebuild_tensor_v3}). A checkpoint that saved a bare storage holds one of these.
 *
 * @param storage the bytes, shared with any tensor that views the same storage
 * @param dtype the dtype the storage class declared ({@link DType#UINT8} for an untyped storage)
 * @param untyped true when the pickle named {@code torch.storage.UntypedStorage}
 */
public record TorchStorage(Storage storage, DType dtype, boolean untyped) {
}
