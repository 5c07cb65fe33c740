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

    public TorchSize(long... dims) {
        this.dims = dims.clone();
    }

    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

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
