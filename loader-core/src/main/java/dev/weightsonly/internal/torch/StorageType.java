package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.PyClass;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.tensors.DType;

/**
 * A storage class named in a persistent id: a legacy typed class ({@code torch.FloatStorage}, marker of
 * its dtype, as torch's {@code StorageType}) or {@code torch.storage.UntypedStorage} (bytes). Never constructed:
 * NEWOBJ of {@code UntypedStorage} would make storage of uninitialised bytes in torch (of a legacy class, whose
 * handle in torch is an instance, a TypeError).
 */
public record StorageType(String qualifiedName, DType dtype, boolean untyped) implements PyClass {

    @Override
    public Object newObject(PyTuple args, CallSite site) throws CheckpointException {
        throw TorchClass.neverConstructed(qualifiedName, site);
    }
}
