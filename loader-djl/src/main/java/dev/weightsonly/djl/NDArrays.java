package dev.weightsonly.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Tensors as DJL {@link NDArray}s, by copy. The arrays own their memory: they stay valid after the checkpoint the
 * tensors came from is closed, and DJL may write to them (in-place operations, training).
 *
 * <p>For arrays that share the mapped file's memory instead, open the checkpoint with {@link DjlCheckpoint}.
 *
 * <p>The dtypes, and why some are widened, are listed at {@link #dataType(DType)}. Tensors of any other dtype
 * (uint64, complex, float8, quantized, bit-packed) are refused by name with an {@link IllegalArgumentException}:
 * convert them first (for example {@link Tensor#dequantize()}).
 */
public final class NDArrays {

    private NDArrays() {
    }

    /**
     * The DJL data type of the array a tensor of {@code dtype} becomes.
     *
     * <p>float16, float32, float64, int8, uint8, int32, int64 and bool keep their bits. DJL's PyTorch engine
     * (0.36, libtorch 2.7.1) aborts the whole process when it is handed a bfloat16, int16, uint16, uint32 or uint64
     * array (checked), so those are widened exactly instead: bfloat16 to float32, int16 and uint16 to int32, uint32
     * to int64. uint64 has no exact wider type and is refused, as are complex, float8, quantized and bit-packed
     * dtypes, which DJL has no data type for.
     *
     * @param dtype a tensor's dtype
     * @return the array's data type, or empty when the tensor is refused
     */
    public static Optional<DataType> dataType(DType dtype) {
        return Optional.ofNullable(switch (Objects.requireNonNull(dtype, "dtype")) {
            case FLOAT16 -> DataType.FLOAT16;
            case BFLOAT16, FLOAT32 -> DataType.FLOAT32;
            case FLOAT64 -> DataType.FLOAT64;
            case INT8 -> DataType.INT8;
            case UINT8 -> DataType.UINT8;
            case INT16, UINT16, INT32 -> DataType.INT32;
            case UINT32, INT64 -> DataType.INT64;
            case BOOL -> DataType.BOOLEAN;
            default -> null;
        });
    }

    /** Whether a tensor of {@code dtype} becomes an array with the same bits (so it may share memory). */
    static boolean keepsBits(DType dtype) {
        return switch (dtype) {
            case FLOAT16, FLOAT32, FLOAT64, INT8, UINT8, INT32, INT64, BOOL -> true;
            default -> false;
        };
    }

    /**
     * A copy of {@code tensor} as an array of {@code manager}, in row-major order with PyTorch's lazy conjugate
     * and negative bits applied.
     *
     * @param manager the manager that will own the array
     * @param name    the tensor's name, for error messages
     * @param tensor  the tensor
     * @return a new array with the tensor's shape, data type and values
     * @throws IllegalArgumentException if DJL has no data type for the tensor's dtype, or the array would hold more
     *                                  than 2^31-1 bytes (DJL's limit for one array), counted after widening
     */
    public static NDArray copy(NDManager manager, String name, Tensor tensor) {
        DataType type = requireDataType(name, tensor);
        requireIntBytes(name, tensor);
        Shape shape = new Shape(tensor.shape());
        NDArray array;
        if (keepsBits(tensor.dtype())) {
            ByteBuffer buffer = manager.allocateDirect((int) tensor.byteSize());
            MemorySegment.ofBuffer(buffer).copyFrom(rowMajorBytes(tensor));
            array = manager.create(buffer.order(ByteOrder.nativeOrder()), shape, type);
        } else if (type == DataType.FLOAT32) {
            array = manager.create(tensor.toFloatArray(), shape);            // bfloat16, exactly
        } else if (type == DataType.INT32) {
            array = manager.create(tensor.toIntArray(), shape);              // int16, uint16, exactly
        } else {
            array = manager.create(tensor.toLongArray(), shape);             // uint32, exactly
        }
        array.setName(name);
        return array;
    }

    /**
     * Copies of every tensor of {@code tensors}, by name, in the map's order.
     *
     * @param manager the manager that will own the arrays
     * @param tensors tensors by name (for example {@code checkpoint.stateDict().asMap()})
     * @return the arrays by the same names
     * @throws IllegalArgumentException naming the first tensor DJL cannot hold (see {@link #copy})
     */
    public static Map<String, NDArray> copyAll(NDManager manager, Map<String, Tensor> tensors) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        try {
            tensors.forEach((name, tensor) -> arrays.put(name, copy(manager, name, tensor)));
        } catch (RuntimeException e) {
            arrays.values().forEach(NDArray::close);
            throw e;
        }
        return arrays;
    }

    static DataType requireDataType(String name, Tensor tensor) {
        return dataType(tensor.dtype()).orElseThrow(() -> {
            String why = tensor.quantizer().isPresent()
                    ? "which DJL has no data type for (dequantize it first: Tensor.dequantize())"
                    : tensor.dtype() == DType.UINT64
                            ? "which DJL's PyTorch engine cannot hold and no wider integer type holds exactly"
                                    + " (convert it first)"
                            : "which DJL has no data type for (DJL holds float16, float32, float64, int8, uint8,"
                                    + " int32, int64 and bool; bfloat16, int16, uint16 and uint32 are widened)";
            return new IllegalArgumentException("tensor '" + name + "' has dtype " + tensor.dtype().torchName()
                    + ", " + why);
        });
    }

    /**
     * The tensor's byte size, checked against DJL's limit for one array: a buffer (an int capacity) of at most
     * 2^31-1 bytes, counted in the array's data type (a widened bfloat16, int16 or uint16 tensor takes twice its
     * bytes, a uint32 one twice too), and so at most 2^31-1 elements.
     */
    static int requireIntBytes(String name, Tensor tensor) {
        DataType type = requireDataType(name, tensor);
        // numel <= byteSize (no dtype is under one byte per element here), so the product cannot overflow a long
        long arrayBytes = tensor.numel() <= Integer.MAX_VALUE ? tensor.numel() * type.getNumOfBytes() : Long.MAX_VALUE;
        if (tensor.byteSize() > Integer.MAX_VALUE || arrayBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + name + "' holds " + tensor.numel() + " elements ("
                    + tensor.byteSize() + " bytes" + (keepsBits(tensor.dtype()) ? "" : ", "
                    + (arrayBytes == Long.MAX_VALUE ? "more" : Long.toString(arrayBytes)) + " bytes as DJL's "
                    + type) + "); one DJL array holds at most 2^31-1 bytes: keep it as a weightsonly Tensor, or"
                    + " convert views of parts of it (Tensor.of) instead");
        }
        return (int) tensor.byteSize();
    }

    /** The logical values, row-major, as stored little-endian bytes: a view when already laid out so. */
    static MemorySegment rowMajorBytes(Tensor tensor) {
        return tensor.resolveConjAndNeg().contiguous().contiguousBytes();
    }
}
