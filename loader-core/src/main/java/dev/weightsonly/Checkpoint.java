package dev.weightsonly;

import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.io.Sha256;
import dev.weightsonly.internal.io.Prefaulted;
import dev.weightsonly.internal.io.StreamBytes;
import dev.weightsonly.internal.load.CheckpointReader;
import dev.weightsonly.internal.load.ShardedReader;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.python.TupleValue;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * A loaded PyTorch checkpoint: the object tree that {@code torch.load(f, weights_only=True)} would return,
 * with every tensor a view over shared storages.
 *
 * <p>Loaded from a path, the file is mapped once and every storage is a slice of that mapping: no
 * tensor byte is copied or even read by the load. Loaded from a stream or byte array, the bytes are
 * copied once into memory the checkpoint owns. Either way the checkpoint owns the memory: {@link #close()}
 * releases it, after which reading a tensor throws {@link IllegalStateException} (never a crash).
 *
 * <p>Python values map to Java as documented in {@link dev.weightsonly.python}: {@code None} is
 * {@link PyNone#NONE}; bool {@link Boolean}; int {@link Long} or {@link java.math.BigInteger}; float
 * {@link Double}; str {@link String}; bytes {@link dev.weightsonly.python.PyBytes}; tuple {@link PyTuple};
 * list {@link PyList}; dict, OrderedDict and Counter {@link PyDict}; set {@link PySet}; complex
 * {@link dev.weightsonly.python.PyComplex}; tensors and Parameters {@link Tensor}; {@code torch.Size},
 * {@code torch.device}, dtypes and layouts their types in {@code dev.weightsonly.torch} and
 * {@link dev.weightsonly.tensors.DType}.
 *
 * <p>A safetensors file (recognised by its header, or by a {@code .safetensors} name) loads too, validated as
 * the reference reader validates it ({@link dev.weightsonly.internal.safetensors.SafetensorsHeader}): its root is a
 * {@link PyDict} of kind {@code DICT} mapping each name to a contiguous view, in the order of the data in the
 * file, and its {@code __metadata__} is {@link #metadata()}.
 *
 * <p><b>Failures.</b> Every {@code load} method throws {@link CheckpointException} and no other checked
 * exception: the content refused ({@link UnsafeCheckpointException}, {@link MalformedCheckpointException},
 * {@link LimitExceededException}, {@link UnsupportedCheckpointException}) or the bytes not to be had
 * ({@link UnreadableCheckpointException}: no such file, a directory, an unreadable or unmappable file, a stream
 * whose read failed, a missing shard). Each names the file. A {@code CheckpointException} is an
 * {@link java.io.IOException}, so code that catches {@code IOException} catches these too.
 *
 * <p><b>Logging.</b> Loads log through SLF4J (nothing is printed without a binding), under two logger names
 * that are part of the API:
 * <ul>
 *   <li>{@code dev.weightsonly.load}: WARN for every refused load, once per call, with the file, the kind of
 *       refusal and the reason; DEBUG for every file loaded, with its format, its tensor and storage counts and
 *       the milliseconds the load took;</li>
 *   <li>{@code dev.weightsonly.audit}: INFO, one line per global beyond PyTorch's default allowlist that a loaded
 *       file used, naming the file, the global and whether {@link LoadOptions} or {@link SafeGlobals} allowed
 *       it: an audit trail of the trust given to files.</li>
 * </ul>
 */
public final class Checkpoint implements AutoCloseable {

    private final String source;
    private final Object root;
    private final Arena arena;
    /** Guards {@link #closed} and the release of the memory: one close at a time. */
    private final Object closeLock = new Object();
    private boolean closed;
    private final boolean mapped;
    private final int tensorCount;
    private final int storageCount;
    private final LoadLimits limits;
    private final Map<String, String> metadata;
    private final List<Checkpoint> shards;

    private Checkpoint(String source, Object root, Arena arena, boolean mapped, CheckpointReader.Result result,
            LoadLimits limits) {
        this.source = source;
        this.root = root;
        this.arena = arena;
        this.mapped = mapped;
        this.tensorCount = result.tensorCount();
        this.storageCount = result.storageCount();
        this.limits = limits;
        this.metadata = result.metadata();
        this.shards = List.of();
    }

    private Checkpoint(String source, Object root, List<Checkpoint> shards, LoadLimits limits) {
        this.source = source;
        this.root = root;
        this.arena = null;
        this.mapped = true;
        this.tensorCount = shards.stream().mapToInt(Checkpoint::tensorCount).sum();
        this.storageCount = shards.stream().mapToInt(Checkpoint::storageCount).sum();
        this.limits = limits;
        this.metadata = Map.of();
        this.shards = List.copyOf(shards);
    }

    /** A checkpoint over what the reader produced, its load logged ({@link LoadLog}). */
    private static Checkpoint loaded(String source, CheckpointReader.Result result, Arena arena, boolean mapped,
            LoadOptions options, long startNanos) {
        LoadLog.loaded(source, result, options, startNanos);
        return new Checkpoint(source, result.root(), arena, mapped, result, options.limits());
    }

    /**
     * Loads a sharded Hugging Face checkpoint from its index ({@code pytorch_model.bin.index.json} or
     * {@code model.safetensors.index.json}) as one state dict: every shard is loaded (mapped) as a state dict,
     * and the root is an ordered dict of every tensor, in the index's order. Shard names are taken only as
     * plain file names in the index's folder; every tensor the index names must be in the shard it names, and
     * no tensor may be in two shards. Closing the result closes every shard.
     *
     * @param index   the index file, in the folder of its shards
     * @param options the options of every shard's load (an expected digest is refused: it names one file)
     * @return the checkpoint of every shard's tensors, which owns the shards' mappings
     * @throws MalformedCheckpointException if the index is malformed, a shard's root is not a state dict (a dict
     *     of str keys to tensors; the message names the shard file), a tensor is not where the index says, or
     *     is in two shards
     * @throws UnreadableCheckpointException if the index or a shard cannot be read, or a shard the index names
     *     is not there (the message names the file)
     * @throws CheckpointException if a shard is refused as {@link #load(Path, LoadOptions)} refuses a file
     * @throws IllegalArgumentException if {@code options} expects a digest
     */
    public static Checkpoint loadSharded(Path index, LoadOptions options) throws CheckpointException {
        Objects.requireNonNull(options, "options");
        if (options.expectedSha256() != null) {
            // One digest names one file; every shard has its own (weightsonly verify --manifest checks them).
            throw new IllegalArgumentException("expectSha256 is one file's digest, and " + index + " names several"
                    + " shards: check them with their own digests (weightsonly verify --manifest SHA256SUMS)");
        }
        return LoadLog.refusalsLogged(() -> sharded(index, options));
    }

    private static Checkpoint sharded(Path index, LoadOptions options) throws CheckpointException {
        long start = System.nanoTime();
        String source = index.toString();
        CheckpointException.Location where = CheckpointException.Location.of(source);
        byte[] json;
        try {
            if (Files.isDirectory(index)) {
                throw UnreadableCheckpointException.directory(source);
            }
            long size = Files.size(index);
            if (size > dev.weightsonly.internal.safetensors.ShardIndex.MAX_INDEX_BYTES) {
                throw where.limit("maxIndexBytes", dev.weightsonly.internal.safetensors.ShardIndex.MAX_INDEX_BYTES,
                        "a shard index of " + size + " bytes");
            }
            json = Files.readAllBytes(index);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw UnreadableCheckpointException.of(source, e);
        }
        Path folder = index.toAbsolutePath().getParent();
        ShardedReader.Result sharded = ShardedReader.read(where, index.getFileName().toString(), json, shard -> {
            Path file = folder.resolve(shard);
            if (!Files.exists(file)) {
                throw UnreadableCheckpointException.missingShard(file.toString(), index.getFileName().toString());
            }
            return mapped(file, options);
        });
        Checkpoint whole = new Checkpoint(source, sharded.root(), sharded.shards(), options.limits());
        LoadLog.timing(source, "sharded index of " + sharded.shards().size() + " shards", whole.tensorCount(),
                whole.storageCount(), start);
        return whole;
    }

    /**
     * {@link #loadSharded(Path, LoadOptions)} with the default options.
     *
     * @param index the index file, in the folder of its shards
     * @return the checkpoint of every shard's tensors
     * @throws CheckpointException as {@link #loadSharded(Path, LoadOptions)} throws it
     */
    public static Checkpoint loadSharded(Path index) throws CheckpointException {
        return loadSharded(index, LoadOptions.defaults());
    }

    /**
     * Loads {@code file} with the default options, mapping it (no tensor bytes copied).
     *
     * @param file the checkpoint file
     * @return the loaded checkpoint, which owns the mapping: close it
     * @throws CheckpointException as {@link #load(Path, LoadOptions)} throws it
     */
    public static Checkpoint load(Path file) throws CheckpointException {
        return load(file, LoadOptions.defaults());
    }

    /**
     * Loads {@code file}, mapping it (no tensor bytes copied). The format is recognised from the bytes: the zip
     * format of {@code torch.save} (1.6 and later), the legacy stream and tar formats of older torch, a
     * TorchScript archive's tensors, and safetensors.
     *
     * <p>Every failure is a {@link CheckpointException} naming the file, logged at WARN under
     * {@code dev.weightsonly.load} (see the class comment): there is no other checked exception to catch.
     *
     * @param file    the checkpoint file: a regular file, mapped read-only for the life of the checkpoint
     * @param options the limits and the globals of this load
     * @return the loaded checkpoint, which owns the mapping: close it
     * @throws UnsafeCheckpointException if the file names a global the load does not allow, or asks for
     *     something a weights-only load never does ({@link UnsupportedGlobalException} names the global), or does
     *     not have the expected digest
     * @throws MalformedCheckpointException if the file is not a well-formed checkpoint
     * @throws LimitExceededException if the file exceeds one of the {@link LoadLimits}
     * @throws UnsupportedCheckpointException if the file is a format or construct weightsonly does not load
     * @throws UnreadableCheckpointException if the file system cannot give the file: no such file, a directory,
     *     a file that cannot be read or mapped
     */
    public static Checkpoint load(Path file, LoadOptions options) throws CheckpointException {
        Objects.requireNonNull(options, "options");
        return LoadLog.refusalsLogged(() -> mapped(file, options));
    }

    private static Checkpoint mapped(Path file, LoadOptions options) throws CheckpointException {
        long start = System.nanoTime();
        String source = file.toString();
        if (Files.isDirectory(file)) {
            // Mapping a directory fails with the system's "No such device", which names nothing.
            throw UnreadableCheckpointException.directory(source);
        }
        Arena arena = Arena.ofShared();
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            arena.close();
            throw UnreadableCheckpointException.of(source, e);
        }
        // The channel stays open while the archive is read: local headers are read from it positionally, in file
        // order, instead of faulting in a page of the mapping per record.
        try (channel) {
            long size;
            MemorySegment bytes;
            try {
                size = channel.size();
            } catch (IOException e) {
                throw UnreadableCheckpointException.of(source, e);
            }
            try {
                bytes = size == 0 ? MemorySegment.ofArray(new byte[0])
                        : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                throw UnreadableCheckpointException.unmappable(source, e);
            }
            Sha256.check(source, bytes, options.expectedSha256());
            CheckpointReader.Result result = CheckpointReader.read(source, bytes, size == 0 ? null : channel, options,
                    arena);
            return loaded(source, result, arena, true, options, start);
        } catch (CheckpointException | RuntimeException | Error e) {
            arena.close();
            throw e;
        } catch (IOException e) { // closing the channel
            arena.close();
            throw UnreadableCheckpointException.of(source, e);
        }
    }

    /**
     * Loads a checkpoint from a stream with the default options, copying its bytes.
     *
     * @param in   the stream, read to its end and left open
     * @param name the name that error messages and logs give the stream
     * @return the loaded checkpoint, which owns its copy: close it
     * @throws CheckpointException as {@link #load(InputStream, String, LoadOptions)} throws it
     */
    public static Checkpoint load(InputStream in, String name) throws CheckpointException {
        return load(in, name, LoadOptions.defaults());
    }

    /**
     * Loads a checkpoint from a stream, copying its bytes; {@code name} labels error messages. The stream is
     * read to its end and left open.
     *
     * <p>A {@link FileInputStream} of a regular file holding a zip checkpoint is read through a temporary
     * mapping of the rest of its file: the pickle is read in place and only the storages are copied, in
     * parallel over the available cores (fresh memory costs a page fault per page, which is what a copying
     * load spends most of its time on). The mapping is released before this returns; the checkpoint refers
     * only to its own copies. Any other stream is read into memory first, then read there: a stream whose
     * {@link InputStream#available()} estimate is at most a quarter of the maximum heap (and under 2 GiB) into
     * a heap array, which is then loaded as {@link #load(byte[], String, LoadOptions)} loads one (the
     * storages copied out in parallel) and left to the garbage collector; any other into native memory that
     * the checkpoint keeps.
     *
     * <p>The stream is read up to {@link LoadLimits#maxStreamBytes()} (default 64 GiB), so an endless stream is
     * refused rather than growing memory without bound; raise it with
     * {@code LoadLimits.builder().maxStreamBytes(...)} for a larger checkpoint.
     *
     * @param in      the stream, read to its end and left open
     * @param name    the name that error messages and logs give the stream
     * @param options the limits and the globals of this load
     * @return the loaded checkpoint, which owns its copy: close it
     * @throws CheckpointException if the checkpoint is refused, as {@link #load(Path, LoadOptions)} refuses a
     *     file; an {@link UnreadableCheckpointException} (whose cause is the stream's exception) if the stream
     *     cannot be read
     * @throws LimitExceededException if the stream holds more than {@link LoadLimits#maxStreamBytes()}
     */
    public static Checkpoint load(InputStream in, String name, LoadOptions options) throws CheckpointException {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(name, "name");
        return LoadLog.refusalsLogged(() -> streamed(in, name, options));
    }

    private static Checkpoint streamed(InputStream in, String name, LoadOptions options) throws CheckpointException {
        long start = System.nanoTime();
        if (in.getClass() == FileInputStream.class) {
            Checkpoint copied = copyThroughMapping(((FileInputStream) in).getChannel(), name, options, start);
            if (copied != null) {
                return copied;
            }
        }
        // The bytes arrive in memory of an arena of their own, sized by the stream (see StreamBytes); while they
        // are read into a heap array, memory for the copies of its records may be made ahead in the checkpoint's.
        Arena arena = Arena.ofShared();
        StreamBytes.Read read;
        try {
            read = StreamBytes.readAll(in, options.limits().maxStreamBytes(), CheckpointException.Location.of(name),
                    arena);
        } catch (CheckpointException | RuntimeException | Error e) {
            arena.close();
            throw e; // more than maxStreamBytes
        } catch (IOException e) {
            arena.close();
            throw UnreadableCheckpointException.stream(name, e);
        }
        if (read.onHeap()) {
            return fromHeap(read.bytes(), name, options, start, arena, read.prefaulted());
        }
        arena.close(); // memory made ahead for a heap array the stream outgrew
        try {
            Sha256.check(name, read.bytes(), options.expectedSha256());
            return fromMemory(name, read.bytes(), read.arena(), options, start);
        } catch (CheckpointException | RuntimeException | Error e) {
            read.arena().close();
            throw e;
        }
    }

    /**
     * Loads a checkpoint held in a byte array with the default options (copied, so later changes to the array do
     * not matter).
     *
     * @param bytes the checkpoint's bytes
     * @param name  the name that error messages and logs give the bytes
     * @return the loaded checkpoint, which owns its copy: close it
     * @throws CheckpointException as {@link #load(byte[], String, LoadOptions)} throws it
     */
    public static Checkpoint load(byte[] bytes, String name) throws CheckpointException {
        return load(bytes, name, LoadOptions.defaults());
    }

    /**
     * Loads a checkpoint held in a byte array. The storages are copied (a zip checkpoint's in parallel), so
     * later changes to the array do not matter.
     *
     * @param bytes   the checkpoint's bytes
     * @param name    the name that error messages and logs give the bytes
     * @param options the limits and the globals of this load
     * @return the loaded checkpoint, which owns its copy: close it
     * @throws CheckpointException if the checkpoint is refused, as {@link #load(Path, LoadOptions)} refuses a
     *     file (never an {@link UnreadableCheckpointException}: the bytes are all there)
     */
    public static Checkpoint load(byte[] bytes, String name, LoadOptions options) throws CheckpointException {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bytes, "bytes");
        return LoadLog.refusalsLogged(() -> fromHeap(MemorySegment.ofArray(bytes), name, options, System.nanoTime(),
                Arena.ofShared(), null));
    }

    /**
     * A copying load of bytes in a heap array: the storages copied out of it (into memory of {@code prefaulted}
     * first, if any), which the caller may reuse. {@code arena} becomes the checkpoint's, or is closed.
     */
    private static Checkpoint fromHeap(MemorySegment bytes, String name, LoadOptions options, long start,
            Arena arena, Prefaulted prefaulted) throws CheckpointException {
        try {
            Sha256.check(name, bytes, options.expectedSha256());
            CheckpointReader.Result copied = CheckpointReader.readCopying(name, bytes, options, arena, prefaulted);
            if (copied != null) {
                return loaded(name, copied, arena, false, options, start);
            }
            // Memory the checkpoint owns, so that close() releases it and later reads fail cleanly.
            MemorySegment copy = arena.allocate(bytes.byteSize(), 64);
            MemorySegment.copy(bytes, 0, copy, 0, bytes.byteSize());
            return fromMemory(name, copy.asReadOnly(), arena, options, start);
        } catch (CheckpointException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A copying load of a zip checkpoint through a temporary mapping of {@code channel} from its position to
     * its end; null (with the channel where it was) if the channel cannot be mapped (a pipe) or holds another
     * format. On success the channel is left at its end, as reading the stream would leave it.
     */
    private static Checkpoint copyThroughMapping(FileChannel channel, String name, LoadOptions options,
            long startNanos) throws CheckpointException {
        long position;
        long size;
        try {
            position = channel.position();
            size = channel.size();
        } catch (IOException e) {
            return null; // not a channel with a position and a size: read as a stream
        }
        if (size - position < 4) {
            return null;
        }
        long maxStreamBytes = options.limits().maxStreamBytes();
        if (size - position > maxStreamBytes) {
            // As for any other stream: its bytes are copied (the storages), so the same bound holds.
            throw CheckpointException.Location.of(name).limit("maxStreamBytes", maxStreamBytes,
                    "a stream of more than " + maxStreamBytes + " bytes");
        }
        try (Arena mapping = Arena.ofShared()) {
            MemorySegment bytes;
            try {
                bytes = channel.map(FileChannel.MapMode.READ_ONLY, position, size - position, mapping);
            } catch (IOException | UnsupportedOperationException e) {
                return null; // not a regular file: read as a stream
            }
            if (options.expectedSha256() != null && !ZipArchive.looksLikeZip(bytes)) {
                return null; // read as a stream, whose bytes are digested there (not twice)
            }
            Sha256.check(name, bytes, options.expectedSha256());
            Arena arena = Arena.ofShared();
            try {
                CheckpointReader.Result copied = CheckpointReader.readCopying(name, bytes, options, arena, null);
                if (copied == null) {
                    arena.close();
                    return null;
                }
                channel.position(size);
                return loaded(name, copied, arena, false, options, startNanos);
            } catch (CheckpointException | RuntimeException | Error e) {
                arena.close();
                throw e;
            } catch (IOException e) {
                arena.close();
                throw UnreadableCheckpointException.stream(name, e);
            }
        }
    }

    private static Checkpoint fromMemory(String name, MemorySegment bytes, Arena arena, LoadOptions options,
            long startNanos) throws CheckpointException {
        return loaded(name, CheckpointReader.read(name, bytes, options, arena), arena, false, options, startNanos);
    }

    /**
     * Where this checkpoint came from, as error messages name it.
     *
     * @return the path as given to {@code load}, or the name given with a stream or byte array
     */
    public String source() {
        return source;
    }

    /**
     * The object {@code torch.load} would return (the unpickled root), in its Java form; for the common shapes,
     * {@link #stateDict()} and {@link #tensors()} are more direct.
     *
     * @return the root value, mapped to Java as the class comment lists (usually a {@code PyDict})
     */
    public Object root() {
        return root;
    }

    /**
     * Whether the tensors read the file itself, which matters if the file may change while the checkpoint is
     * open.
     *
     * @return true when the storages are slices of the mapped file (loaded from a path), false when they are
     *     copies in memory (loaded from a stream or array)
     */
    public boolean isMapped() {
        return mapped;
    }

    /**
     * How many tensors the load rebuilt, a measure of the checkpoint's size that costs nothing to ask.
     *
     * @return the number of tensors (a tensor saved twice by reference counts once); for a sharded load, the
     *     sum over the shards
     */
    public int tensorCount() {
        return tensorCount;
    }

    /**
     * How many distinct storages the tensors view; fewer than {@link #tensorCount()} when tensors share memory
     * (tied weights, views saved together).
     *
     * @return the number of storages
     */
    public int storageCount() {
        return storageCount;
    }

    /**
     * The root as a state dict: the root must be a dict whose keys are all strings and whose values are
     * all tensors, as {@code torch.save(model.state_dict())} writes it. Needs no tensor data, so it works
     * after {@link #close()} too (the tensors are then unreadable).
     *
     * @return the root's tensors by name, in the dict's order
     * @throws IllegalStateException if the root is something else; the message says what it is and, for
     *                               a training checkpoint, under which key the state dict sits
     */
    public StateDict stateDict() {
        return asStateDict(root, "the root");
    }

    /**
     * The state dict under {@code path} ({@code stateDict("model")}, {@code stateDict("module", "state_dict")}):
     * each element is a dict key to descend into. There is no guessing: the path must name a state dict.
     *
     * @param path the dict keys from the root to the state dict; none means the root itself
     * @return the tensors of the dict at the end of the path, by name, in the dict's order
     * @throws IllegalStateException if a step is not a dict or lacks the key, or the end is not a state dict;
     *     the message says what is there
     */
    public StateDict stateDict(String... path) {
        Object node = root;
        StringBuilder where = new StringBuilder("the root");
        for (String key : path) {
            if (!(node instanceof PyDict dict)) {
                throw new IllegalStateException(source + ": " + where + " is " + PyValues.typeName(node)
                        + ", not a dict, so it has no key '" + key + "'");
            }
            if (!dict.containsKey(key)) {
                throw new IllegalStateException(source + ": " + where + " has no key '" + key + "'; its keys: "
                        + keysOf(dict));
            }
            node = dict.get(key);
            where.append(where.toString().equals("the root") ? ": [" : "[").append('\'').append(key).append("']");
        }
        return asStateDict(node, where.toString());
    }

    private StateDict asStateDict(Object node, String what) {
        if (!(node instanceof PyDict dict)) {
            throw new IllegalStateException(source + ": " + what + " is " + PyValues.typeName(node)
                    + ", not a state dict (a dict of names to tensors)");
        }
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        List<String> notTensors = new ArrayList<>();
        for (Map.Entry<Object, Object> e : dict.entrySet()) {
            if (e.getKey() instanceof String name && e.getValue() instanceof Tensor t) {
                tensors.put(name, t);
            } else {
                notTensors.add(PyValues.shortRepr(e.getKey()) + " (" + PyValues.typeName(e.getValue()) + ")");
            }
        }
        if (!notTensors.isEmpty()) {
            List<String> candidates = new ArrayList<>();
            for (Map.Entry<Object, Object> e : dict.entrySet()) {
                if (e.getKey() instanceof String k && e.getValue() instanceof PyDict inner && !inner.isEmpty()
                        && inner.values().stream().allMatch(v -> v instanceof Tensor)) {
                    candidates.add("stateDict(\"" + k + "\")");
                }
            }
            throw new IllegalStateException(source + ": " + what + " is not a state dict: "
                    + (notTensors.size() == dict.size() ? "none" : notTensors.size() + " of " + dict.size())
                    + " of its entries are tensors with str keys; not tensors: "
                    + String.join(", ", notTensors.stream().limit(8).toList())
                    + (candidates.isEmpty() ? "" : ". The tensors are under " + String.join(" or ", candidates)));
        }
        return new StateDict(source, tensors);
    }

    /**
     * The value at {@code path} from the root, found as {@link #tensors()} names values: dict keys, list, tuple
     * and set indices, and the fields of an allowed object (and its {@code args} and {@code state}), joined by
     * dots. {@code "epoch"}, {@code "optimizer.param_groups.0.lr"}, {@code "model.layer1.0.weight"} (a key may
     * hold dots itself: at each dict the longest run of parts that is one of its keys is taken); a dict's int
     * keys are written in decimal ({@code "optimizer.state.0.exp_avg"}), a negative index counts from the end,
     * and the empty path is the root itself.
     *
     * @param path the dotted path
     * @return the value there ({@link PyNone#NONE} for None)
     * @throws java.util.NoSuchElementException if the path leads nowhere; the message names the checkpoint, the
     *     part of the path that was found, what is there and what it holds
     */
    public Object get(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty()) {
            return root;
        }
        String[] parts = path.split("\\.", -1);
        Object node = root;
        int done = 0;
        while (done < parts.length) {
            Step step = step(node, parts, done);
            if (step == null) {
                String where = done == 0 ? "the root" : String.join(".", Arrays.copyOf(parts, done));
                throw new java.util.NoSuchElementException(source + ": no '" + parts[done] + "' in " + where
                        + ", which is " + contents(node));
            }
            node = step.value();
            done += step.parts();
        }
        return node;
    }

    /**
     * The value at {@code path} (see {@link #get(String)}) as {@code type}: {@code get("epoch", Long.class)},
     * {@code get("optimizer.param_groups.0.lr", Double.class)}, {@code get("model", PyDict.class)}. Values
     * convert as {@link PyValues#as} converts them (a Python int reads as a {@link Double} where one is asked
     * for).
     *
     * @param <T> the type asked for
     * @param path the dotted path
     * @param type what the value must be ({@code Object.class} for any)
     * @return the value
     * @throws java.util.NoSuchElementException if the path leads nowhere
     * @throws ClassCastException if the value there is not a {@code type} and does not convert to one; the
     *     message names the checkpoint, the path, the value and its Python type
     */
    public <T> T get(String path, Class<T> type) {
        return PyValues.as(get(path), Objects.requireNonNull(type, "type"), source + ": " + path);
    }

    /** One step of a path: the value reached and how many parts of the path its name took. */
    private record Step(Object value, int parts) {
    }

    /** The step from {@code node} named by {@code parts[from...]}, or null if there is none. */
    private static Step step(Object node, String[] parts, int from) {
        return switch (node) {
            case PyDict d -> named(d, parts, from);
            case PyList l -> indexed(l, parts[from]);
            case PyTuple t -> indexed(t.items(), parts[from]);
            case TupleValue t -> indexed(t.asTuple().items(), parts[from]);
            case PySet s -> indexed(List.copyOf(s), parts[from]);
            case PyObject o -> {
                Step field = named(o.fields(), parts, from);
                if (field != null) {
                    yield field;
                }
                yield parts[from].equals("args") ? new Step(o.args(), 1)
                        : parts[from].equals("state") ? new Step(o.state(), 1) : null;
            }
            case null, default -> null;
        };
    }

    /**
     * The entry of {@code map} named by the longest run of {@code parts} from {@code from} that is a key's name
     * ({@link #keyName}): first as a str, an int or None directly, then by a scan of the keys' names.
     */
    private static Step named(Map<?, ?> map, String[] parts, int from) {
        List<String> names = new ArrayList<>(); // names.get(k) is the name of k + 1 parts
        StringBuilder name = new StringBuilder(parts[from]);
        names.add(name.toString());
        for (int end = from + 1; end < parts.length; end++) {
            names.add(name.append('.').append(parts[end]).toString());
        }
        for (int used = names.size(); used >= 1; used--) {
            for (Object key : directKeys(names.get(used - 1))) {
                if (map.containsKey(key)) {
                    return new Step(map.get(key), used);
                }
            }
        }
        Step best = null;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            int used = names.indexOf(keyName(e.getKey())) + 1;
            if (used > 0 && (best == null || used > best.parts())) {
                best = new Step(e.getValue(), used);
            }
        }
        return best;
    }

    /** The keys whose name ({@link #keyName}) is {@code name} that a lookup can try directly. */
    private static List<Object> directKeys(String name) {
        List<Object> keys = new ArrayList<>(2);
        keys.add(name);
        if (name.equals("None")) {
            keys.add(PyNone.NONE);
        } else if (name.matches("-?(0|[1-9][0-9]{0,18})")) {
            try {
                keys.add(Long.parseLong(name));
            } catch (NumberFormatException tooLarge) {
                // not a long: found by the scan, if at all
            }
        }
        return keys;
    }

    private static Step indexed(List<?> items, String part) {
        if (!part.matches("-?(0|[1-9][0-9]{0,9})")) {
            return null;
        }
        long i = Long.parseLong(part);
        int size = items.size();
        if (i < -size || i >= size) {
            return null;
        }
        return new Step(items.get((int) (i < 0 ? i + size : i)), 1);
    }

    /** What {@code node} is and holds, for a path that found nothing in it. */
    private static String contents(Object node) {
        String type = PyValues.typeName(node);
        return switch (node) {
            case PyDict d -> "a " + type + (d.isEmpty() ? ", empty" : " with keys " + keysOf(d));
            case PyList l -> "a list of " + l.size();
            case PyTuple t -> "a tuple of " + t.size();
            case TupleValue t -> "a " + type + " of " + t.asTuple().size();
            case PySet s -> "a " + type + " of " + s.size();
            case PyObject o -> "an object of " + type + (o.fields().isEmpty() ? "" : " with fields "
                    + String.join(", ", o.fields().keySet().stream().limit(12).toList()));
            case null, default -> PyValues.shortRepr(node) + " (" + type + ")";
        };
    }

    private static String keysOf(PyDict dict) {
        List<String> keys = dict.keySet().stream().limit(12).map(PyValues::shortRepr).toList();
        return String.join(", ", keys) + (dict.size() > 12 ? ", ..." : "");
    }

    /**
     * Every dense tensor in the checkpoint, by its dotted path from the root ({@code model.layer1.weight},
     * {@code optimizer.state.0.exp_avg}), in depth-first order. Dict keys and list indices form the path.
     * A container reached twice through shared references is listed once, under the first path. Sparse
     * tensors are not dense tensors and are listed by {@link #sparseTensors()} instead, under the same paths.
     *
     * @return an unmodifiable map from dotted path to tensor, in depth-first order ({@code "<root>"} if the root
     *     itself is a tensor)
     */
    public Map<String, Tensor> tensors() {
        return walk(Tensor.class);
    }

    /**
     * Every sparse tensor (COO, CSR, CSC, BSR, BSC) in the checkpoint, by its dotted path from the root, as
     * {@link #tensors()} lists the dense ones: together the two maps hold every tensor of the checkpoint,
     * and no path is in both. A tool that compares or converts tensors must look at both maps, or two
     * checkpoints that differ only in a sparse tensor look the same.
     *
     * @return an unmodifiable map from dotted path to sparse tensor, in depth-first order; empty for most
     *     checkpoints
     */
    public Map<String, SparseTensor> sparseTensors() {
        return walk(SparseTensor.class);
    }

    /**
     * Every value that is neither a tensor nor a container, by dotted path from the root, in depth-first order, as
     * {@link #tensors()} lists the tensors: what a training checkpoint holds beside its weights ({@code epoch},
     * {@code optimizer.param_groups.0.lr}, {@code config.name}), in the Java forms of the class comment
     * ({@link Long}, {@link Double}, {@link String}, {@link PyNone#NONE}, {@code torch.Size}, ...). Dicts, lists,
     * tuples, sets and objects are walked, not listed (an empty one lists nothing); tensors and sparse tensors are
     * left to {@link #tensors()} and {@link #sparseTensors()} (a {@link dev.weightsonly.torch.MetaTensor}, which has
     * no data, is listed here).
     *
     * @return the values by path, unmodifiable
     */
    public Map<String, Object> values() {
        return walk(Object.class, value -> !(value instanceof Tensor || value instanceof SparseTensor
                || isContainer(value)));
    }

    private static boolean isContainer(Object value) {
        return value instanceof PyDict || value instanceof PyList || value instanceof PyTuple || value instanceof PySet
                || value instanceof PyObject;
    }

    /** One value met by the walk: the path is built only for the values listed (a deep chain stays linear). */
    private record Node(Node parent, String key, Object value) {
        String path() {
            ArrayDeque<String> keys = new ArrayDeque<>();
            for (Node n = this; n.parent != null; n = n.parent) {
                keys.push(n.key);
            }
            return keys.isEmpty() ? "<root>" : String.join(".", keys);
        }
    }

    private <T> Map<String, T> walk(Class<T> kind) {
        return walk(kind, kind::isInstance);
    }

    /** The values {@code listed} accepts (all of class {@code kind}), by path; containers are walked. */
    private <T> Map<String, T> walk(Class<T> kind, java.util.function.Predicate<Object> listed) {
        LinkedHashMap<String, T> out = new LinkedHashMap<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> todo = new ArrayDeque<>();
        todo.push(new Node(null, "", root));
        while (!todo.isEmpty()) {
            Node node = todo.pop();
            Object value = node.value();
            if (listed.test(value)) {
                out.putIfAbsent(node.path(), kind.cast(value));
                continue;
            }
            if (!isContainer(value) || !seen.add(value)) {
                continue;
            }
            // Children are pushed in reverse so that they pop in order.
            List<Node> children = new ArrayList<>();
            switch (value) {
                case PyDict d -> d.forEach((k, v) -> children.add(new Node(node, keyName(k), v)));
                case PyList l -> {
                    for (int i = 0; i < l.size(); i++) {
                        children.add(new Node(node, Integer.toString(i), l.get(i)));
                    }
                }
                case PyTuple t -> {
                    for (int i = 0; i < t.size(); i++) {
                        children.add(new Node(node, Integer.toString(i), t.get(i)));
                    }
                }
                case PySet s -> {
                    int i = 0;
                    for (Object o : s) {
                        children.add(new Node(node, Integer.toString(i++), o));
                    }
                }
                case PyObject o -> {
                    // An object's attributes name its parts directly (a TorchScript module's lin.weight).
                    if (o.args().size() > 0) {
                        children.add(new Node(node, "args", o.args()));
                    }
                    if (o.state() instanceof PyDict attributes) {
                        attributes.forEach((k, v) -> children.add(new Node(node, keyName(k), v)));
                    } else {
                        children.add(new Node(node, "state", o.state()));
                    }
                }
                default -> { }
            }
            for (int i = children.size() - 1; i >= 0; i--) {
                todo.push(children.get(i));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static String keyName(Object key) {
        return switch (key) {
            case String s -> s;
            case Long l -> Long.toString(l);
            case Boolean b -> b ? "True" : "False";
            case PyNone n -> "None";
            default -> String.valueOf(key);
        };
    }

    /**
     * A safetensors file's {@code __metadata__} (free-form strings such as {@code {"format": "pt"}}), in
     * header order; empty for torch checkpoints, which have no such header, and for safetensors files
     * without one.
     *
     * @return an unmodifiable map of the metadata's keys to values
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The limits this checkpoint was loaded with, which the dump and walks over it honour too, and which bound
     * what one tensor operation may materialise.
     *
     * @return the limits of the {@link LoadOptions} the checkpoint was loaded with
     */
    public LoadLimits limits() {
        return limits;
    }

    /** How long {@link #close()} waits for reads in flight on other threads. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    /**
     * Releases the mapping or the copied bytes (every storage alike: mapped, copied, inflated or byte-swapped);
     * reading a tensor of this checkpoint afterwards throws {@link IllegalStateException}, on any thread, and
     * never touches released memory. Closing again does nothing.
     *
     * <p>Another thread may be reading the memory at that moment: a writer streaming a tensor to a file holds it
     * for the length of each write. {@code close()} then waits for those reads to end (up to 30 seconds), after
     * which that thread's next read throws {@link IllegalStateException}. If they are still in flight after the
     * wait, or the closing thread is interrupted, nothing is released and the checkpoint stays open and usable:
     * {@code close()} throws and can be called again.
     *
     * @throws IllegalStateException if reads in flight on other threads outlast the wait (nothing released;
     *     retry)
     */
    @Override
    public void close() {
        close(CLOSE_WAIT);
    }

    /** {@link #close()} waiting at most {@code wait} for reads in flight. */
    void close(Duration wait) {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            if (arena != null) {
                release(arena, wait);
            }
            IllegalStateException failure = null;
            for (Checkpoint shard : shards) {
                try {
                    shard.close(wait); // a shard already closed by an earlier attempt returns at once
                } catch (IllegalStateException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            closed = true;
        }
    }

    /**
     * Closes {@code memory}, retrying while another thread holds it: a shared arena refuses to close while a
     * read is in flight, and a refused close leaves it open. Gives up after {@code wait}, or at once if
     * interrupted, with the arena still open.
     */
    private void release(Arena memory, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        long pause = 100_000; // 0.1 ms, doubling up to 10 ms
        while (true) {
            try {
                memory.close();
                return;
            } catch (IllegalStateException inUse) {
                if (System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted()) {
                    throw new IllegalStateException(source + ": cannot close while another thread is reading its"
                            + " memory (a write or copy of a tensor in progress); nothing was released and the"
                            + " checkpoint is still open, so close() can be called again", inUse);
                }
                LockSupport.parkNanos(pause);
                pause = Math.min(pause * 2, 10_000_000);
            }
        }
    }

    @Override
    public String toString() {
        return "Checkpoint[" + source + ", " + tensorCount + " tensors, " + (mapped ? "mapped" : "in memory") + "]";
    }
}
