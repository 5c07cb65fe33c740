package dev.weightsonly.torch;

import dev.weightsonly.internal.torch.TorchAccess;
import java.util.Optional;

/**
 * A {@code torch.layout}, as {@code torch.serialization._get_layout} names it: the layout of a
 * {@link SparseTensor}, or a layout value a pickle holds.
 */
public enum TorchLayout {
    /** {@code torch.strided}: an ordinary dense tensor. */
    STRIDED("torch.strided"),
    /** {@code torch.sparse_coo}: coordinate lists of the non-zero entries. */
    SPARSE_COO("torch.sparse_coo"),
    /** {@code torch.sparse_csr}: compressed rows. */
    SPARSE_CSR("torch.sparse_csr"),
    /** {@code torch.sparse_csc}: compressed columns. */
    SPARSE_CSC("torch.sparse_csc"),
    /** {@code torch.sparse_bsr}: compressed rows of dense blocks. */
    SPARSE_BSR("torch.sparse_bsr"),
    /** {@code torch.sparse_bsc}: compressed columns of dense blocks. */
    SPARSE_BSC("torch.sparse_bsc"),
    /** {@code torch._mkldnn}: oneDNN's opaque layout, which a checkpoint can name but holds no data in. */
    MKLDNN("torch._mkldnn"),
    /** {@code torch.jagged}: nested tensors of ragged rows. */
    JAGGED("torch.jagged");

    private final String torchName;

    static {
        // Hands the machinery (SparseChecks) SparseTensor's package-private constructor, for tensors whose parts it
        // has validated (see TorchAccess). Installed here, not in SparseTensor: TorchAccess initialises this enum
        // through TorchLayout.values(), and SparseTensor has no static member to do that with.
        TorchAccess.BRIDGE.install(SparseTensor::new);
    }

    TorchLayout(String torchName) {
        this.torchName = torchName;
    }

    /**
     * The layout's name in torch.
     *
     * @return the name with its {@code torch.} prefix, such as {@code "torch.sparse_coo"}
     */
    public String torchName() {
        return torchName;
    }

    /**
     * Looks up a layout by the name torch gives it.
     *
     * @param name a name such as {@code "torch.sparse_csr"}, with its prefix
     * @return the layout, or empty if torch has none of that name
     */
    public static Optional<TorchLayout> fromTorchName(String name) {
        for (TorchLayout l : values()) {
            if (l.torchName.equals(name)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return torchName;
    }
}
