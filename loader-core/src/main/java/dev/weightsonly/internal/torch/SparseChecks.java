package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.torch.TorchLayout;
import java.util.Arrays;

/**
 * The invariants of sparse tensors, checked when they are loaded. torch built them with
 * {@code check_invariants=False} and validated later, or not at all, which let out-of-range indices reach
 * {@code to_dense} (CVE-2025-62164); here an index outside the shape refuses the checkpoint.
 */
final class SparseChecks {

    private SparseChecks() {
    }

    /** COO: {@code (indices, values, size[, is_coalesced])}. */
    static SparseTensor coo(PyTuple data, CallSite site) throws CheckpointException {
        if (data.size() != 3 && data.size() != 4) {
            throw site.malformed("a sparse COO tensor is (indices, values, size[, is_coalesced]), got "
                    + data.size() + " items");
        }
        Tensor indices = tensor(data.get(0), "indices", site);
        Tensor values = tensor(data.get(1), "values", site);
        long[] size = TorchUnpicklerHost.longs(data.get(2), "sparse size", site);
        Boolean coalesced = null;
        if (data.size() == 4) {
            if (!(data.get(3) instanceof Boolean b)) {
                throw site.malformed("is_coalesced must be a bool, got " + PyValues.typeName(data.get(3)));
            }
            coalesced = b;
        }
        if (indices.dtype() != DType.INT64 || indices.dim() != 2) {
            throw site.malformed("COO indices must be a 2-D int64 tensor, got " + indices.dtype() + " of shape "
                    + Arrays.toString(indices.shape()));
        }
        long sparseDim = indices.size(0);
        long nnz = indices.size(1);
        if (values.dim() < 1 || values.size(0) != nnz) {
            throw site.malformed("COO values must have " + nnz + " rows (one per index), got shape "
                    + Arrays.toString(values.shape()));
        }
        long denseDim = values.dim() - 1;
        if (sparseDim + denseDim != size.length) {
            throw site.malformed("COO tensor of size " + Arrays.toString(size) + " cannot have " + sparseDim
                    + " sparse and " + denseDim + " dense dimensions");
        }
        for (int d = 0; d < denseDim; d++) {
            if (values.size(d + 1) != size[(int) sparseDim + d]) {
                throw site.malformed("COO values of shape " + Arrays.toString(values.shape())
                        + " do not match the dense dimensions of size " + Arrays.toString(size));
            }
        }
        requireStored(indices, "COO indices", site);
        for (int d = 0; d < sparseDim; d++) {
            for (long j = 0; j < nnz; j++) {
                long v = indices.getLong(d, j);
                if (v < 0 || v >= size[d]) {
                    throw site.malformed("index " + v + " of nonzero " + j + " in dimension " + d
                            + " is outside the size " + size[d] + " (a sparse tensor pointing outside its shape)");
                }
            }
        }
        return TorchAccess.BRIDGE.get().newSparse(TorchLayout.SPARSE_COO, size, indices, null, null, values, coalesced);
    }

    /** CSR, CSC, BSR, BSC: {@code (compressed_indices, plain_indices, values, size)}. */
    static SparseTensor compressed(TorchLayout layout, PyTuple data, CallSite site) throws CheckpointException {
        if (data.size() != 4) {
            throw site.malformed("a compressed sparse tensor is (compressed_indices, plain_indices, values, size),"
                    + " got " + data.size() + " items");
        }
        Tensor compressed = tensor(data.get(0), "compressed indices", site);
        Tensor plain = tensor(data.get(1), "plain indices", site);
        Tensor values = tensor(data.get(2), "values", site);
        long[] size = TorchUnpicklerHost.longs(data.get(3), "sparse size", site);
        boolean block = layout == TorchLayout.SPARSE_BSR || layout == TorchLayout.SPARSE_BSC;
        if (size.length != 2) {
            throw site.unsupported("a " + layout + " tensor of size " + Arrays.toString(size)
                    + " (batched or hybrid compressed layouts)");
        }
        for (Tensor t : new Tensor[] {compressed, plain}) {
            if ((t.dtype() != DType.INT64 && t.dtype() != DType.INT32) || t.dim() != 1) {
                throw site.malformed(layout + " indices must be 1-D int32 or int64, got " + t.dtype() + " of shape "
                        + Arrays.toString(t.shape()));
            }
        }
        long nnz = plain.numel();
        if (values.dim() != (block ? 3 : 1) || values.size(0) != nnz) {
            throw site.malformed(layout + " values must be " + (block ? "[nnz, block rows, block columns]" : "[nnz]")
                    + " with nnz = " + nnz + ", got shape " + Arrays.toString(values.shape()));
        }
        long bh = block ? values.size(1) : 1;
        long bw = block ? values.size(2) : 1;
        if (bh == 0 || bw == 0 || size[0] % bh != 0 || size[1] % bw != 0) {
            throw site.malformed("blocks of " + bh + "x" + bw + " do not tile a " + size[0] + "x" + size[1] + " tensor");
        }
        boolean rowsCompressed = layout == TorchLayout.SPARSE_CSR || layout == TorchLayout.SPARSE_BSR;
        long outer = rowsCompressed ? size[0] / bh : size[1] / bw;
        long inner = rowsCompressed ? size[1] / bw : size[0] / bh;
        if (compressed.numel() != outer + 1) {
            throw site.malformed(layout + " compressed indices must have " + (outer + 1) + " entries, got "
                    + compressed.numel());
        }
        requireStored(compressed, layout + " compressed indices", site);
        requireStored(plain, layout + " plain indices", site);
        long first = compressed.getLong(0);
        long last = compressed.getLong(outer);
        if (first != 0 || last != nnz) {
            throw site.malformed(layout + " compressed indices must start at 0 and end at nnz = " + nnz + ", got "
                    + first + " and " + last);
        }
        for (long i = 1, previous = first; i <= outer; i++) {
            long c = compressed.getLong(i);
            if (c < previous) {
                throw site.malformed(layout + " compressed indices decrease at position " + i);
            }
            previous = c;
        }
        for (long j = 0; j < nnz; j++) {
            long p = plain.getLong(j);
            if (p < 0 || p >= inner) {
                throw site.malformed(layout + " plain index " + p + " of nonzero " + j + " is outside [0, " + inner
                        + ") (a sparse tensor pointing outside its shape)");
            }
        }
        return TorchAccess.BRIDGE.get().newSparse(layout, size, null, compressed, plain, values, null);
    }

    /**
     * Indices are read when the tensor is loaded, element by element and never copied, so they must be stored
     * bytes: an expanded (stride-0) view could claim 2^40 indices over one stored value and make the check
     * run for hours. torch only ever saves indices as ordinary tensors.
     */
    private static void requireStored(Tensor t, String what, CallSite site) throws CheckpointException {
        if (t.byteSize() > t.storage().byteSize()) {
            throw site.malformed(what + " claim " + t.numel() + " elements over a storage of "
                    + t.storage().byteSize() + " bytes (an expanded view); indices must be stored, one by one");
        }
    }

    private static Tensor tensor(Object value, String what, CallSite site) throws CheckpointException {
        if (value instanceof Tensor t) {
            return t;
        }
        throw site.malformed("sparse " + what + " must be a tensor, got " + PyValues.typeName(value));
    }
}
