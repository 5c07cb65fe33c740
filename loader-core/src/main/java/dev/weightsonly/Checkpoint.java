package dev.weightsonly;

import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.io.Sha256;
import dev.weightsonly.internal.io.StreamBytes;
import dev.weightsonly.internal.load.CheckpointReader;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 */
public final class Checkpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);

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

    /**
     * Loads a sharded Hugging Face checkpoint from its index ({@code pytorch_model.bin.index.json} or
     * {@code model.safetensors.index.json}) as one state dict: every shard is loaded (mapped) as a state dict,
     * and the root is an ordered dict of every tensor, in the index's order. Shard names are taken only as
     * plain file names in the index's folder; every tensor the index names must be in the shard it names, and
     * no tensor may be in two shards. Closing the result closes every shard.
     *
     * @throws MalformedCheckpointException if the index is malformed, a shard's root is not a state dict (a dict
     *     of str keys to tensors; the message names the shard file), a tensor is not where the index says, or
     *     is in two shards
     * @throws CheckpointException if a shard is refused as {@link #load(Path, LoadOptions)} refuses a file
     * @throws IOException if the index or a shard cannot be read
     */
    public static Checkpoint loadSharded(Path index, LoadOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        if (options.expectedSha256() != null) {
            // One digest names one file; every shard has its own (weightsonly verify --manifest checks them).
            throw new IllegalArgumentException("expectSha256 is one file's digest, and " + index + " names several"
                    + " shards: check them with their own digests (weightsonly verify --manifest SHA256SUMS)");
        }
        CheckpointException.Location where = CheckpointException.Location.of(index.toString());
        long size = Files.size(index);
        if (size > dev.weightsonly.internal.safetensors.ShardIndex.MAX_INDEX_BYTES) {
            throw where.limit("maxIndexBytes", dev.weightsonly.internal.safetensors.ShardIndex.MAX_INDEX_BYTES,
                    "a shard index of " + size + " bytes");
        }
        var parsed = dev.weightsonly.internal.safetensors.ShardIndex.parse(Files.readAllBytes(index), where);
        Path folder = index.toAbsolutePath().getParent();
        List<Checkpoint> loaded = new ArrayList<>();
        try {
            Map<String, StateDict> byShard = new LinkedHashMap<>();
            for (String shard : parsed.shards()) {
                Checkpoint c = load(folder.resolve(shard), options);
                loaded.add(c);
                try {
                    byShard.put(shard, c.stateDict());
                } catch (IllegalStateException notAStateDict) {
                    throw CheckpointException.Location.of(c.source()).malformed("shard " + shard + " of "
                            + index.getFileName() + " is not a state dict: " + notAStateDict.getMessage());
                }
            }
            PyDict.Builder all = PyDict.builder(PyDict.Kind.ORDERED_DICT);
            Map<String, String> owner = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : parsed.weightMap().entrySet()) {
                StateDict sd = byShard.get(e.getValue());
                if (!sd.contains(e.getKey())) {
                    throw where.malformed("the index puts tensor '" + e.getKey() + "' in " + e.getValue()
                            + ", which does not hold it");
                }
                all.put(e.getKey(), sd.tensor(e.getKey()));
                owner.put(e.getKey(), e.getValue());
            }
            for (Map.Entry<String, StateDict> shard : byShard.entrySet()) {
                for (Map.Entry<String, Tensor> t : shard.getValue().asMap().entrySet()) {
                    String first = owner.putIfAbsent(t.getKey(), shard.getKey());
                    if (first == null) {
                        all.put(t.getKey(), t.getValue()); // in a shard but not in the index: kept, not dropped
                    } else if (!first.equals(shard.getKey())) {
                        throw where.malformed("tensor '" + t.getKey() + "' is in both " + first + " and "
                                + shard.getKey());
                    }
                }
            }
            return new Checkpoint(index.toString(), all.build(), loaded, options.limits());
        } catch (IOException | RuntimeException | Error e) {
            loaded.forEach(Checkpoint::close);
            throw e;
        }
    }

    /** {@link #loadSharded(Path, LoadOptions)} with the default options. */
    public static Checkpoint loadSharded(Path index) throws IOException {
        return loadSharded(index, LoadOptions.defaults());
    }

    /** Loads {@code file} with the default options, mapping it (no tensor bytes copied). */
    public static Checkpoint load(Path file) throws IOException {
        return load(file, LoadOptions.defaults());
    }

    /**
     * Loads {@code file}, mapping it (no tensor bytes copied).
     *
     * @throws CheckpointException if the file is refused: {@link UnsafeCheckpointException},
     *     {@link MalformedCheckpointException}, {@link LimitExceededException} or
     *     {@link UnsupportedCheckpointException}, naming the file, the record and the offset
     * @throws IOException if the file system cannot give the file (missing, a directory, unreadable)
     */
    public static Checkpoint load(Path file, LoadOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        String source = file.toString();
        if (Files.isDirectory(file)) {
            // Mapping a directory fails with the system's "No such device", which names nothing.
            throw new java.nio.file.FileSystemException(source, null, "is a directory, not a checkpoint file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment bytes = size == 0
                    ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Sha256.check(source, bytes, options.expectedSha256());
            long start = System.nanoTime();
            CheckpointReader.Result result = CheckpointReader.read(source, bytes, size == 0 ? null : channel, options,
                    arena);
            LOG.debug("{}: {} tensors over {} storages, mapped, in {} us", source, result.tensorCount(),
                    result.storageCount(), (System.nanoTime() - start) / 1000);
            return new Checkpoint(source, result.root(), arena, true, result, options.limits());
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Loads a checkpoint from a stream, copying its bytes; {@code name} labels error messages. */
    public static Checkpoint load(InputStream in, String name) throws IOException {
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
     * only to its own copies. Any other stream is read into memory first, then read there.
     */
    public static Checkpoint load(InputStream in, String name, LoadOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        if (in.getClass() == FileInputStream.class) {
            Checkpoint copied = copyThroughMapping(((FileInputStream) in).getChannel(), name, options);
            if (copied != null) {
                return copied;
            }
        }
        // The bytes arrive in memory of an arena of their own, sized by the stream (see StreamBytes).
        StreamBytes.Read read = StreamBytes.readAll(in);
        try {
            Sha256.check(name, read.bytes(), options.expectedSha256());
            return fromMemory(name, read.bytes(), read.arena(), options);
        } catch (IOException | RuntimeException | Error e) {
            read.arena().close();
            throw e;
        }
    }

    /** Loads a checkpoint held in a byte array (copied, so later changes to the array do not matter). */
    public static Checkpoint load(byte[] bytes, String name) throws IOException {
        return load(bytes, name, LoadOptions.defaults());
    }

    /**
     * Loads a checkpoint held in a byte array. The storages are copied (a zip checkpoint's in parallel), so
     * later changes to the array do not matter.
     */
    public static Checkpoint load(byte[] bytes, String name, LoadOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        Sha256.check(Objects.requireNonNull(name, "name"), MemorySegment.ofArray(bytes), options.expectedSha256());
        Arena arena = Arena.ofShared();
        try {
            CheckpointReader.Result copied = CheckpointReader.readCopying(name,
                    MemorySegment.ofArray(bytes), options, arena);
            if (copied != null) {
                return new Checkpoint(name, copied.root(), arena, false, copied, options.limits());
            }
            // Memory the checkpoint owns, so that close() releases it and later reads fail cleanly.
            MemorySegment copy = arena.allocate(bytes.length, 64);
            MemorySegment.copy(bytes, 0, copy, ValueLayout.JAVA_BYTE, 0, bytes.length);
            return fromMemory(name, copy.asReadOnly(), arena, options);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A copying load of a zip checkpoint through a temporary mapping of {@code channel} from its position to
     * its end; null (with the channel where it was) if the channel cannot be mapped (a pipe) or holds another
     * format. On success the channel is left at its end, as reading the stream would leave it.
     */
    private static Checkpoint copyThroughMapping(FileChannel channel, String name, LoadOptions options)
            throws IOException {
        long position = channel.position();
        long size = channel.size();
        if (size - position < 4) {
            return null;
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
            Sha256.check(Objects.requireNonNull(name, "name"), bytes, options.expectedSha256());
            Arena arena = Arena.ofShared();
            try {
                CheckpointReader.Result copied = CheckpointReader.readCopying(name, bytes, options, arena);
                if (copied == null) {
                    arena.close();
                    return null;
                }
                channel.position(size);
                return new Checkpoint(name, copied.root(), arena, false, copied, options.limits());
            } catch (IOException | RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }
    }

    private static Checkpoint fromMemory(String name, MemorySegment bytes, Arena arena, LoadOptions options)
            throws CheckpointException {
        CheckpointReader.Result result = CheckpointReader.read(Objects.requireNonNull(name, "name"), bytes, options,
                arena);
        return new Checkpoint(name, result.root(), arena, false, result, options.limits());
    }

    /** The file or stream name this checkpoint came from. */
    public String source() {
        return source;
    }

    /** The object {@code torch.load} would return (the unpickled root), in its Java form. */
    public Object root() {
        return root;
    }

    /** True when the storages are slices of the mapped file (loaded from a path). */
    public boolean isMapped() {
        return mapped;
    }

    /** How many tensors the load rebuilt (a tensor saved twice by reference counts once). */
    public int tensorCount() {
        return tensorCount;
    }

    /** How many distinct storages the tensors view. */
    public int storageCount() {
        return storageCount;
    }

    /**
     * The root as a state dict: the root must be a dict whose keys are all strings and whose values are
     * all tensors, as {@code torch.save(model.state_dict())} writes it. Needs no tensor data, so it works
     * after {@link #close()} too (the tensors are then unreadable).
     *
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

    private static String keysOf(PyDict dict) {
        List<String> keys = dict.keySet().stream().limit(12).map(PyValues::shortRepr).toList();
        return String.join(", ", keys) + (dict.size() > 12 ? ", ..." : "");
    }

    /**
     * Every dense tensor in the checkpoint, by its dotted path from the root ({@code model.layer1.weight},
     * {@code optimizer.state.0.exp_avg}), in depth-first order. Dict keys and list indices form the path.
     * A container reached twice through shared references is listed once, under the first path. Sparse
     * tensors are not dense tensors and are listed by {@link #sparseTensors()} instead, under the same paths.
     */
    public Map<String, Tensor> tensors() {
        return walk(Tensor.class);
    }

    /**
     * Every sparse tensor (COO, CSR, CSC, BSR, BSC) in the checkpoint, by its dotted path from the root, as
     * {@link #tensors()} lists the dense ones: together the two maps hold every tensor of the checkpoint,
     * and no path is in both. A tool that compares or converts tensors must look at both maps, or two
     * checkpoints that differ only in a sparse tensor look the same.
     */
    public Map<String, SparseTensor> sparseTensors() {
        return walk(SparseTensor.class);
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
        LinkedHashMap<String, T> out = new LinkedHashMap<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> todo = new ArrayDeque<>();
        todo.push(new Node(null, "", root));
        while (!todo.isEmpty()) {
            Node node = todo.pop();
            Object value = node.value();
            if (kind.isInstance(value)) {
                out.putIfAbsent(node.path(), kind.cast(value));
                continue;
            }
            if (!(value instanceof PyDict || value instanceof PyList || value instanceof PyTuple
                    || value instanceof PySet || value instanceof PyObject) || !seen.add(value)) {
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
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The limits this checkpoint was loaded with (the dump and walks honour them too). */
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
