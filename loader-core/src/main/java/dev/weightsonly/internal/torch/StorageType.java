package dev.weightsonly.internal.torch;

import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.tensors.DType;

/**
 * A storage class named in a persistent id: a legacy typed class ({@code torch.FloatStorage}, marker of
 * its dtype, as torch's {@code StorageType}) or {@code torch.storage.UntypedStorage} (bytes).
 */
record StorageType(String qualifiedName, DType dtype, boolean untyped) implements PyGlobal {
}
