package dev.weightsonly.cli;

import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.torch.TorchLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A sparse tensor as the tool compares it: its layout, its dense size, and its stored parts by PyTorch's
 * names ({@code indices} and {@code values} for COO; {@code crow_indices}, {@code col_indices} and
 * {@code values} for CSR and BSR; {@code ccol_indices}, {@code row_indices} and {@code values} for CSC and
 * BSC), as the canonical dump writes them. Two sparse tensors are equal when their layouts, sizes and every
 * part are: the stored form is compared (an uncoalesced COO tensor and its coalesced copy differ), as the
 * dump compares it.
 */
final class SparseParts {

    private SparseParts() {
    }

    /** The layout's name without {@code torch.}: {@code sparse_coo}, {@code sparse_csr}, ... */
    static String layout(SparseTensor s) {
        return s.layout().torchName().substring("torch.".length());
    }

    /** {@code sparse_coo float32}: the layout and the dtype of the values. */
    static String describe(SparseTensor s) {
        return layout(s) + " " + s.values().dtype().torchName();
    }

    /** The stored parts, in the dump's order. */
    static Map<String, Tensor> of(SparseTensor s) {
        Map<String, Tensor> parts = new LinkedHashMap<>();
        boolean rows = s.layout() == TorchLayout.SPARSE_CSR || s.layout() == TorchLayout.SPARSE_BSR;
        if (s.layout() == TorchLayout.SPARSE_COO) {
            parts.put("indices", s.indices());
        } else {
            parts.put(rows ? "crow_indices" : "ccol_indices", s.compressedIndices());
            parts.put(rows ? "col_indices" : "row_indices", s.plainIndices());
        }
        parts.put("values", s.values());
        return parts;
    }
}
