package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.torch.TorchLayout;
import java.util.Arrays;

/**
 * The invariants of sparse tensors, checked when they are loaded: what torch 2.6's {@code torch.load} checks
 * after unpickling ({@code _validate_loaded_sparse_tensors}: {@code _validate_sparse_coo_tensor_args} and
 * {@code _validate_sparse_compressed_tensor_args}) and what its constructors check, so that a file loads here
 * exactly when it loads there (checked with PyTorch 2.6 on the cases of SparseParityTest). torch builds the
 * tensors with {@code check_invariants=False} and validates them at the end of the load (in a process-wide list,
 * GHSA-pxpx-v6rm-5jqf; before 2.x not at all, which let out-of-range indices reach {@code to_dense},
 * CVE-2025-62164); here the checks run in the call that builds the tensor.
 *
 * <p>One deliberate difference (docs/SECURITY.md, strict-structure): indices must be stored, one by one. An
 * expanded (stride-0) view claiming more indices than its storage holds is refused rather than checked for hours.
 */
final class SparseChecks {

    private SparseChecks() {
    }

    /**
     * COO: {@code (indices, values, size[, is_coalesced])}. As {@code sparse_coo_tensor}: the indices are converted
     * to int64 (a copy unless they are int64 already), 0-d values are expanded to one value; as the validation:
     * every index inside the size, and indices claimed coalesced are sorted without duplicates.
     */
    static SparseTensor coo(PyTuple data, CallSite site) throws CheckpointException {
        if (data.size() != 3 && data.size() != 4) {
            throw site.malformed("a sparse COO tensor is (indices, values, size[, is_coalesced]), got "
                    + data.size() + " items");
        }
        Tensor indices = tensor(data.get(0), "indices", site);
        Tensor values = values(data.get(1), site);
        long[] size = TorchUnpicklerHost.longs(data.get(2), "sparse size", site);
        Boolean coalesced = null;
        if (data.size() == 4 && !(data.get(3) instanceof PyNone)) {
            if (!(data.get(3) instanceof Boolean b)) {
                throw site.malformed("is_coalesced must be a bool, got " + PyValues.typeName(data.get(3)));
            }
            coalesced = b;
        }
        if (indices.dim() != 2) {
            throw site.malformed("COO indices must be sparse_dim x nnz, got shape " + Arrays.toString(indices.shape()));
        }
        if (indices.dtype() != DType.INT64 && !TensorConversion.convertibleToLong(indices.dtype())) {
            throw site.malformed("COO indices of dtype " + indices.dtype() + " have no int64 value");
        }
        if (values.dim() == 0) {
            // expand_values_if_needed: one value, a stride-0 view of the saved scalar
            values = Tensor.of(values.storage(), values.dtype(), values.storageOffset(), new long[] {1},
                    new long[] {0}).withNeg(values.isNeg()).withConj(values.isConj())
                    .withRequiresGrad(values.requiresGrad());
        }
        long sparseDim = indices.size(0);
        long nnz = indices.size(1);
        if (values.size(0) != nnz) {
            throw site.malformed("COO indices and values must have the same nnz, got " + nnz + " from the indices"
                    + " and " + values.size(0) + " from the values");
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
        checkNumel(size, site);
        requireStored(indices, "COO indices", site);
        if (indices.dtype() != DType.INT64) {
            indices = TensorConversion.convertedAs(indices, DType.INT64, "COO indices", site);
        }
        for (int d = 0; d < sparseDim; d++) {
            for (long j = 0; j < nnz; j++) {
                long v = indices.getLong(d, j);
                if (v < 0 || v >= size[d]) {
                    throw site.malformed("index " + v + " of nonzero " + j + " in dimension " + d
                            + " is outside the size " + size[d] + " (a sparse tensor pointing outside its shape)");
                }
            }
        }
        if (Boolean.TRUE.equals(coalesced) && nnz > 1 && sparseDim > 0) {
            requireCoalesced(indices, size, site);
        }
        return TorchAccess.BRIDGE.get().newSparse(TorchLayout.SPARSE_COO, size, indices, null, null, values, coalesced);
    }

    /**
     * Indices claimed coalesced must be too: their row-major linear indices strictly increase. torch computes the
     * linear indices in int64 with the sizes' row-major strides ({@code flatten_indices}), wrapping as C++ does;
     * so does this.
     */
    private static void requireCoalesced(Tensor indices, long[] size, CallSite site) throws CheckpointException {
        int sparseDim = (int) indices.size(0);
        long nnz = indices.size(1);
        long[] strides = new long[sparseDim];
        long stride = 1;
        for (int d = sparseDim - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= size[d]; // wraps as torch's int64 arithmetic does
        }
        long previous = 0;
        for (long j = 0; j < nnz; j++) {
            long linear = 0;
            for (int d = 0; d < sparseDim; d++) {
                linear += indices.getLong(d, j) * strides[d];
            }
            if (j > 0 && linear - previous <= 0) {
                throw site.malformed("cannot set is_coalesced to true if indices correspond to uncoalesced COO"
                        + " tensor (nonzero " + j + ")");
            }
            previous = linear;
        }
    }

    /**
     * CSR, CSC, BSR, BSC: {@code (compressed_indices, plain_indices, values, size)}, with any number of batch
     * dimensions (leading dimensions of all three tensors) and dense dimensions (trailing dimensions of the values),
     * as torch's {@code _validate_sparse_compressed_tensor_args} checks them: the dimensionalities and batch sizes
     * agree, indices are int32 or int64 of one dtype and contiguous in their last dimension, blocks tile the
     * tensor, and in every batch the compressed indices run from 0 to nnz in steps of 0 to the plain dimension's
     * size, and the plain indices lie inside it, sorted and distinct within each compressed row (or column).
     */
    static SparseTensor compressed(TorchLayout layout, PyTuple data, CallSite site) throws CheckpointException {
        if (data.size() != 4) {
            throw site.malformed("a compressed sparse tensor is (compressed_indices, plain_indices, values, size),"
                    + " got " + data.size() + " items");
        }
        Tensor compressed = tensor(data.get(0), "compressed indices", site);
        Tensor plain = tensor(data.get(1), "plain indices", site);
        Tensor values = values(data.get(2), site);
        long[] size = TorchUnpicklerHost.longs(data.get(3), "sparse size", site);
        boolean block = layout == TorchLayout.SPARSE_BSR || layout == TorchLayout.SPARSE_BSC;
        boolean rowsCompressed = layout == TorchLayout.SPARSE_CSR || layout == TorchLayout.SPARSE_BSR;
        int batchDim = compressed.dim() - 1;
        int blockDim = block ? 2 : 0;
        if (batchDim < 0) {
            throw site.malformed(layout + " compressed indices must have dimensionality >= 1, got 0");
        }
        if (compressed.dim() != plain.dim()) {
            throw site.malformed(layout + " compressed and plain indices must have equal dimensionalities, got "
                    + compressed.dim() + " and " + plain.dim());
        }
        int denseDim = values.dim() - batchDim - blockDim - 1;
        if (denseDim < 0) {
            throw site.malformed(layout + " values must have dimensionality > sum of batch and block"
                    + " dimensionalities (=" + batchDim + " + " + blockDim + ") but got " + values.dim());
        }
        if (plain.stride(batchDim) != 1 || compressed.stride(batchDim) != 1) {
            throw site.malformed(layout + " indices must be contiguous per batch (last stride 1), got strides "
                    + Arrays.toString(compressed.strides()) + " and " + Arrays.toString(plain.strides()));
        }
        if (size.length != batchDim + 2 + denseDim) {
            throw site.malformed(layout + " tensor dimensionality must be the sum of batch, base and dense"
                    + " dimensionalities (=" + batchDim + " + 2 + " + denseDim + ") but got " + size.length);
        }
        // torch counts a block of zero rows or columns as one (max(1, size)); such values hold no element
        long bh = block ? Math.max(1, values.size(batchDim + 1)) : 1;
        long bw = block ? Math.max(1, values.size(batchDim + 2)) : 1;
        for (int d = 0; d < batchDim; d++) {
            if (compressed.size(d) != size[d] || plain.size(d) != size[d] || values.size(d) != size[d]) {
                throw site.malformed("all batch dimensions of the " + layout + " indices and values must equal the"
                        + " tensor's batch dimensions " + Arrays.toString(Arrays.copyOf(size, batchDim)) + ", got "
                        + Arrays.toString(compressed.shape()) + ", " + Arrays.toString(plain.shape()) + " and "
                        + Arrays.toString(values.shape()));
            }
        }
        if (size[batchDim] % bh != 0 || size[batchDim + 1] % bw != 0) {
            throw site.malformed("blocks of " + bh + "x" + bw + " do not tile a " + size[batchDim] + "x"
                    + size[batchDim + 1] + " tensor");
        }
        long rows = size[batchDim] / bh;
        long columns = size[batchDim + 1] / bw;
        long compressedDimSize = rowsCompressed ? rows : columns;
        long plainDimSize = rowsCompressed ? columns : rows;
        if (compressed.size(batchDim) != compressedDimSize + 1) {
            throw site.malformed(layout + " compressed indices must have " + (compressedDimSize + 1) + " entries per"
                    + " batch, got " + compressed.size(batchDim));
        }
        long nnz = values.size(batchDim);
        if (plain.size(batchDim) != nnz) {
            throw site.malformed(layout + " plain indices must have nnz = " + nnz + " entries per batch (the values'"
                    + " shape " + Arrays.toString(values.shape()) + "), got " + plain.size(batchDim));
        }
        if (compressed.dtype() != plain.dtype()
                || (compressed.dtype() != DType.INT64 && compressed.dtype() != DType.INT32)) {
            throw site.malformed(layout + " indices must be int32 or int64 of one dtype, got " + compressed.dtype()
                    + " and " + plain.dtype());
        }
        checkNumel(size, site);
        requireStored(compressed, layout + " compressed indices", site);
        requireStored(plain, layout + " plain indices", site);
        // the number of batches, from stored elements (the indices were checked stored above)
        long perBatch = compressedDimSize + 1;
        long batches = perBatch > 0 ? compressed.numel() / perBatch : nnz > 0 ? plain.numel() / nnz : 0;
        long[] c = new long[compressed.dim()];
        long[] p = new long[plain.dim()];
        for (long b = 0; b < batches; b++) {
            batchIndex(b, compressed.shape(), c);
            System.arraycopy(c, 0, p, 0, batchDim);
            checkBatch(layout, compressed, plain, c, p, compressedDimSize, plainDimSize, nnz, b, site);
        }
        return TorchAccess.BRIDGE.get().newSparse(layout, size, null, compressed, plain, values, null);
    }

    /** The batch indices of batch number {@code b} (row-major) in the leading entries of {@code index}. */
    private static void batchIndex(long b, long[] shape, long[] index) {
        long rest = b;
        for (int d = shape.length - 2; d >= 0; d--) {
            index[d] = rest % shape[d];
            rest /= shape[d];
        }
    }

    private static void checkBatch(TorchLayout layout, Tensor compressed, Tensor plain, long[] c, long[] p,
            long compressedDimSize, long plainDimSize, long nnz, long batch, CallSite site) throws CheckpointException {
        int last = c.length - 1;
        String where = c.length > 1 ? " (batch " + batch + ")" : "";
        for (long j = 0; j < nnz; j++) {
            p[last] = j;
            long index = plain.getLong(p);
            if (index < 0 || index >= plainDimSize) {
                throw site.malformed(layout + " plain index " + index + " of nonzero " + j + " is outside [0, "
                        + plainDimSize + ") (a sparse tensor pointing outside its shape)" + where);
            }
        }
        if (compressedDimSize < 0) {
            return; // no compressed index at all (a size of -1, after a zero): torch checks none
        }
        c[last] = 0;
        long first = compressed.getLong(c);
        c[last] = compressedDimSize;
        long end = compressed.getLong(c);
        if (first != 0 || end != nnz) {
            throw site.malformed(layout + " compressed indices must start at 0 and end at nnz = " + nnz + ", got "
                    + first + " and " + end + where);
        }
        long previous = first;
        for (long i = 1; i <= compressedDimSize; i++) {
            c[last] = i;
            long next = compressed.getLong(c);
            if (next - previous < 0 || next - previous > plainDimSize) {
                throw site.malformed(layout + " compressed indices must grow by 0 to " + plainDimSize + " per step,"
                        + " got " + previous + " then " + next + " at position " + i + where);
            }
            previous = next;
        }
        // now 0 = c[0] <= c[1] <= ... <= c[last] = nnz: every segment lies inside the plain indices
        previous = first;
        for (long i = 1; i <= compressedDimSize; i++) {
            c[last] = i;
            long next = compressed.getLong(c);
            for (long j = previous + 1; j < next; j++) {
                p[last] = j - 1;
                long before = plain.getLong(p);
                p[last] = j;
                long index = plain.getLong(p);
                if (before >= index) {
                    throw site.malformed(layout + " plain indices must be sorted and distinct within each compressed "
                            + (layout == TorchLayout.SPARSE_CSR || layout == TorchLayout.SPARSE_BSR ? "row" : "column")
                            + ", got " + before + " then " + index + " at nonzero " + j + where);
                }
            }
            previous = next;
        }
    }

    /**
     * torch's {@code numel} check of a sparse tensor's size: the product of the sizes taken as unsigned 64-bit
     * numbers, each step checked for overflow, must fit an int64. So a negative size passes only after a zero
     * ({@code (0, -2)} loads, {@code (-1, 0)} too, {@code (-1, 2)} does not), as in torch 2.6.
     */
    private static void checkNumel(long[] size, CallSite site) throws CheckpointException {
        long product = 1;
        for (long s : size) {
            long high = Math.unsignedMultiplyHigh(product, s);
            product *= s;
            if (high != 0) {
                throw site.malformed("numel: integer multiplication overflow (size " + Arrays.toString(size) + ")");
            }
        }
        if (product < 0) {
            throw site.malformed("numel: integer multiplication overflow (size " + Arrays.toString(size) + ")");
        }
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

    private static Tensor values(Object value, CallSite site) throws CheckpointException {
        Tensor values = tensor(value, "values", site);
        if (values.quantizer().isPresent()) {
            // torch 2.6 fails on them (an internal assert: qscheme of an UnknownQuantizer)
            throw site.malformed("sparse values of a quantized dtype (" + values.dtype() + ")");
        }
        return values;
    }

    private static Tensor tensor(Object value, String what, CallSite site) throws CheckpointException {
        if (value instanceof Tensor t) {
            return t;
        }
        throw site.malformed("sparse " + what + " must be a tensor, got " + PyValues.typeName(value));
    }
}
