package dev.weightsonly.torch;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.MaterializationLimitException;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A sparse tensor as {@code _rebuild_sparse_tensor} describes it, with every index checked against the
 * shape when it was loaded (the CVE-2025-62164 class: out-of-range indices make {@code to_dense} read and
 * write outside memory in torch). The index and value tensors are views, as dense tensors are.
 *
 * <p>COO: {@link #indices()} is {@code [sparse_dim, nnz]} int64 and {@link #values()} is
 * {@code [nnz, dense dims...]}. Compressed layouts (CSR, CSC, BSR, BSC): {@link #compressedIndices()} and
 * {@link #plainIndices()}, int32 or int64, with values {@code [nnz]} or {@code [nnz, block_h, block_w]} for the
 * block ones; a batched tensor has leading batch dimensions on all three ({@code [batch..., compressed + 1]},
 * {@code [batch..., nnz]}, {@code [batch..., nnz, ...]}), and a hybrid one trailing dense dimensions on the values.
 *
 * <p>{@link #requiresGrad()} is the sparse tensor's own flag, as torch reports it: the saved values' flag, or a
 * Parameter's. The values' own flag is what torch's accessors report: {@code _values()} of a COO tensor never
 * requires grad, {@code values()} of a compressed one does when the tensor does.
 */
public final class SparseTensor {

    private final TorchLayout layout;
    private final long[] size;
    private final Tensor indices;
    private final Tensor compressedIndices;
    private final Tensor plainIndices;
    private final Tensor values;
    private final Boolean coalesced;
    private final boolean requiresGrad;

    /** A sparse tensor that requires grad when its saved values do, as {@code sparse_coo_tensor} and
     * {@code sparse_compressed_tensor} make it. */
    SparseTensor(TorchLayout layout, long[] size, Tensor indices, Tensor compressedIndices, Tensor plainIndices,
            Tensor values, Boolean coalesced) {
        this(layout, size, indices, compressedIndices, plainIndices, values, coalesced, values.requiresGrad());
    }

    private SparseTensor(TorchLayout layout, long[] size, Tensor indices, Tensor compressedIndices,
            Tensor plainIndices, Tensor values, Boolean coalesced, boolean requiresGrad) {
        this.layout = layout;
        this.size = size.clone();
        this.indices = indices;
        this.compressedIndices = compressedIndices;
        this.plainIndices = plainIndices;
        // torch's _values() is not differentiable (never requires grad); values() of a compressed tensor is
        this.values = values.withRequiresGrad(layout != TorchLayout.SPARSE_COO && requiresGrad);
        this.coalesced = coalesced;
        this.requiresGrad = requiresGrad;
    }

    /**
     * This tensor with its requires_grad flag set as given (stored only): what {@code nn.Parameter(sparse,
     * requires_grad)} makes of it. The values of a compressed tensor then report the flag too, as torch's
     * {@code values()} does; COO values never do.
     *
     * @param requiresGrad the flag
     * @return this tensor if the flag is already so, else a tensor sharing every part with this one
     */
    public SparseTensor withRequiresGrad(boolean requiresGrad) {
        return requiresGrad == this.requiresGrad ? this : new SparseTensor(layout, size, indices, compressedIndices,
                plainIndices, values, coalesced, requiresGrad);
    }

    /**
     * Which sparse layout this is, which decides which index tensors are present.
     *
     * @return {@link TorchLayout#SPARSE_COO}, {@code SPARSE_CSR}, {@code SPARSE_CSC}, {@code SPARSE_BSR} or
     *     {@code SPARSE_BSC}
     */
    public TorchLayout layout() {
        return layout;
    }

    /**
     * Whether the sparse tensor requires grad (stored only; nothing here computes gradients): the flag of the values
     * it was saved with, or of the {@code nn.Parameter} that wraps it.
     *
     * @return torch's {@code requires_grad} of the tensor
     */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * The shape of the tensor as if it were dense, torch's {@code size()}.
     *
     * @return a fresh copy of the dense shape
     */
    public long[] size() {
        return size.clone();
    }

    /**
     * The coordinates of the stored entries of a COO tensor, each checked against {@link #size()} at load.
     *
     * @return an int64 tensor {@code [sparse_dim, nnz]}; null for the compressed layouts
     */
    public Tensor indices() {
        return indices;
    }

    /**
     * Where each compressed row (or column) starts in {@link #plainIndices()}, checked at load to be
     * non-decreasing and within bounds.
     *
     * @return {@code crow_indices} (CSR, BSR) or {@code ccol_indices} (CSC, BSC); null for COO
     */
    public Tensor compressedIndices() {
        return compressedIndices;
    }

    /**
     * The column (or row) of each stored entry or block, checked at load against {@link #size()}.
     *
     * @return {@code col_indices} (CSR, BSR) or {@code row_indices} (CSC, BSC); null for COO
     */
    public Tensor plainIndices() {
        return plainIndices;
    }

    /**
     * The stored values, flagged as torch's accessor reports them (see the class comment).
     *
     * @return {@code _values()} of a COO tensor, {@code values()} of a compressed one
     */
    public Tensor values() {
        return values;
    }

    /**
     * Whether the file said the COO indices are coalesced (sorted, no duplicates); it is the file's claim, not
     * checked, and {@link #toDense()} does not rely on it.
     *
     * @return the flag as saved, or null when the file did not say (as PyTorch 1.13 wrote it, and for the
     *     compressed layouts)
     */
    public Boolean coalesced() {
        return coalesced;
    }

    /**
     * The dense tensor, as {@code to_dense()} computes it: zeros everywhere else, and for COO duplicate
     * indices summed in the order they are stored (in the value dtype, as torch adds them). Supported value
     * dtypes: float32, float64, the signed integers, uint8 and bool.
     *
     * <p>The work and the memory are bounded before anything is allocated: everything held at once (the
     * result, the values and indices read into arrays) must fit the values' storage's
     * {@link Storage#maxMaterializedBytes()} ({@code LoadLimits.maxMaterializedBytes} for a loaded checkpoint)
     * and the heap, and the result a Java array. The loops then visit only what those arrays hold, so a tensor
     * claiming 2^40 entries of nothing (COO values of shape {@code [2^40, 0]}) costs no time.
     *
     * <p>Batched and hybrid compressed tensors are made dense as well (batch dimensions first, dense dimensions
     * last, as {@code to_dense()} lays them out).
     *
     * @return the dense tensor, row-major, in fresh memory
     * @throws UnsupportedOperationException for other value dtypes, and for two shapes torch 2.6 loads but has no
     *     dense form of: a negative size (accepted after a zero size) and a hybrid compressed tensor whose values'
     *     dense dimensions differ from its size's
     * @throws MaterializationLimitException if the result or what it is computed from does not fit
     * @throws IllegalStateException if the checkpoint's memory was released (closed)
     */
    public Tensor toDense() {
        DType dtype = values.dtype();
        switch (dtype) {
            case FLOAT32, FLOAT64, INT8, INT16, INT32, INT64, UINT8, BOOL -> { }
            default -> throw new UnsupportedOperationException("toDense() of " + dtype + " values: " + this);
        }
        for (long s : size) {
            if (s < 0) {
                throw new UnsupportedOperationException("toDense() of a tensor with a negative size: " + this);
            }
        }
        if (layout != TorchLayout.SPARSE_COO) {
            int batchDim = compressedIndices.dim() - 1;
            int valuesDense = values.dim() - batchDim - 1
                    - (layout == TorchLayout.SPARSE_BSR || layout == TorchLayout.SPARSE_BSC ? 2 : 0);
            long[] valuesShape = values.shape();
            if (!Arrays.equals(Arrays.copyOfRange(valuesShape, valuesShape.length - valuesDense, valuesShape.length),
                    Arrays.copyOfRange(size, batchDim + 2, size.length))) {
                throw new UnsupportedOperationException("toDense() of values of shape " + Arrays.toString(valuesShape)
                        + " whose dense dimensions differ from the size's: " + this);
            }
        }
        long total = 1;
        for (long s : size) {
            total = MaterializationLimitException.bytes(total, s); // saturates: sizes were checked at load
        }
        long outBytes = MaterializationLimitException.bytes(total, dtype.elementSize());
        long indexElements = layout == TorchLayout.SPARSE_COO ? indices.numel()
                : compressedIndices.numel() + plainIndices.numel();
        String subject = this + " (values in storage '" + values.storage().key() + "')";
        MaterializationLimitException.check("toDense()", subject,
                MaterializationLimitException.bytes(outBytes, 1, values.numel(), Long.BYTES, indexElements, Long.BYTES),
                values.storage().maxMaterializedBytes());
        MaterializationLimitException.checkArrayLength("toDense()", subject, outBytes);
        MemorySegment out = MemorySegment.ofArray(new byte[(int) outBytes]);
        if (total > 0 && values.numel() > 0) {
            long[] strides = rowMajor(size);
            if (dtype == DType.INT64) {
                long[] vals = values.toLongArray();
                forEachNonZero(strides, (offset, valueIndex, block) -> {
                    for (int k = 0; k < block; k++) {
                        out.setAtIndex(Codec.LE_LONG, offset[k], out.getAtIndex(Codec.LE_LONG, offset[k])
                                + vals[valueIndex + k]);
                    }
                });
            } else {
                double[] vals = values.toDoubleArray();
                forEachNonZero(strides, (offset, valueIndex, block) -> {
                    for (int k = 0; k < block; k++) {
                        Codec.write(out, dtype, offset[k], add(dtype, Codec.read(out, dtype, offset[k]),
                                vals[valueIndex + k]));
                    }
                });
            }
        }
        return Tensor.contiguousView(Storage.of(out, "dense", "cpu", values.storage().maxMaterializedBytes()), dtype,
                0, size);
    }

    private static double add(DType dtype, double a, double b) {
        return switch (dtype) {
            case FLOAT32 -> (float) ((float) a + (float) b);
            case BOOL -> (a != 0 || b != 0) ? 1 : 0;
            case INT8 -> (byte) ((long) a + (long) b);
            case INT16 -> (short) ((long) a + (long) b);
            case INT32 -> (int) ((long) a + (long) b);
            case UINT8 -> ((long) a + (long) b) & 0xFF;
            default -> a + b;
        };
    }

    /** Receives the dense offsets of one stored value's elements (a block of dense elements for COO with dense dims). */
    private interface Sink {
        void accept(long[] denseOffsets, int firstValue, int count);
    }

    /**
     * Walks the stored entries. Called only when the values hold at least one element, so every count here is
     * bounded by an array already read (the values, the indices): long counters, int positions in those arrays.
     */
    private void forEachNonZero(long[] strides, Sink sink) {
        switch (layout) {
            case SPARSE_COO -> {
                int sparseDim = (int) indices.size(0);
                long nnz = indices.size(1);
                long[] idx = indices.toLongArray();
                int block = Math.toIntExact(values.numel() / nnz); // values are [nnz, dense dims...], numel > 0
                long[] offsets = new long[block];
                for (long j = 0; j < nnz; j++) {
                    long base = 0;
                    for (int d = 0; d < sparseDim; d++) {
                        base += idx[(int) (d * nnz + j)] * strides[d];
                    }
                    for (int k = 0; k < block; k++) {
                        offsets[k] = base + k;
                    }
                    sink.accept(offsets, (int) (j * block), block);
                }
            }
            default -> {
                // [batch..., compressed + 1], [batch..., nnz], values [batch..., nnz, (bh, bw,) dense...]
                boolean rowsCompressed = layout == TorchLayout.SPARSE_CSR || layout == TorchLayout.SPARSE_BSR;
                int batchDim = compressedIndices.dim() - 1;
                boolean blocked = layout == TorchLayout.SPARSE_BSR || layout == TorchLayout.SPARSE_BSC;
                long[] compressed = compressedIndices.toLongArray();
                long[] plain = plainIndices.toLongArray();
                int perBatch = (int) compressedIndices.size(batchDim); // at most the array's length
                int nnz = (int) plainIndices.size(batchDim);
                long bh = blocked ? values.size(batchDim + 1) : 1;
                long bw = blocked ? values.size(batchDim + 2) : 1;
                // the values hold elements: batches, nnz, bh and bw are positive
                int block = Math.toIntExact(values.numel() / ((long) batches() * nnz)); // bh * bw * dense sizes
                long dense = block / (bh * bw);
                long[] offsets = new long[block];
                long batchStride = strides[batchDim] * size[batchDim];
                for (int b = 0; b < batches(); b++) {
                    for (int c = 0; c + 1 < perBatch; c++) {
                        int at = b * perBatch + c;
                        for (long j = compressed[at]; j < compressed[at + 1]; j++) {
                            long p = plain[(int) (b * (long) nnz + j)];
                            long row = rowsCompressed ? c : p;
                            long col = rowsCompressed ? p : c;
                            int k = 0;
                            for (long r = 0; r < bh; r++) {
                                for (long q = 0; q < bw; q++) {
                                    long base = b * batchStride + (row * bh + r) * strides[batchDim]
                                            + (col * bw + q) * strides[batchDim + 1];
                                    for (long e = 0; e < dense; e++) {
                                        offsets[k++] = base + e;
                                    }
                                }
                            }
                            sink.accept(offsets, (int) ((b * (long) nnz + j) * block), block);
                        }
                    }
                }
            }
        }
    }

    /** The number of batches of a compressed tensor: the product of its batch sizes. */
    private int batches() {
        long n = 1;
        for (int d = 0; d < compressedIndices.dim() - 1; d++) {
            n *= compressedIndices.size(d); // the indices are stored, so this is at most their element count
        }
        return Math.toIntExact(n);
    }

    private static long[] rowMajor(long[] size) {
        long[] strides = new long[size.length];
        long s = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            strides[d] = s;
            s *= Math.max(size[d], 1);
        }
        return strides;
    }

    @Override
    public String toString() {
        return "SparseTensor[" + layout + ", size=" + Arrays.toString(size) + ", " + values.dtype() + "]";
    }

    /** Reads and writes elements of the few dtypes toDense supports, as doubles (exact for each of them). */
    private static final class Codec {
        static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat LE_FLOAT =
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble LE_DOUBLE =
                ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort LE_SHORT =
                ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        static double read(MemorySegment out, DType dtype, long i) {
            return switch (dtype) {
                case FLOAT32 -> out.getAtIndex(LE_FLOAT, i);
                case FLOAT64 -> out.getAtIndex(LE_DOUBLE, i);
                case INT32 -> out.getAtIndex(LE_INT, i);
                case INT16 -> out.getAtIndex(LE_SHORT, i);
                case INT8 -> out.get(ValueLayout.JAVA_BYTE, i);
                case UINT8, BOOL -> out.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                default -> throw new UnsupportedOperationException(dtype.toString());
            };
        }

        static void write(MemorySegment out, DType dtype, long i, double v) {
            switch (dtype) {
                case FLOAT32 -> out.setAtIndex(LE_FLOAT, i, (float) v);
                case FLOAT64 -> out.setAtIndex(LE_DOUBLE, i, v);
                case INT32 -> out.setAtIndex(LE_INT, i, (int) v);
                case INT16 -> out.setAtIndex(LE_SHORT, i, (short) v);
                case INT8, UINT8, BOOL -> out.set(ValueLayout.JAVA_BYTE, i, (byte) (long) v);
                default -> throw new UnsupportedOperationException(dtype.toString());
            }
        }
    }
}
