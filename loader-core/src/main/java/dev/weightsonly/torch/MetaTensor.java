package dev.weightsonly.torch;

import dev.weightsonly.tensors.DType;
import java.util.Arrays;

/**
 * A tensor on torch's {@code meta} device ({@code _rebuild_meta_tensor_no_storage}): a dtype, shape and
 * strides with no data at all, as model skeletons and shape-only checkpoints hold them.
 *
 * @param dtype the element type the tensor would have
 * @param shape the size of each dimension
 * @param strides the step between neighbours along each dimension, in elements
 * @param requiresGrad the saved {@code requires_grad} flag
 */
public record MetaTensor(DType dtype, long[] shape, long[] strides, boolean requiresGrad) {

    /**
     * Copies the arrays, so that the record stays immutable.
     *
     * @throws NullPointerException if {@code shape} or {@code strides} is null
     */
    public MetaTensor {
        shape = shape.clone();
        strides = strides.clone();
    }

    /**
     * The size of each dimension.
     *
     * @return a fresh copy; empty for a scalar
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The step between neighbours along each dimension.
     *
     * @return a fresh copy, in elements
     */
    @Override
    public long[] strides() {
        return strides.clone();
    }

    @Override
    public String toString() {
        return "MetaTensor[" + dtype + ", shape=" + Arrays.toString(shape) + "]";
    }
}
