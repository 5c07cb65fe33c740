package dev.weightsonly.torch;

import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.TupleValue;
import java.util.Arrays;

/**
 * A {@code torch.Size}: a tuple of dimension sizes, with value equality. As a dict key it equals the tuple
 * of its sizes, as in Python ({@code torch.Size} subclasses {@code tuple}).
 */
public final class TorchSize implements TupleValue {

    private final long[] dims;

    /**
     * A size of the given dimensions.
     *
     * @param dims the sizes, outermost first (copied); none for the size of a scalar
     */
    public TorchSize(long... dims) {
        this.dims = dims.clone();
    }

    /**
     * The sizes, as a tensor's {@code shape}.
     *
     * @return a fresh copy, outermost first
     */
    public long[] dims() {
        return dims.clone();
    }

    /**
     * The number of dimensions, Python's {@code len(size)}.
     *
     * @return how many sizes there are
     */
    public int rank() {
        return dims.length;
    }

    /**
     * One size, Python's {@code size[i]} without negative indexing.
     *
     * @param i the dimension, 0-based
     * @return its size
     * @throws ArrayIndexOutOfBoundsException if {@code i} is not in {@code 0..rank()-1}
     */
    public long get(int i) {
        return dims[i];
    }

    @Override
    public PyTuple asTuple() {
        Object[] items = new Object[dims.length];
        for (int i = 0; i < dims.length; i++) {
            items[i] = dims[i];
        }
        return PyTuple.of(items);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TorchSize s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return "torch.Size(" + Arrays.toString(dims) + ")";
    }
}
