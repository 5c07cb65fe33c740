package dev.weightsonly.torch;

import dev.weightsonly.internal.torch.TorchAccess;
import java.util.Optional;

/** A {@code torch.layout}, as {@code torch.serialization._get_layout} names it. */
public enum TorchLayout {
    STRIDED("torch.strided"),
    SPARSE_COO("torch.sparse_coo"),
    SPARSE_CSR("torch.sparse_csr"),
    SPARSE_CSC("torch.sparse_csc"),
    SPARSE_BSR("torch.sparse_bsr"),
    SPARSE_BSC("torch.sparse_bsc"),
    MKLDNN("torch._mkldnn"),
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

    public String torchName() {
        return torchName;
    }

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
