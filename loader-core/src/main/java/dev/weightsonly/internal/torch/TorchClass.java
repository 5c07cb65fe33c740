package dev.weightsonly.internal.torch;

import dev.weightsonly.python.PyGlobal;

/**
 * An allowlisted torch class that a checkpoint may name but that weightsonly never calls: {@code torch.Tensor},
 * the legacy tensor classes ({@code torch.FloatTensor}, ...) and {@code torch.storage.TypedStorage}. torch would
 * call their constructors with arguments from the file ({@code torch.Tensor(10**12)} allocates); here they
 * are names only, used as the type argument of {@code _rebuild_from_type_v2}.
 */
record TorchClass(String qualifiedName) implements PyGlobal {
}
