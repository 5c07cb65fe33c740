package dev.weightsonly.examples;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Hands every tensor of a checkpoint to a native tensor library in the form such libraries take: a direct
 * {@link ByteBuffer} in native byte order, a {@code long[]} shape and a dtype name. It is the signature of DJL's
 * {@code NDManager.create(Buffer data, Shape shape, DataType dataType)} (with {@code new Shape(shape)} and the
 * {@code DataType} whose lower-case name is {@link NativeTensor#dataType()}); ONNX Runtime's
 * {@code OnnxTensor.createTensor(env, buffer, shape, type)} and TensorFlow Java take the same three things.
 * DJL itself is not a dependency: the example stops where its call would begin.
 *
 * <p>No copy is made when none is needed. A native library reads the buffer's memory directly, so the buffer must
 * be direct and hold the elements densely in row-major order in the platform's byte order, with the logical values
 * stored. A checkpoint's tensor meets that when it is contiguous, has neither of PyTorch's lazy conjugate and
 * negative bits set, and the platform is little-endian (checkpoints are little-endian): then the buffer is
 * {@code tensor.asByteBuffer()}, a little-endian view of the mapped file, and loading a model costs no tensor
 * copies at all. Otherwise (a transposed or sliced view, a lazily negated tensor, a big-endian machine) the
 * elements are copied once into a fresh direct buffer, byte-swapped if the platform needs it.
 *
 * <p>Zero-copy buffers are views of the checkpoint's mapping: they are valid until the {@link Checkpoint} is
 * closed, after which touching one throws {@link IllegalStateException} instead of reading freed memory. They are
 * read-only, as the mapping is. Copied buffers are independent of the checkpoint.
 */
public final class DjlStyleImport {

    private DjlStyleImport() {
    }

    /**
     * One tensor as a native library takes it.
     *
     * @param name     the state dict key (or dotted path)
     * @param data     the elements, row-major, in {@link ByteOrder#nativeOrder()}; a direct buffer, positioned at 0
     *                 with its limit at the end of the data
     * @param shape    the sizes, outermost first ({@code []} for a scalar)
     * @param dataType DJL's name of the element type ({@code DataType.valueOf(dataType.toUpperCase())})
     * @param zeroCopy whether {@code data} is a view of the checkpoint's memory rather than a copy
     */
    public record NativeTensor(String name, ByteBuffer data, long[] shape, String dataType, boolean zeroCopy) {
    }

    /**
     * DJL's {@code DataType} name for {@code dtype}, as {@code DataType.toString()} prints it.
     *
     * @param dtype the tensor's element type
     * @return the name, such as {@code "float32"} or {@code "boolean"}
     * @throws IllegalArgumentException for dtypes DJL has no type for (complex128, quantized, float8, bit-packed,
     *     ...); convert those in PyTorch before saving, or handle them yourself
     */
    public static String djlDataType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "float32";
            case FLOAT64 -> "float64";
            case FLOAT16 -> "float16";
            case BFLOAT16 -> "bfloat16";
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case INT16 -> "int16";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case UINT16 -> "uint16";
            case UINT32 -> "uint32";
            case UINT64 -> "uint64";
            case BOOL -> "boolean";
            case COMPLEX64 -> "complex64";
            default -> throw new IllegalArgumentException("DJL has no data type for " + dtype);
        };
    }

    /**
     * Every tensor of {@code weights}, in saved order, as {@link #importTensor} returns it.
     *
     * @param weights an open state dict; zero-copy buffers stay valid only while its checkpoint is open
     * @return one native tensor per entry, in saved order
     * @throws IllegalArgumentException naming the first tensor whose dtype DJL has no type for, or one too large
     *     for a {@code ByteBuffer}
     */
    public static List<NativeTensor> importStateDict(StateDict weights) {
        return importTensors(weights.asMap());
    }

    /**
     * Every tensor of {@code tensors}, in iteration order, as {@link #importTensor} returns it. All dtypes are
     * checked before anything is copied, so an unsupported tensor fails the import at once.
     *
     * @param tensors names to tensors, for example {@link dev.weightsonly.Checkpoint#tensors()}
     * @return one native tensor per entry, in iteration order
     * @throws IllegalArgumentException naming the first tensor whose dtype DJL has no type for, or one too large
     *     for a {@code ByteBuffer}
     */
    public static List<NativeTensor> importTensors(Map<String, Tensor> tensors) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            DType dtype = e.getValue().dtype();
            try {
                djlDataType(dtype);
            } catch (IllegalArgumentException unsupported) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "': " + unsupported.getMessage()
                        + "; convert it before saving (for example t.to(torch.float32)) or leave it out", unsupported);
            }
        }
        List<NativeTensor> out = new ArrayList<>(tensors.size());
        tensors.forEach((name, tensor) -> out.add(importTensor(name, tensor)));
        return out;
    }

    /**
     * One tensor, zero-copy when possible (see the class comment), in the platform's byte order.
     *
     * @param name what the native tensor is called (and error messages name)
     * @param tensor the tensor to hand over
     * @return its data as a buffer a native library can read, with its shape and DJL data type
     * @throws IllegalArgumentException if DJL has no type for the dtype, or the tensor is over 2 GiB (more than a
     *     {@code ByteBuffer} holds)
     */
    public static NativeTensor importTensor(String name, Tensor tensor) {
        return importTensor(name, tensor, ByteOrder.nativeOrder());
    }

    /**
     * As {@link #importTensor(String, Tensor)} for a platform of byte order {@code order}. Only this package
     * passes an order other than the native one: it is how the test covers the big-endian path on a
     * little-endian machine.
     */
    static NativeTensor importTensor(String name, Tensor tensor, ByteOrder order) {
        String dataType = djlDataType(tensor.dtype());
        if (tensor.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + tensor.byteSize()
                    + " bytes; a ByteBuffer holds at most " + Integer.MAX_VALUE + " (split it, or read it in parts)");
        }
        boolean plain = tensor.isContiguous() && !tensor.isConj() && !tensor.isNeg();
        if (plain && order == ByteOrder.LITTLE_ENDIAN && tensor.numel() > 0) {
            ByteBuffer bytes = tensor.asByteBuffer(); // the stored bytes, little-endian, no copy
            if (bytes.isDirect()) { // mapped, or loaded into off-heap memory
                return new NativeTensor(name, bytes, tensor.shape(), dataType, true);
            }
        }
        return new NativeTensor(name, copy(tensor, order), tensor.shape(), dataType, false);
    }

    /**
     * The logical values of {@code tensor}, row-major, in a fresh direct buffer of byte order {@code order}.
     * Conjugate and negative bits are applied first ({@link Tensor#resolveConjAndNeg()}), since a native library
     * knows nothing of them; stored bytes are little-endian, so a big-endian target swaps each scalar (each half
     * of a complex number).
     */
    private static ByteBuffer copy(Tensor tensor, ByteOrder order) {
        MemorySegment source = tensor.resolveConjAndNeg().contiguous().contiguousBytes();
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) source.byteSize()).order(order);
        MemorySegment target = MemorySegment.ofBuffer(buffer);
        int scalarSize = tensor.dtype().kind() == DType.Kind.COMPLEX
                ? tensor.dtype().elementSize() / 2 : tensor.dtype().elementSize();
        if (order == ByteOrder.LITTLE_ENDIAN || scalarSize == 1) {
            MemorySegment.copy(source, 0, target, 0, source.byteSize());
        } else {
            ValueLayout from = scalarLayout(scalarSize).withOrder(ByteOrder.LITTLE_ENDIAN);
            ValueLayout to = scalarLayout(scalarSize).withOrder(order);
            MemorySegment.copy(source, from, 0, target, to, 0, source.byteSize() / scalarSize);
        }
        return buffer;
    }

    private static ValueLayout scalarLayout(int size) {
        return switch (size) {
            case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED;
            case 4 -> ValueLayout.JAVA_INT_UNALIGNED;
            case 8 -> ValueLayout.JAVA_LONG_UNALIGNED;
            default -> throw new AssertionError(size);
        };
    }

    /**
     * Lists what an import of a checkpoint hands over: every tensor, zero-copy or copied, and the totals.
     *
     * @param args {@code CHECKPOINT.pt}
     * @throws IOException if the checkpoint cannot be read or is refused
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: DjlStyleImport CHECKPOINT.pt");
            System.exit(2);
        }
        try (Checkpoint checkpoint = Checkpoint.load(Path.of(args[0]))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>(checkpoint.tensors());
            List<NativeTensor> imported = importTensors(tensors);
            long copiedBytes = 0;
            int zeroCopy = 0;
            for (NativeTensor t : imported) {
                String how;
                if (t.zeroCopy()) {
                    zeroCopy++;
                    how = String.format(Locale.ROOT, "zero-copy (mapped at 0x%x)", MemorySegment.ofBuffer(t.data()).address());
                } else {
                    copiedBytes += t.data().capacity();
                    how = "copied (" + why(tensors.get(t.name())) + ")";
                }
                System.out.printf(Locale.ROOT, "%-20s %-9s %-14s %6d B  %s%n", t.name(), t.dataType(),
                        Arrays.toString(t.shape()), t.data().capacity(), how);
            }
            System.out.printf(Locale.ROOT, "%d tensors: %d zero-copy, %d copied (%d bytes), %s byte order%n",
                    imported.size(), zeroCopy, imported.size() - zeroCopy, copiedBytes, ByteOrder.nativeOrder());
            // A native library would now create its arrays, e.g. in DJL:
            //   manager.create(t.data(), new Shape(t.shape()), DataType.valueOf(t.dataType().toUpperCase()))
            // and must do so before the checkpoint is closed, or copy, since zero-copy buffers view the mapping.
        }
    }

    private static String why(Tensor t) {
        if (t.numel() == 0) {
            return "empty: a fresh 0-byte buffer";
        }
        if (!t.isContiguous()) {
            return "not contiguous";
        }
        if (t.isConj() || t.isNeg()) {
            return "conjugate or negative bit";
        }
        return ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? "big-endian platform" : "not in native memory";
    }
}
