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
 * {@link #plainIndices()}, with values {@code [nnz]} or {@code [nnz, block_h, block_w]} for the block ones.
 */
public final class SparseTensor {

    private final TorchLayout layout;
    private final long[] size;
    private final Tensor indices;
    private final Tensor compressedIndices;
    private final Tensor plainIndices;
    private final Tensor values;
    private final Boolean coalesced;

    SparseTensor(TorchLayout layout, long[] size, Tensor indices, Tensor compressedIndices, Tensor plainIndices,
            Tensor values, Boolean coalesced) {
        this.layout = layout;
        this.size = size.clone();
        this.indices = indices;
        this.compressedIndices = compressedIndices;
        this.plainIndices = plainIndices;
        this.values = Objects.requireNonNull(values);
        this.coalesced = coalesced;
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
     * The stored entries, a dense view like any tensor's.
     *
     * @return {@code [nnz, dense dims...]} for COO, {@code [nnz]} for CSR and CSC, {@code [nnz, block_h,
     *     block_w]} for BSR and BSC; never null
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
     * @return a contiguous dense tensor of {@link #size()} in a fresh storage, with the values' dtype
     * @throws UnsupportedOperationException for other value dtypes
     * @throws MaterializationLimitException if the result or what it is computed from does not fit
     * @throws IllegalStateException if the checkpoint's memory was released (closed)
     */
    public Tensor toDense() {
        DType dtype = values.dtype();
        switch (dtype) {
            case FLOAT32, FLOAT64, INT8, INT16, INT32, INT64, UINT8, BOOL -> { }
            default -> throw new UnsupportedOperationException("toDense() of " + dtype + " values: " + this);
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
                boolean rowsCompressed = layout == TorchLayout.SPARSE_CSR || layout == TorchLayout.SPARSE_BSR;
                long[] compressed = compressedIndices.toLongArray();
                long[] plain = plainIndices.toLongArray();
                long bh = values.dim() == 3 ? values.size(1) : 1;
                long bw = values.dim() == 3 ? values.size(2) : 1;
                int block = Math.toIntExact(bh * bw); // at most the values' elements
                long[] offsets = new long[block];
                for (int c = 0; c + 1 < compressed.length; c++) {
                    for (long j = compressed[c]; j < compressed[c + 1]; j++) {
                        long row = rowsCompressed ? c : plain[(int) j];
                        long col = rowsCompressed ? plain[(int) j] : c;
                        int k = 0;
                        for (long r = 0; r < bh; r++) {
                            for (long q = 0; q < bw; q++) {
                                offsets[k++] = (row * bh + r) * strides[0] + (col * bw + q) * strides[1];
                            }
                        }
                        sink.accept(offsets, (int) (j * block), block);
                    }
                }
            }
        }
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
