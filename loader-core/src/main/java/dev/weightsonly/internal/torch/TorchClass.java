package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.PyClass;
import dev.weightsonly.python.PyTuple;

/**
 * An allowlisted torch class that a checkpoint may name but that weightsonly never calls: {@code torch.Tensor},
 * the legacy tensor classes ({@code torch.FloatTensor}, ...) and {@code torch.storage.TypedStorage}. torch would
 * call their constructors with arguments from the file ({@code torch.Tensor(10**12)} allocates, and
 * {@code torch.Tensor(3)} returns three uninitialised elements); here they are names only, used as the type
 * argument of {@code _rebuild_from_type_v2}, and neither REDUCE nor NEWOBJ constructs one (docs/SECURITY.md,
 * strict-structure).
 */
public record TorchClass(String qualifiedName) implements PyClass {

    @Override
    public Object newObject(PyTuple args, CallSite site) throws CheckpointException {
        throw neverConstructed(qualifiedName, site);
    }

    /** The refusal of NEWOBJ of a tensor or storage class (torch 2.6 calls its __new__, a constructor). */
    static CheckpointException neverConstructed(String qualifiedName, CallSite site) {
        return site.unsafe("NEWOBJ of " + qualifiedName + ": tensor and storage classes are never called as"
                + " constructors (torch would make a tensor or storage from the arguments, of uninitialised memory"
                + " for a size)");
    }
}
