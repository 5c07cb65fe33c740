package dev.weightsonly.internal.torch;

import dev.weightsonly.internal.Bridge;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.torch.TorchLayout;

/** The torch machinery's access to the package-private constructor of {@link SparseTensor} (see {@link Bridge}). */
public final class TorchAccess {

    /** Makes sparse tensors, whose parts {@link SparseChecks} has validated. */
    public interface Ops {
        /**
         * A sparse tensor of the given parts, unchecked.
         *
         * @param layout            the sparse layout
         * @param size              the dense size (copied)
         * @param indices           COO indices, or null
         * @param compressedIndices compressed indices, or null
         * @param plainIndices      plain indices, or null
         * @param values            the values
         * @param coalesced         the COO coalesced flag, or null
         * @return the tensor
         */
        SparseTensor newSparse(TorchLayout layout, long[] size, Tensor indices, Tensor compressedIndices,
                Tensor plainIndices, Tensor values, Boolean coalesced);
    }

    /** Installed by {@link TorchLayout}'s initialiser (which any use of TorchLayout runs). */
    public static final Bridge<Ops> BRIDGE = new Bridge<>(TorchLayout::values);

    private TorchAccess() {
    }
}
