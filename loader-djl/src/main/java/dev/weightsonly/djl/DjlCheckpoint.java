package dev.weightsonly.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.StateDict;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * A mapped checkpoint's state dict as DJL arrays that share the file's memory: loading a model copies no weight.
 *
 * <p>A tensor becomes an array over the mapping itself when its bytes already are what the engine reads: the
 * tensor is contiguous and not empty, has neither of PyTorch's lazy conjugate and negative bits, its dtype keeps its
 * bits in DJL (see {@link NDArrays#dataType}), and the platform is little-endian (as checkpoints are). Any other
 * tensor (a transpose or slice that is not contiguous, a widened dtype, a record the file stores deflated, which
 * is inflated into the heap, a big-endian machine) is copied once.
 * {@link #isZeroCopy(String)} says which. A tensor DJL cannot hold at all (a dtype it lacks, or over 2^31-1 bytes as
 * one array) makes {@link #open} fail, naming it.
 *
 * <h2>Lifetime</h2>
 * An instance owns both the checkpoint (its mapping) and the arrays (a sub-manager of the manager it was opened
 * with). The checkpoint is not handed out, so it cannot be closed while arrays read its memory: {@link #close()}
 * closes the arrays first, then unmaps the file. Closing the parent manager closes the arrays too (the mapping stays
 * until this is closed). Do not {@code attach} a zero-copy array to another manager: it would outlive the mapping.
 * Use {@link NDArrays#copy} (or {@code array.duplicate()}) for arrays that must live longer.
 *
 * <p>{@link #get} and {@link #arrays} may be called from any thread. {@link #close()} is not synchronised with
 * engine operations in flight: close only when no thread is still computing with the arrays (an operation that
 * reads an array while another thread closes it would read unmapped memory).
 *
 * <h2>Read-only</h2>
 * The mapping is read-only. Zero-copy arrays are for reading (inference): an in-place operation on one
 * ({@code addi}, {@code set}, an optimizer step) would make the engine write to a read-only page, which the
 * operating system answers by ending the process. Copy an array before changing it in place;
 * {@link StateDictLoader} always copies values into a block's own parameters.
 *
 * <pre>{@code
 * try (NDManager manager = NDManager.newBaseManager();
 *      DjlCheckpoint weights = DjlCheckpoint.open(Path.of("model.pt"), manager)) {
 *     NDArray w = weights.get("fc.weight");        // over the mapped file, no copy
 *     NDArray y = input.matMul(w.transpose());
 * }
 * }</pre>
 */
public final class DjlCheckpoint implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final NDManager manager;
    private final Map<String, NDArray> arrays;
    private final Set<String> zeroCopy;

    private DjlCheckpoint(Checkpoint checkpoint, NDManager manager, Map<String, NDArray> arrays,
            Set<String> zeroCopy) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.arrays = Collections.unmodifiableMap(arrays);
        this.zeroCopy = Collections.unmodifiableSet(zeroCopy);
    }

    /**
     * {@link #open(Path, NDManager, LoadOptions, String...)} with the default options, for a file whose root is
     * the state dict.
     *
     * @param file    the checkpoint
     * @param manager the manager whose sub-manager will own the arrays
     * @return the arrays, by PyTorch name
     * @throws IOException as {@link Checkpoint#load(Path, LoadOptions)} does
     * @throws IllegalStateException when the root is not a state dict (the message says what it is), or
     *                               {@code manager} is closed
     * @throws IllegalArgumentException as {@link #open(Path, NDManager, LoadOptions, String...)}
     */
    public static DjlCheckpoint open(Path file, NDManager manager) throws IOException {
        return open(file, manager, LoadOptions.defaults());
    }

    /**
     * Maps {@code file} and builds an array for every tensor of its state dict.
     *
     * @param file          the checkpoint
     * @param manager       the manager whose sub-manager will own the arrays
     * @param options       load options (limits, allowed globals)
     * @param stateDictPath keys leading to the state dict in a training checkpoint ({@code "model"}), or none when
     *                      the root is the state dict
     * @return the arrays, by PyTorch name
     * @throws IOException              as {@link Checkpoint#load(Path, LoadOptions)} does
     * @throws IllegalStateException    when no state dict is at {@code stateDictPath} (the message says what is),
     *                                  or {@code manager} is closed (nothing stays open)
     * @throws IllegalArgumentException naming a tensor whose dtype DJL has no data type for, or that holds more
     *                                  than 2^31-1 bytes (nothing stays open)
     */
    public static DjlCheckpoint open(Path file, NDManager manager, LoadOptions options, String... stateDictPath)
            throws IOException {
        Objects.requireNonNull(manager, "manager");
        Checkpoint checkpoint = Checkpoint.load(file, options);
        NDManager arraysManager = null;
        try {
            StateDict stateDict = stateDictPath.length == 0 ? checkpoint.stateDict()
                    : checkpoint.stateDict(stateDictPath);
            arraysManager = manager.newSubManager();
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            Set<String> zeroCopy = new LinkedHashSet<>();
            for (Map.Entry<String, Tensor> entry : stateDict.asMap().entrySet()) {
                String name = entry.getKey();
                Tensor tensor = entry.getValue();
                NDArray array;
                if (sharesMemory(name, tensor)) {
                    array = overMapping(arraysManager, name, tensor);
                    zeroCopy.add(name);
                } else {
                    array = NDArrays.copy(arraysManager, name, tensor);
                }
                arrays.put(name, array);
            }
            return new DjlCheckpoint(checkpoint, arraysManager, arrays, zeroCopy);
        } catch (RuntimeException | Error e) {
            if (arraysManager != null) {
                arraysManager.close();
            }
            checkpoint.close();
            throw e;
        }
    }

    private static boolean sharesMemory(String name, Tensor tensor) {
        NDArrays.requireIntBytes(name, tensor);   // checks the data type too
        // Only off-heap bytes can be handed to the engine (the mapping, or a compressed record's inflated copy in the
        // checkpoint's arena); a storage on the Java heap would be copied by DJL anyway, and isZeroCopy then untrue.
        return NDArrays.keepsBits(tensor.dtype()) && tensor.isContiguous() && !tensor.isConj() && !tensor.isNeg()
                && tensor.numel() > 0 && tensor.contiguousBytes().isNative()
                && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    private static NDArray overMapping(NDManager manager, String name, Tensor tensor) {
        DataType type = NDArrays.requireDataType(name, tensor);
        // A direct buffer over the mapped bytes: the engine wraps its address (torch::from_blob), no copy.
        ByteBuffer bytes = tensor.asByteBuffer();
        NDArray array = manager.create(bytes, new Shape(tensor.shape()), type);
        array.setName(name);
        return array;
    }

    /**
     * The array of one tensor.
     *
     * @param name the state dict key, for example {@code "layer1.0.conv1.weight"}
     * @return the array, valid until this is closed
     * @throws NoSuchElementException naming the key when the state dict has none such
     * @throws IllegalStateException  after {@link #close()}
     */
    public NDArray get(String name) {
        requireOpen();
        NDArray array = arrays.get(name);
        if (array == null) {
            throw new NoSuchElementException("no tensor '" + name + "' in " + checkpoint.source());
        }
        return array;
    }

    /**
     * Every array, by state dict key, in the order the checkpoint holds them.
     *
     * @return an unmodifiable map, valid until this is closed
     * @throws IllegalStateException after {@link #close()}
     */
    public Map<String, NDArray> arrays() {
        requireOpen();
        return arrays;
    }

    /**
     * Whether the array of {@code name} shares the checkpoint's memory (else it is a copy made for DJL): a view of
     * the mapped file, or of the checkpoint's own off-heap copy of a record stored compressed (inflated once, at
     * load, and released with the checkpoint).
     *
     * @param name a state dict key
     * @return true for an array over the mapping; false for a copy, or a name the state dict lacks
     */
    public boolean isZeroCopy(String name) {
        return zeroCopy.contains(name);
    }

    /**
     * The file this was loaded from, as given.
     *
     * @return the checkpoint's source
     */
    public String source() {
        return checkpoint.source();
    }

    private void requireOpen() {
        if (!manager.isOpen()) {
            throw new IllegalStateException("closed: the arrays of " + checkpoint.source() + " are released");
        }
    }

    /** Closes the arrays, then unmaps the file. Idempotent. */
    @Override
    public void close() {
        try {
            manager.close();
        } finally {
            checkpoint.close();
        }
    }
}
