package dev.weightsonly.torch;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
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

    public TorchLayout layout() {
        return layout;
    }

    /** The dense shape. */
    public long[] size() {
        return size.clone();
    }

    /** COO indices, {@code [sparse_dim, nnz]}; null for the compressed layouts. */
    public Tensor indices() {
        return indices;
    }

    /** crow_indices (CSR, BSR) or ccol_indices (CSC, BSC); null for COO. */
    public Tensor compressedIndices() {
        return compressedIndices;
    }

    /** col_indices (CSR, BSR) or row_indices (CSC, BSC); null for COO. */
    public Tensor plainIndices() {
        return plainIndices;
    }

    public Tensor values() {
        return values;
    }

    /** Whether the file said the COO indices are coalesced (null when it did not say, as PyTorch 1.13 wrote). */
    public Boolean coalesced() {
        return coalesced;
    }

    /**
     * The dense tensor, as {@code to_dense()} computes it: zeros everywhere else, and for COO duplicate
     * indices summed in the order they are stored. Supported value dtypes: float32, float64, the signed
     * integers, uint8 and bool.
     *
     * @throws UnsupportedOperationException for other value dtypes or too large a result
     */
    public Tensor toDense() {
        DType dtype = values.dtype();
        long total = 1;
        for (long s : size) {
            total = Math.multiplyExact(total, s);
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new UnsupportedOperationException("a dense tensor of " + total + " elements does not fit an array");
        }
        double[] dense = new double[(int) total];
        long[] strides = rowMajor(size);
        Tensor v = values.contiguous();
        double[] vals = switch (dtype) {
            case FLOAT32, FLOAT64, INT8, INT16, INT32, INT64, UINT8, BOOL -> v.toDoubleArray();
            default -> throw new UnsupportedOperationException("toDense() of " + dtype + " values");
        };
        if (dtype == DType.INT64) {
            return denseLong(strides, total);
        }
        forEachNonZero(strides, (offset, valueIndex, block) -> {
            for (int k = 0; k < block; k++) {
                dense[(int) (offset[k])] = add(dtype, dense[(int) offset[k]], vals[valueIndex + k]);
            }
        });
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(Math.multiplyExact(total,
                (long) dtype.elementSize()))]);
        for (int i = 0; i < dense.length; i++) {
            Codec.write(out, dtype, i, dense[i]);
        }
        return Tensor.contiguousView(Storage.of(out.asReadOnly(), "dense", "cpu"), dtype, 0, size);
    }

    private Tensor denseLong(long[] strides, long total) {
        long[] dense = new long[(int) total];
        long[] vals = values.contiguous().toLongArray();
        forEachNonZero(strides, (offset, valueIndex, block) -> {
            for (int k = 0; k < block; k++) {
                dense[(int) offset[k]] += vals[valueIndex + k];
            }
        });
        MemorySegment out = MemorySegment.ofArray(dense);
        return Tensor.contiguousView(Storage.copyOf(out, "dense", "cpu"), DType.INT64, 0, size);
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

    private void forEachNonZero(long[] strides, Sink sink) {
        switch (layout) {
            case SPARSE_COO -> {
                int sparseDim = (int) indices.size(0);
                long nnz = indices.size(1);
                long[] idx = indices.contiguous().toLongArray();
                int block = 1;
                for (int d = sparseDim; d < size.length; d++) {
                    block = Math.multiplyExact(block, (int) size[d]);
                }
                long[] offsets = new long[block];
                for (int j = 0; j < nnz; j++) {
                    long base = 0;
                    for (int d = 0; d < sparseDim; d++) {
                        base += idx[(int) (d * nnz + j)] * strides[d];
                    }
                    for (int k = 0; k < block; k++) {
                        offsets[k] = base + k;
                    }
                    sink.accept(offsets, j * block, block);
                }
            }
            default -> {
                boolean rowsCompressed = layout == TorchLayout.SPARSE_CSR || layout == TorchLayout.SPARSE_BSR;
                long[] compressed = compressedIndices.contiguous().toLongArray();
                long[] plain = plainIndices.contiguous().toLongArray();
                long bh = values.dim() == 3 ? values.size(1) : 1;
                long bw = values.dim() == 3 ? values.size(2) : 1;
                int block = (int) (bh * bw);
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

    /** Writes doubles back as elements of the few dtypes toDense supports. */
    private static final class Codec {
        static void write(MemorySegment out, DType dtype, long i, double v) {
            var le = java.nio.ByteOrder.LITTLE_ENDIAN;
            switch (dtype) {
                case FLOAT32 -> out.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(le), i * 4, (float) v);
                case FLOAT64 -> out.set(java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(le), i * 8, v);
                case INT32 -> out.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), i * 4, (int) v);
                case INT16 -> out.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), i * 2, (short) v);
                case INT8, UINT8, BOOL -> out.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (long) v);
                default -> throw new UnsupportedOperationException(dtype.toString());
            }
        }
    }
}
