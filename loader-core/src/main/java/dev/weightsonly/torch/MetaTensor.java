package dev.weightsonly.torch;

import dev.weightsonly.tensors.DType;
import java.util.Arrays;

/**
 * A tensor on torch's {@code meta} device ({@code _rebuild_meta_tensor_no_storage}): a dtype, shape and
 * strides with no data at all, as model skeletons and shape-only checkpoints hold them.
 */
public record MetaTensor(DType dtype, long[] shape, long[] strides, boolean requiresGrad) {

    public MetaTensor {
        shape = shape.clone();
        strides = strides.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long[] strides() {
        return strides.clone();
    }

    @Override
    public String toString() {
        return "MetaTensor[" + dtype + ", shape=" + Arrays.toString(shape) + "]";
    }
}
