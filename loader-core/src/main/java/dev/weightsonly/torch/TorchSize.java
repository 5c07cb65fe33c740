package dev.weightsonly.torch;

import java.util.Arrays;

/** A {@code torch.Size}: a tuple of dimension sizes, with value equality. */
public final class TorchSize {

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
