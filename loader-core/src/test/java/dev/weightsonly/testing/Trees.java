package dev.weightsonly.testing;

import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Random tensors and views for the writer tests: dtypes, shapes, strides, offsets and shared storages. */
public final class Trees {

    /** The dtypes with a legacy storage class that PyTorch 1.13 saves through _rebuild_tensor_v2. */
    public static final List<DType> LEGACY = List.of(DType.UINT8, DType.INT8, DType.INT16, DType.INT32, DType.INT64,
            DType.FLOAT16, DType.FLOAT32, DType.FLOAT64, DType.COMPLEX64, DType.COMPLEX128, DType.BOOL,
            DType.BFLOAT16);

    /** torch's _new_dtypes(): saved as UntypedStorage with _rebuild_tensor_v3. */
    public static final List<DType> V3 = List.of(DType.FLOAT8_E5M2, DType.FLOAT8_E4M3FN, DType.FLOAT8_E5M2FNUZ,
            DType.FLOAT8_E4M3FNUZ, DType.FLOAT8_E8M0FNU, DType.FLOAT4_E2M1FN_X2, DType.BITS8, DType.BITS16,
            DType.BITS1X8, DType.BITS2X4, DType.BITS4X2, DType.COMPLEX32, DType.UINT16, DType.UINT32, DType.UINT64);

    private Trees() {
    }

    /** A storage of {@code bytes} random bytes (0 or 1 for bool, so that every byte is a valid bool). */
    public static Storage storage(Random random, DType dtype, long elements, String key) {
        byte[] bytes = new byte[Math.toIntExact(elements * dtype.elementSize())];
        random.nextBytes(bytes);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] &= 1;
            }
        }
        return Storage.of(MemorySegment.ofArray(bytes), key, "cpu");
    }

    /** A random shape of rank 0 to 4 with sizes 0 to 4 (sizes of 0 only when {@code allowEmpty}). */
    public static long[] shape(Random random, boolean allowEmpty) {
        long[] shape = new long[random.nextInt(5)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = allowEmpty && random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(4);
        }
        return shape;
    }

    /**
     * A view of {@code shape} with random strides (a permutation of row-major strides, each stretched by a
     * step of 1 to 3, sometimes 0 as in expanded tensors) at a random offset, over a fresh storage large
     * enough with room to spare.
     */
    public static Tensor randomView(Random random, DType dtype, long[] shape, String key) {
        int rank = shape.length;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        long[] strides = new long[rank];
        long step = 1;
        for (int i = rank - 1; i >= 0; i--) {
            int d = order.get(i);
            long stretch = 1 + random.nextInt(3);
            strides[d] = random.nextInt(10) == 0 ? 0 : step * stretch;
            step *= Math.max(shape[d], 1) * stretch;
        }
        long offset = random.nextInt(4);
        long extent = offset + 1;
        for (int d = 0; d < rank; d++) {
            extent += Math.max(shape[d] - 1, 0) * strides[d];
        }
        Storage storage = storage(random, dtype, extent + random.nextInt(3), key);
        return Tensor.of(storage, dtype, offset, shape, strides);
    }

    /** Another view of {@code base}'s storage: a random sub-block, same dtype. */
    public static Tensor subView(Random random, Tensor base) {
        long[] shape = base.shape();
        long[] strides = base.strides();
        long offset = base.storageOffset();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > 1 && random.nextBoolean()) {
                long start = random.nextInt((int) shape[d]);
                offset += start * strides[d];
                shape[d] = 1 + random.nextInt((int) (shape[d] - start));
            }
        }
        return Tensor.of(base.storage(), base.dtype(), offset, shape, strides);
    }

    /** A dict (kind {@code kind}) of {@code count} random views of {@code dtypes}, some sharing storages. */
    public static PyDict randomStateDict(Random random, List<DType> dtypes, int count, PyDict.Kind kind,
            boolean requiresGradOnFloats) {
        PyDict.Builder b = PyDict.builder(kind);
        List<Tensor> made = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Tensor t;
            if (!made.isEmpty() && random.nextInt(4) == 0) {
                t = subView(random, made.get(random.nextInt(made.size()))); // shares a storage
            } else {
                DType dtype = dtypes.get(random.nextInt(dtypes.size()));
                t = randomView(random, dtype, shape(random, true), "s" + i);
            }
            if (requiresGradOnFloats && random.nextInt(3) == 0
                    && (t.dtype().kind() == DType.Kind.FLOAT || t.dtype().kind() == DType.Kind.COMPLEX)) {
                t = t.withRequiresGrad(true);
            }
            made.add(t);
            b.put("layer" + i + ".weight", t);
        }
        return b.build();
    }
}
