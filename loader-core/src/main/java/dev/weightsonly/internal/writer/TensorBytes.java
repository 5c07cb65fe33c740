package dev.weightsonly.internal.writer;

import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A tensor's logical bytes in row-major order, conjugate and negative bits applied, little-endian at the
 * dtype's element size: what a format that has no strides (safetensors) stores, and what two tensors with
 * equal values have in common whatever their strides.
 *
 * <p>The bytes come in blocks of at most {@link #BLOCK_BYTES} (or one element, if an element is larger),
 * so that a tensor of any size is written or compared with bounded memory: a contiguous view without the
 * bits is sliced straight out of its storage (no copy); anything else is copied one block at a time. The
 * blocks depend only on the shape and dtype, never on the strides, so two tensors of the same shape and
 * dtype can be compared block by block.
 */
public final class TensorBytes {

    /** Upper bound of one block's size, in bytes. */
    public static final long BLOCK_BYTES = 8L << 20;

    private TensorBytes() {
    }

    /** One block: its bytes and the row-major index of its first element. */
    public record Block(long firstElement, MemorySegment bytes) {
    }

    /** The blocks of {@code tensor}, in order; none for an empty tensor. */
    public static Iterator<Block> blocks(Tensor tensor) {
        return new Blocks(tensor, BLOCK_BYTES);
    }

    /** As {@link #blocks(Tensor)} with another block size, for tests of block boundaries. */
    public static Iterator<Block> blocks(Tensor tensor, long blockBytes) {
        return new Blocks(tensor, blockBytes);
    }

    /**
     * Splits the shape once: the smallest suffix of dimensions whose bytes fit a block is taken whole, the
     * dimension before it is cut into groups that fit, and the dimensions before that are walked one index
     * at a time by an odometer.
     */
    private static final class Blocks implements Iterator<Block> {
        private final Tensor t;
        private final long[] shape;
        private final long[] strides;
        private final int split;          // the dimension cut into groups; -1: the whole tensor is one block
        private final long group;         // indices of dimension `split` per block
        private final long suffixElements; // elements of dimensions after `split`
        private final long[] counters;    // odometer over dimensions before `split`
        private long at;                  // next index along `split`
        private long nextElement;
        private boolean done;

        Blocks(Tensor tensor, long blockBytes) {
            t = tensor;
            shape = tensor.shape();
            strides = tensor.strides();
            int es = tensor.dtype().elementSize();
            done = tensor.numel() == 0;
            // Smallest d whose suffix (dimensions d..) fits a block; numel > 0 here bounds every product.
            int d = shape.length;
            long suffix = 1;
            while (!done && d > 0 && suffix * shape[d - 1] * es <= blockBytes) {
                suffix *= shape[d - 1];
                d--;
            }
            if (d == 0 || done) {
                split = -1;
                group = 0;
                suffixElements = 0;
            } else {
                split = d - 1;
                suffixElements = suffix;
                group = Math.max(1, blockBytes / (suffix * es));
            }
            counters = new long[Math.max(split, 0)];
        }

        @Override
        public boolean hasNext() {
            return !done;
        }

        @Override
        public Block next() {
            if (done) {
                throw new NoSuchElementException();
            }
            if (split < 0) {
                done = true;
                return new Block(0, bytesOf(t));
            }
            long offset = t.storageOffset();
            for (int i = 0; i < split; i++) {
                offset += counters[i] * strides[i];
            }
            offset += at * strides[split];
            long n = Math.min(group, shape[split] - at);
            long[] subShape = new long[shape.length - split];
            long[] subStrides = new long[shape.length - split];
            subShape[0] = n;
            subStrides[0] = strides[split];
            System.arraycopy(shape, split + 1, subShape, 1, shape.length - split - 1);
            System.arraycopy(strides, split + 1, subStrides, 1, shape.length - split - 1);
            Tensor part = Tensor.of(t.storage(), t.dtype(), offset, subShape, subStrides)
                    .withConj(t.isConj()).withNeg(t.isNeg());
            Block block = new Block(nextElement, bytesOf(part));
            nextElement += n * suffixElements;
            at += n;
            if (at == shape[split]) {
                at = 0;
                int i = split - 1;
                while (i >= 0 && ++counters[i] == shape[i]) {
                    counters[i] = 0;
                    i--;
                }
                done = i < 0;
            }
            return block;
        }

        private static MemorySegment bytesOf(Tensor view) {
            return view.resolveConjAndNeg().contiguous().contiguousBytes();
        }
    }
}
