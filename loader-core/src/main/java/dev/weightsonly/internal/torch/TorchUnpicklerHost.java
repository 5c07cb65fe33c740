package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.globals.AllowedGlobal;
import dev.weightsonly.internal.globals.GlobalPolicy;
import dev.weightsonly.internal.globals.TorchAllowlist;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.PyCallable;
import dev.weightsonly.internal.pickle.PyClass;
import dev.weightsonly.internal.pickle.PyIteration;
import dev.weightsonly.internal.pickle.PyState;
import dev.weightsonly.internal.pickle.UnpicklerHost;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.InvalidViewException;
import dev.weightsonly.tensors.Quantizer;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.MetaTensor;
import dev.weightsonly.torch.QScheme;
import dev.weightsonly.torch.SparseTensor;
import dev.weightsonly.torch.TorchDevice;
import dev.weightsonly.torch.TorchLayout;
import dev.weightsonly.torch.TorchSize;
import dev.weightsonly.torch.TorchStorage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What torch's weights-only loader decides, for one load: globals through {@link TorchAllowlist} and the
 * caller's explicit allowances, storages through persistent ids (each key loaded once, so views share
 * it, and its size checked against what the id declares), and tensors through the rebuild functions with
 * every argument checked.
 */
public final class TorchUnpicklerHost implements UnpicklerHost {

    /**
     * What {@code torch.device} accepts: one of torch's device types, then an optional index without leading zeros
     * (torch keeps it in an int8 and wraps 128 to -128; weightsonly refuses indices past 127 instead).
     */
    private static final Pattern DEVICE = Pattern.compile("(cpu|cuda|ipu|xpu|mkldnn|opengl|opencl|ideep|hip|ve|fpga"
            + "|maia|xla|lazy|vulkan|mps|meta|hpu|mtia|privateuseone)(:(0|[1-9][0-9]?|1[01][0-9]|12[0-7]))?");
    private static final MemorySegment NO_BYTES = MemorySegment.ofArray(new byte[0]).asReadOnly();

    private final StorageSource source;
    private final Arena copies;
    private final boolean bigEndian;
    private final boolean torchScript;
    private final Set<String> allowedGlobals;
    private final LoadLimits limits;
    private final StorageCache storages;
    private final LegacyStorages legacyStorages = new LegacyStorages();
    // Identity: two fresh empty storages (torch's data-pointer-0 case) are equal records but distinct objects.
    private final Map<LegacyStorages.Entry, TorchStorage> legacyStorageObjects = new IdentityHashMap<>();
    private final Map<Integer, Storage> legacyRoots = new HashMap<>();
    private final EnumMap<TorchFunction, BoundFunction> functions = new EnumMap<>(TorchFunction.class);
    private final Set<String> usedAllowedGlobals = new LinkedHashSet<>();
    private int tensors;
    private long checkedIndices;

    /**
     * @param records        the storage records of a zip archive
     * @param bigEndian      whether the archive's {@code byteorder} record says {@code big}
     * @param allowedGlobals qualified names the caller allowed beyond the default allowlist
     */
    public TorchUnpicklerHost(StorageRecords records, boolean bigEndian, Set<String> allowedGlobals, LoadLimits limits) {
        this(new StorageSource.ZipRecords(records), bigEndian, allowedGlobals, limits);
    }

    public TorchUnpicklerHost(StorageSource source, boolean bigEndian, Set<String> allowedGlobals, LoadLimits limits) {
        this(source, bigEndian, allowedGlobals, limits, false);
    }

    /**
     * @param torchScript read a TorchScript archive's pickles: {@code __torch__.*} module classes load as inert
     *                    objects and TorchScript's typed-container helpers are allowed, as data only
     */
    public TorchUnpicklerHost(StorageSource source, boolean bigEndian, Set<String> allowedGlobals, LoadLimits limits,
            boolean torchScript) {
        this(source, bigEndian, allowedGlobals, limits, torchScript, null);
    }

    /**
     * @param copies the memory that byte-swapped storages are copied into (a checkpoint's arena, so that they
     *               are released and unreadable after its {@code close()} like every other storage); null for
     *               memory managed by the garbage collector
     */
    public TorchUnpicklerHost(StorageSource source, boolean bigEndian, Set<String> allowedGlobals, LoadLimits limits,
            boolean torchScript, Arena copies) {
        this.copies = copies;
        this.source = source;
        this.storages = new StorageCache(source instanceof StorageSource.ZipRecords zip ? zip.recordCount() : 0);
        this.bigEndian = bigEndian;
        this.torchScript = torchScript;
        this.allowedGlobals = Set.copyOf(allowedGlobals);
        this.limits = limits;
    }

    private boolean dryRun() {
        return source instanceof StorageSource.LegacyDeclarations;
    }

    /** How many tensors this load rebuilt. */
    public int tensorCount() {
        return tensors;
    }

    /** How many distinct storages this load resolved. */
    public int storageCount() {
        return storages.size() + legacyStorageObjects.size();
    }

    /** The legacy stream's dictionary of storages, as this load's persistent ids filled it. */
    public LegacyStorages legacyStorages() {
        return legacyStorages;
    }

    /** The caller-allowed globals this load met, in order of first use. */
    public Set<String> usedAllowedGlobals() {
        return Collections.unmodifiableSet(usedAllowedGlobals);
    }

    // ---- globals --------------------------------------------------------------------------------------

    @Override
    public Object resolveGlobal(String module, String name, CallSite site) throws CheckpointException {
        String full = module + "." + name;
        switch (GlobalPolicy.decide(full, allowedGlobals::contains)) {
            case ALLOWED_BY_DEFAULT -> {
                Object entry = TorchAllowlist.lookup(full).orElseThrow();
                return entry instanceof TorchFunction f ? functions.computeIfAbsent(f, BoundFunction::new) : entry;
            }
            case ALLOWED_BY_USER -> {
                usedAllowedGlobals.add(full);
                return new AllowedGlobal(full);
            }
            case NEEDS_ALLOWLISTING, DANGEROUS -> {
                // refused below, unless a TorchScript archive's own names widen the policy for this load
            }
        }
        if (torchScript && full.startsWith("__torch__.")) {
            return new AllowedGlobal(full); // a compiled module's class: its objects stay inert records
        }
        if (torchScript && module.equals(TorchScriptHelper.MODULE) && TorchScriptHelper.byName(name) != null) {
            return TorchScriptHelper.byName(name);
        }
        throw GlobalPolicy.refusal(site.where(), module, name);
    }

    @Override
    public void build(Object target, Object state, CallSite site) throws CheckpointException {
        switch (target) {
            // allowed classes whose objects have no __dict__: a false state changes nothing, as in torch
            case TorchSize _, TorchDevice _ -> PyState.buildWithoutDict(target, state, site);
            // torch calls Tensor.set_(*state) (the form of pickles older than PyTorch 1.0), or sets attributes of
            // a storage: the CVE-2026-24747 rule, mutation only of the containers the unpickler made
            case Tensor _, SparseTensor _, MetaTensor _ -> throw site.unsupported("Can only BUILD an OrderedDict, a"
                    + " Counter or an object of a caller-allowed class, not a tensor (torch would call Tensor.set_"
                    + " with the state, the form of pickles older than PyTorch 1.0)");
            case TorchStorage _ -> throw site.unsafe("Can only BUILD an OrderedDict, a Counter or an object of a"
                    + " caller-allowed class, not a storage (torch would set attributes of it)");
            default -> throw site.unsafe("Can only build Tensor, Parameter, OrderedDict or types allowlisted via"
                    + " `add_safe_globals`, but got " + PyValues.typeName(target));
        }
    }

    // ---- storages -------------------------------------------------------------------------------------

    /**
     * The host of a pickle that holds plain data (the legacy stream's magic number, protocol version, sys_info and
     * storage keys): the default allowlist and the caller's allowed globals as in any pickle, no persistent id.
     *
     * @param allowedGlobals qualified names the caller allowed beyond the default allowlist
     * @param limits         the limits of this load
     * @return a host for one such pickle (or several of one file)
     */
    public static TorchUnpicklerHost plainData(Set<String> allowedGlobals, LoadLimits limits) {
        return new TorchUnpicklerHost(new StorageSource.PlainData(), false, allowedGlobals, limits);
    }

    @Override
    public Object persistentLoad(Object pid, CallSite site) throws CheckpointException {
        if (source instanceof StorageSource.PlainData) {
            throw site.malformed("a persistent id in a pickle that holds only plain data (torch: unsupported"
                    + " persistent id encountered)");
        }
        if (source instanceof StorageSource.TarObjects tar) {
            return tarObject(tar, pid, site);
        }
        PyTuple id = switch (pid) {
            case PyTuple t -> t;
            case String text -> TextPersistentId.parse(text, this, site);
            // torch's unpickler lets an int through, then _load.persistent_load asserts a tuple.
            case Long n -> throw site.malformed("persistent id " + n + " is an int, but a zip checkpoint's"
                    + " persistent ids are tuples ('storage', type, key, location, numel)");
            case BigInteger n -> throw site.malformed("persistent id is an int, but a zip checkpoint's"
                    + " persistent ids are tuples ('storage', type, key, location, numel)");
            default -> throw site.malformed("persistent_load id must be tuple or int, but got "
                    + PyValues.typeName(pid) + "; torch.save writes ('storage', type, key, location, numel)");
        };
        if (id.size() == 0) {
            throw site.malformed("empty persistent id");
        }
        String typename = asciiText(id.get(0));
        if (!"storage".equals(typename)) {
            throw site.unsafe("Only persistent_load of storage is allowed, but got " + PyValues.shortRepr(id.get(0)));
        }
        boolean legacy = !(source instanceof StorageSource.ZipRecords);
        int expected = legacy ? 6 : 5;
        if (id.size() != expected) {
            throw site.malformed("a storage id in the " + (legacy ? "legacy stream" : "zip format") + " has "
                    + expected + " fields ('storage', type, key, location, numel" + (legacy ? ", view" : "")
                    + "), got " + id.size());
        }
        if (!(id.get(1) instanceof StorageType type)) {
            throw site.malformed("storage type must be a torch storage class, got " + PyValues.shortRepr(id.get(1)));
        }
        if (!(id.get(2) instanceof String key)) {
            throw site.malformed("storage key must be str, got " + PyValues.typeName(id.get(2)));
        }
        String location = asciiText(id.get(3));
        if (location == null) {
            throw site.malformed("storage location must be str, got " + PyValues.typeName(id.get(3)));
        }
        long numel = nonNegative(id.get(4), "storage numel", site);
        long nbytes;
        try {
            nbytes = Math.multiplyExact(numel, (long) type.dtype().elementSize());
        } catch (ArithmeticException e) {
            throw site.malformed("storage '" + key + "' declares " + numel + " elements of " + type.dtype()
                    + ", more bytes than a file can hold");
        }
        if (source instanceof StorageSource.ZipRecords zip) {
            // As torch's _load: a key loaded before is that storage, whatever a later id declares for it; but an
            // empty storage is not kept (torch caches only a storage whose data pointer is not null), so each id
            // of an empty record makes a storage of its own, of the dtype that id declares.
            TorchStorage cached = storages.get(key);
            return cached != null ? cached : rootStorage(zip, key,
                    type, numel, location, nbytes, site);
        }
        if (type.untyped()) {
            // _legacy_load reads storage_type.dtype, which torch.storage.UntypedStorage does not have.
            throw site.malformed("a legacy storage id names " + type.qualifiedName() + ", which has no dtype; the"
                    + " legacy stream holds typed storages only");
        }
        LegacyStorages.Entry root = legacyStorages.root(key, type.dtype(), location, nbytes);
        Object view = id.get(5);
        return legacyStorage(view instanceof PyNone ? root : legacyStorages.view(root, view, type.dtype(), site), site);
    }

    /**
     * The storage of one entry of the legacy stream's dictionary, one object per entry: the root allocation's
     * storage itself when the entry spans all of it, else a slice of it (so that storages starting at one
     * address are one storage to the canonical dump, as to PyTorch's printer).
     */
    private TorchStorage legacyStorage(LegacyStorages.Entry entry, CallSite site) throws CheckpointException {
        TorchStorage cached = legacyStorageObjects.get(entry);
        if (cached != null) {
            return cached;
        }
        Storage storage;
        if (source instanceof StorageSource.LegacyBlocks blocks) {
            LegacyStorages.Root root = entry.root();
            // The second pass replays the first, so it creates the same roots in the same order.
            if (root.index() >= blocks.roots().size()) {
                throw site.malformed("the object pickle names storage '" + root.key() + "' only on its second"
                        + " reading");
            }
            Storage whole = legacyRoots.computeIfAbsent(root.index(), i -> Storage.of(blocks.roots().get(i),
                    root.key(), entry.location(), limits.maxMaterializedBytes()));
            storage = entry.start() == 0 && entry.length() == whole.byteSize() ? whole
                    : Storage.slice(whole, entry.start(), entry.length(), entry.key());
        } else {
            storage = Storage.of(NO_BYTES, entry.key(), entry.location()); // the first pass: declarations only
        }
        TorchStorage typed = new TorchStorage(storage, entry.dtype(), false);
        legacyStorageObjects.put(entry, typed);
        return typed;
    }

    /** The storage of a key not loaded before: {@code numel} elements of {@code type}, saved at {@code location}. */
    private TorchStorage rootStorage(StorageSource.ZipRecords zip, String key, StorageType type, long numel,
            String location, long nbytes, CallSite site) throws CheckpointException {
        DType dtype = type.dtype();
        MemorySegment bytes = zip.records().storageBytes(key, site);
        if (bytes.byteSize() != nbytes) {
            // The CVE-2026-24747 rule: a record must hold exactly what its id declares.
            throw site.malformed("record size (" + bytes.byteSize() + " bytes) does not match expected size ("
                    + nbytes + " bytes = " + numel + " elements * " + dtype.elementSize()
                    + " bytes/element) for dtype " + dtype + " of storage '" + key + "'");
        }
        // torch swaps typed storages of a big-endian file and leaves untyped (v3) ones as they are.
        if (bigEndian && !type.untyped() && dtype.elementSize() > 1) {
            bytes = ByteSwap.toLittleEndian(bytes, dtype, copies);
        }
        TorchStorage storage = new TorchStorage(Storage.of(bytes, key, location, limits.maxMaterializedBytes()), dtype,
                type.untyped());
        if (nbytes > 0) {
            storages.put(key, storage);
        }
        return storage;
    }

    /** A 0.1.x tar checkpoint's object by key; its {@code ('module', ...)} ids would load source code. */
    private static Object tarObject(StorageSource.TarObjects tar, Object pid, CallSite site) throws CheckpointException {
        if (pid instanceof PyTuple t) {
            throw site.unsafe("Only persistent_load of storage is allowed, but got a whole-module persistent id ("
                    + (t.size() > 0 ? PyValues.shortRepr(t.get(0)) : "empty") + "): module source is never loaded");
        }
        String key = LegacyTarReader.key(pid, site.where());
        Object value = tar.objects().get(key);
        if (value == null) {
            try {
                value = tar.objects().get(Long.toString(Long.parseLong(key.strip())));
            } catch (NumberFormatException e) {
                value = null;
            }
        }
        if (value == null) {
            throw site.malformed("persistent id '" + PyValues.shortRepr(key) + "' names no storage or tensor of the"
                    + " checkpoint");
        }
        return value;
    }

    private static String asciiText(Object value) {
        return switch (value) {
            case String s -> s;
            case PyBytes b -> {
                byte[] raw = b.toByteArray();
                for (byte x : raw) {
                    if (x < 0) {
                        yield null;
                    }
                }
                yield new String(raw, StandardCharsets.US_ASCII);
            }
            default -> null;
        };
    }

    Object resolveForText(String qualifiedName, CallSite site) throws CheckpointException {
        int dot = qualifiedName.lastIndexOf('.');
        if (dot <= 0) {
            throw site.malformed("storage class '" + PyValues.shortRepr(qualifiedName) + "' has no module");
        }
        return resolveGlobal(qualifiedName.substring(0, dot), qualifiedName.substring(dot + 1), site);
    }

    // ---- argument checks ------------------------------------------------------------------------------

    static long nonNegative(Object value, String what, CallSite site) throws CheckpointException {
        if (value instanceof Long l && l >= 0) {
            return l;
        }
        if (value instanceof BigInteger) {
            throw site.malformed(what + " " + value + " is too large");
        }
        throw site.malformed(what + " must be a non-negative int, got " + PyValues.shortRepr(value));
    }

    static long[] longs(Object value, String what, CallSite site) throws CheckpointException {
        if (value instanceof PyTuple t) {
            // every tensor's size and stride: read in place, no copy of the items
            long[] out = new long[t.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = longItem(t.get(i), what, i, site);
            }
            return out;
        }
        Object[] items = switch (value) {
            case PyList l -> l.toArray();
            case TorchSize s -> {
                long[] d = s.dims();
                Object[] o = new Object[d.length];
                for (int i = 0; i < d.length; i++) {
                    o[i] = d[i];
                }
                yield o;
            }
            default -> throw site.malformed(what + " must be a tuple of ints, got " + PyValues.typeName(value));
        };
        long[] out = new long[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = longItem(items[i], what, i, site);
        }
        return out;
    }

    private static long longItem(Object item, String what, int index, CallSite site) throws CheckpointException {
        if (!(item instanceof Long l)) {
            throw site.malformed(what + " must hold ints, got " + PyValues.shortRepr(item) + " at index " + index);
        }
        return l;
    }

    private static boolean bool(Object value, String what, CallSite site) throws CheckpointException {
        if (value instanceof Boolean b) {
            return b;
        }
        throw site.malformed(what + " must be a bool, got " + PyValues.typeName(value));
    }

    private static boolean isEmptyState(Object state) {
        return switch (state) {
            case PyNone n -> true;
            case PyDict d -> d.isEmpty();
            case PyTuple t -> t.size() == 2 && isEmptyState(t.get(0)) && isEmptyState(t.get(1));
            default -> false;
        };
    }

    private static void requireArgs(PyTuple args, int min, int max, String function, CallSite site)
            throws CheckpointException {
        if (args.size() < min || args.size() > max) {
            throw site.malformed(function + " takes " + (min == max ? min : min + " to " + max)
                    + " arguments, got " + args.size());
        }
    }

    // ---- rebuilds -------------------------------------------------------------------------------------

    /** A view over a storage, with every geometry argument checked; the common part of every rebuild. */
    private Tensor view(TorchStorage storage, DType dtype, Object offsetArg, Object sizeArg, Object strideArg,
            CallSite site) throws CheckpointException {
        return view(storage, dtype, offsetArg, sizeArg, strideArg, true, site);
    }

    /**
     * {@code emptyStrideIsContiguous}: whether an empty stride tuple lays the view out contiguously, as a plain
     * tensor's {@code set_} does; a quantized tensor's {@code set_} requires as many strides as sizes
     * ("dimensionality of sizes (1) must match dimensionality of strides (0)", found by differential fuzzing).
     */
    private Tensor view(TorchStorage storage, DType dtype, Object offsetArg, Object sizeArg, Object strideArg,
            boolean emptyStrideIsContiguous, CallSite site) throws CheckpointException {
        long offset = nonNegative(offsetArg, "storage_offset", site);
        long[] shape = longs(sizeArg, "size", site);
        long[] strides = longs(strideArg, "stride", site);
        if (strides.length == 0 && shape.length > 0 && emptyStrideIsContiguous) {
            strides = contiguousStrides(shape, site);
        }
        if (++tensors > limits.maxTensors()) {
            throw site.limit("maxTensors", limits.maxTensors(), "more than " + limits.maxTensors() + " tensors");
        }
        if (dryRun()) {
            // The legacy stream's first pass only learns what storages are declared.
            return Tensor.of(storage.storage(), dtype, 0, new long[] {0}, new long[] {1});
        }
        Tensor tensor;
        try {
            tensor = Tensor.of(storage.storage(), dtype, offset, shape, strides);
        } catch (InvalidViewException e) {
            throw site.malformed(e.getMessage());
        }
        if (tensor.numel() > limits.maxTensorElements()) {
            throw site.limit("maxTensorElements", limits.maxTensorElements(),
                    "a view of " + tensor.numel() + " elements");
        }
        return tensor;
    }

    /**
     * The strides torch gives a view saved with an empty stride tuple: its {@code set_} passes no stride when the
     * list is empty and lays the view out contiguously, {@code stride[i] = stride[i + 1] * max(size[i + 1], 1)}
     * (found by differential fuzzing: loader-core/src/test/resources/difffuzz).
     */
    private static long[] contiguousStrides(long[] shape, CallSite site) throws CheckpointException {
        long[] strides = new long[shape.length];
        long stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            try {
                stride = Math.multiplyExact(stride, Math.max(shape[i], 1));
            } catch (ArithmeticException e) {
                throw site.malformed("the contiguous strides of shape " + Arrays.toString(shape)
                        + " overflow a 64-bit integer");
            }
        }
        return strides;
    }

    private Tensor rebuildTensor(PyTuple args, int dtypeIndex, int metadataIndex, String function, CallSite site)
            throws CheckpointException {
        if (!(args.get(0) instanceof TorchStorage storage)) {
            throw site.malformed(function + " expects a storage, got " + PyValues.typeName(args.get(0)));
        }
        DType dtype = storage.dtype();
        if (dtypeIndex >= 0) {
            if (!(args.get(dtypeIndex) instanceof DType d)) {
                throw site.malformed(function + " expects a dtype, got " + PyValues.typeName(args.get(dtypeIndex)));
            }
            dtype = d;
        }
        if (dtype.kind() == DType.Kind.QUANTIZED) {
            throw site.malformed(function + " of a quantized storage (" + dtype + "); quantized tensors are saved"
                    + " with _rebuild_qtensor");
        }
        if (dtype.kind() == DType.Kind.INT && dtype.valueBits() < 8 * dtype.elementSize()) {
            // uint1..7 and int1..7 are dtype values only (README): torch.save writes no plain tensor of them (nor
            // does TorchWriter), and torch 2.6's weights-only loader refuses their names, so a rebuild of one is
            // a forged file, not a checkpoint to read (difffuzz placeholder_dtype_tensor.pt)
            throw site.malformed(function + " of a tensor of dtype " + dtype + ": a placeholder dtype for tensor"
                    + " subclasses, which torch.save never writes as a plain tensor");
        }
        Tensor tensor = view(storage, dtype, args.get(1), args.get(2), args.get(3), site);
        if (args.size() > 4) {
            boolean requiresGrad = gradable(dtype, bool(args.get(4), "requires_grad", site), site);
            if (requiresGrad && dtypeIndex >= 0) {
                // torch 2.6's _rebuild_tensor_v3 makes an empty leaf that requires grad, then set_()s it in place
                throw site.malformed(function + " of a tensor that requires grad: torch fails on it (a leaf"
                        + " Variable that requires grad is being used in an in-place operation)");
            }
            tensor = tensor.withRequiresGrad(requiresGrad);
        }
        if (args.size() > 5) {
            requireNoHooks(args.get(5), site);
        }
        if (metadataIndex >= 0 && args.size() > metadataIndex) {
            tensor = applyMetadata(tensor, args.get(metadataIndex), site);
        }
        return tensor;
    }

    /**
     * {@code requiresGrad}, after torch's rule that only floating-point and complex tensors can require
     * gradients: torch refuses to rebuild any other tensor saved with requires_grad (found by differential
     * fuzzing: loader-core/src/test/resources/difffuzz).
     */
    private static boolean gradable(DType dtype, boolean requiresGrad, CallSite site) throws CheckpointException {
        if (requiresGrad && dtype.kind() != DType.Kind.FLOAT && dtype.kind() != DType.Kind.COMPLEX) {
            throw site.malformed("only Tensors of floating point and complex dtype can require gradients (a "
                    + dtype + " tensor saved with requires_grad=True)");
        }
        return requiresGrad;
    }

    private static void requireNoHooks(Object hooks, CallSite site) throws CheckpointException {
        if (hooks instanceof PyDict d && d.isEmpty() || hooks instanceof PyNone) {
            return;
        }
        throw site.unsupported("backward hooks saved with a tensor (" + PyValues.typeName(hooks)
                + "): hooks are code and are never restored");
    }

    private Tensor applyMetadata(Tensor tensor, Object metadata, CallSite site) throws CheckpointException {
        if (metadata instanceof PyNone) {
            return tensor;
        }
        if (!(metadata instanceof PyDict dict)) {
            throw site.malformed("tensor metadata must be a dict, got " + PyValues.typeName(metadata));
        }
        Tensor t = tensor;
        for (Map.Entry<Object, Object> e : dict.entrySet()) {
            // torch 2.6's _set_tensor_metadata sets the bit whenever its key is present, whatever the value
            // ({'conj': False} gives a conjugate view: checked with PyTorch 2.6, difffuzz conj_metadata_false.pt);
            // the value must still be a bool, as torch.save writes it.
            boolean value = bool(e.getValue(), "tensor metadata '" + e.getKey() + "'", site);
            try {
                if ("conj".equals(e.getKey())) {
                    // A real tensor's conjugate is itself: {'conj': False} on one changes no value, and a view here
                    // carries the bit on complex dtypes only ({'conj': True} on a real dtype is refused as before).
                    if (value || t.dtype().kind() == DType.Kind.COMPLEX) {
                        t = t.withConj(true);
                    }
                } else if ("neg".equals(e.getKey())) {
                    t = t.withNeg(true);
                } else {
                    throw site.unsupported("tensor metadata key " + PyValues.shortRepr(e.getKey())
                            + " (known keys: conj, neg)");
                }
            } catch (IllegalArgumentException ex) {
                throw site.malformed(ex.getMessage());
            }
        }
        return t;
    }

    /** {@code nn.Parameter(None, requires_grad)}: {@code torch.empty(0)}, an empty float32 tensor. */
    private static Tensor emptyParameter(boolean requiresGrad) {
        return Tensor.of(Storage.of(NO_BYTES, "", "cpu"), DType.FLOAT32, 0, new long[] {0}, new long[] {1})
                .withRequiresGrad(requiresGrad);
    }

    /** {@code _rebuild_qtensor(storage, offset, size, stride, quantizer_params, requires_grad, hooks)}. */
    private Tensor rebuildQuantized(PyTuple args, CallSite site) throws CheckpointException {
        requireArgs(args, 7, 7, "_rebuild_qtensor", site);
        if (!(args.get(0) instanceof TorchStorage storage) || storage.dtype().kind() != DType.Kind.QUANTIZED) {
            throw site.malformed("_rebuild_qtensor expects a quantized storage, got " + describe(args.get(0)));
        }
        if (args.get(1) instanceof Long offset && offset < 0) {
            // torch 2.6's set_ of a quantized tensor takes a negative offset and reads before the storage
            throw site.malformed("storage offset " + offset + " is negative: the quantized view would start before"
                    + " its storage, and a view must lie inside its storage");
        }
        Tensor tensor = view(storage, storage.dtype(), args.get(1), args.get(2), args.get(3), false, site);
        if (!(args.get(4) instanceof PyTuple params) || params.size() == 0 || !(params.get(0) instanceof QScheme scheme)) {
            throw site.malformed("quantizer parameters must be (qscheme, ...), got " + PyValues.shortRepr(args.get(4)));
        }
        tensor = tensor.withRequiresGrad(gradable(storage.dtype(), bool(args.get(5), "requires_grad", site), site));
        requireNoHooks(args.get(6), site);
        if (dryRun()) {
            return tensor;
        }
        Quantizer quantizer = switch (scheme) {
            case PER_TENSOR_AFFINE -> {
                if (params.size() != 3) {
                    throw site.malformed("per_tensor_affine takes (qscheme, scale, zero_point), got "
                            + params.size() + " items");
                }
                yield new Quantizer.PerTensorAffine(real(params.get(1), "scale", site),
                        integer(params.get(2), "zero_point", site));
            }
            case PER_CHANNEL_AFFINE, PER_CHANNEL_AFFINE_FLOAT_QPARAMS ->
                    QuantizerParams.perChannel(scheme, params, tensor, site);
            default -> throw site.unsupported("Can't deserialize quantized tensor with qscheme " + scheme);
        };
        try {
            return tensor.withQuantizer(quantizer);
        } catch (IllegalArgumentException e) {
            throw site.malformed(e.getMessage());
        }
    }

    private static double real(Object v, String what, CallSite site) throws CheckpointException {
        return switch (v) {
            case Double d -> d;
            case Long l -> l.doubleValue();
            default -> throw site.malformed(what + " must be a float, got " + PyValues.typeName(v));
        };
    }

    private static long integer(Object v, String what, CallSite site) throws CheckpointException {
        if (v instanceof Long l) {
            return l;
        }
        throw site.malformed(what + " must be an int, got " + PyValues.shortRepr(v));
    }

    private static String describe(Object v) {
        return v instanceof TorchStorage s ? "a " + s.dtype() + " storage" : PyValues.typeName(v);
    }

    /**
     * {@code _rebuild_sparse_tensor(layout, data)} (and 1.13's {@code _rebuild_sparse_csr_tensor}, the same
     * arguments), every index checked against the shape.
     */
    private Object rebuildSparse(PyTuple args, String function, CallSite site) throws CheckpointException {
        requireArgs(args, 2, 2, function, site);
        if (!(args.get(0) instanceof TorchLayout layout) || layout == TorchLayout.STRIDED) {
            throw site.malformed(function + " expects a sparse layout, got " + PyValues.shortRepr(args.get(0)));
        }
        if (!(args.get(1) instanceof PyTuple data)) {
            throw site.malformed(function + " data must be a tuple, got " + PyValues.typeName(args.get(1)));
        }
        if (dryRun()) {
            return PyNone.NONE;
        }
        // Every index is read to check it, and the same index tensors can be passed again and again: what is
        // read counts against maxObjects, as the work of every call does. (Indices must be stored, so at most
        // the storage's elements are read; an expanded view is refused by SparseChecks.)
        int indexParts = layout == TorchLayout.SPARSE_COO ? 1 : 2;
        for (int i = 0; i < Math.min(indexParts, data.size()); i++) {
            if (data.get(i) instanceof Tensor t) {
                checkedIndices += Math.min(t.numel(), t.storage().byteSize() / t.dtype().elementSize());
                if (checkedIndices > limits.maxObjects()) {
                    throw site.limit("maxObjects", limits.maxObjects(), "sparse tensors with more than "
                            + limits.maxObjects() + " indices to check in all");
                }
            }
        }
        try {
            return switch (layout) {
                case SPARSE_COO -> SparseChecks.coo(data, site);
                case SPARSE_CSR, SPARSE_CSC, SPARSE_BSR, SPARSE_BSC -> SparseChecks.compressed(layout, data, site);
                default -> throw site.unsupported("a sparse tensor of layout " + layout);
            };
        } catch (IllegalStateException | ArithmeticException e) {
            throw site.malformed("sparse tensor: " + e.getMessage());
        }
    }

    private Object call(TorchFunction function, PyTuple args, CallSite site) throws CheckpointException {
        switch (function) {
            case REBUILD_TENSOR -> {
                requireArgs(args, 4, 4, "_rebuild_tensor", site);
                return rebuildTensor(args, -1, -1, "_rebuild_tensor", site);
            }
            case REBUILD_TENSOR_V2 -> {
                requireArgs(args, 6, 7, "_rebuild_tensor_v2", site);
                return rebuildTensor(args, -1, 6, "_rebuild_tensor_v2", site);
            }
            case REBUILD_TENSOR_V3 -> {
                requireArgs(args, 7, 8, "_rebuild_tensor_v3", site);
                return rebuildTensor(args, 6, 7, "_rebuild_tensor_v3", site);
            }
            case REBUILD_QTENSOR -> {
                return rebuildQuantized(args, site);
            }
            case REBUILD_SPARSE_TENSOR -> {
                return rebuildSparse(args, "_rebuild_sparse_tensor", site);
            }
            case REBUILD_SPARSE_CSR_TENSOR -> {
                // 1.13: `if layout == torch.sparse_csr: ...; raise NotImplementedError(...)`.
                requireArgs(args, 2, 2, "_rebuild_sparse_csr_tensor", site);
                if (args.get(0) != TorchLayout.SPARSE_CSR) {
                    throw site.unsupported("_rebuild_sparse_csr_tensor rebuilds only torch.sparse_csr, got "
                            + PyValues.shortRepr(args.get(0)));
                }
                return rebuildSparse(args, "_rebuild_sparse_csr_tensor", site);
            }
            case REBUILD_META_TENSOR_NO_STORAGE -> {
                requireArgs(args, 4, 4, "_rebuild_meta_tensor_no_storage", site);
                if (!(args.get(0) instanceof DType dtype)) {
                    throw site.malformed("_rebuild_meta_tensor_no_storage expects a dtype, got "
                            + PyValues.typeName(args.get(0)));
                }
                long[] shape = longs(args.get(1), "size", site);
                long[] strides = longs(args.get(2), "stride", site);
                if (shape.length != strides.length) {
                    throw site.malformed("meta tensor size and stride differ in rank");
                }
                for (int i = 0; i < shape.length; i++) {
                    if (shape[i] < 0 || strides[i] < 0) {
                        throw site.malformed("meta tensor with a negative size or stride");
                    }
                }
                return new MetaTensor(dtype, shape, strides, gradable(dtype, bool(args.get(3), "requires_grad", site),
                        site));
            }
            case REBUILD_DEVICE_TENSOR_FROM_CPU_TENSOR -> {
                requireArgs(args, 4, 4, "_rebuild_device_tensor_from_cpu_tensor", site);
                if (!(args.get(0) instanceof Tensor data) || !(args.get(1) instanceof DType dtype)
                        || !(args.get(2) instanceof String)) {
                    throw site.malformed("_rebuild_device_tensor_from_cpu_tensor expects (tensor, dtype, device,"
                            + " requires_grad)");
                }
                if (!dryRun() && dtype != data.dtype()) {
                    throw site.unsupported("a device tensor saved as " + data.dtype() + " but cast to " + dtype);
                }
                // Everything loads to the host; the CPU copy torch saved is the data.
                return data.withRequiresGrad(gradable(dtype, bool(args.get(3), "requires_grad", site), site));
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                boolean withState = function == TorchFunction.REBUILD_PARAMETER_WITH_STATE;
                String name = withState ? "_rebuild_parameter_with_state" : "_rebuild_parameter";
                requireArgs(args, withState ? 4 : 3, withState ? 4 : 3, name, site);
                if (!(args.get(0) instanceof Tensor) && !(args.get(0) instanceof MetaTensor)
                        && !(args.get(0) instanceof SparseTensor) && !(args.get(0) instanceof PyNone)) {
                    throw site.malformed(name + " expects a tensor, got " + PyValues.typeName(args.get(0)));
                }
                requireNoHooks(args.get(2), site);
                if (withState && !isEmptyState(args.get(3))) {
                    throw site.unsupported("a Parameter with Python attributes (_rebuild_parameter_with_state with"
                            + " a non-empty state)");
                }
                boolean requiresGrad = bool(args.get(1), "requires_grad", site);
                // torch 2.x saves a Parameter of a meta tensor (a module built with device="meta") the same way
                if (args.get(0) instanceof MetaTensor m) {
                    return new MetaTensor(m.dtype(), m.shape(), m.strides(), gradable(m.dtype(), requiresGrad, site));
                }
                if (args.get(0) instanceof SparseTensor sparse) {
                    // nn.Parameter(sparse): torch 2.6 wraps sparse tensors too (state dicts of sparse embeddings)
                    return sparse.withRequiresGrad(gradable(sparse.values().dtype(), requiresGrad, site));
                }
                if (args.get(0) instanceof PyNone) {
                    return emptyParameter(requiresGrad); // nn.Parameter(None, requires_grad), as below
                }
                Tensor data = (Tensor) args.get(0);
                return data.withRequiresGrad(gradable(data.dtype(), requiresGrad, site));
            }
            case PARAMETER -> {
                // Parameter(data=None, requires_grad=True), as NEWOBJ or REDUCE of the class. Without data (or with
                // None) it is torch.empty(0): an empty float32 tensor (found by differential fuzzing).
                requireArgs(args, 0, 2, "Parameter", site);
                boolean requiresGrad = args.size() < 2 || bool(args.get(1), "requires_grad", site);
                if (args.size() == 0 || args.get(0) instanceof PyNone) {
                    return emptyParameter(requiresGrad);
                }
                if (args.get(0) instanceof SparseTensor sparse) {
                    return sparse.withRequiresGrad(gradable(sparse.values().dtype(), requiresGrad, site));
                }
                if (!(args.get(0) instanceof Tensor data)) {
                    throw site.malformed("Parameter expects a tensor, got " + PyValues.typeName(args.get(0)));
                }
                return data.withRequiresGrad(gradable(data.dtype(), requiresGrad, site));
            }
            case REBUILD_FROM_TYPE_V2 -> {
                requireArgs(args, 4, 4, "_rebuild_from_type_v2", site);
                if (!(args.get(0) instanceof PyCallable inner)) {
                    throw site.unsafe("_rebuild_from_type_v2 of something that is not an allowed function: "
                            + PyValues.shortRepr(args.get(0)));
                }
                String type = args.get(1) instanceof TorchClass c ? c.qualifiedName()
                        : args.get(1) instanceof BoundFunction b && b.function == TorchFunction.PARAMETER
                        ? "torch.nn.parameter.Parameter" : null;
                if (!"torch.Tensor".equals(type) && !"torch.nn.parameter.Parameter".equals(type)) {
                    throw site.unsupported("a tensor subclass (" + PyValues.shortRepr(args.get(1))
                            + "): only torch.Tensor and Parameter are rebuilt");
                }
                if (!(args.get(2) instanceof PyTuple innerArgs)) {
                    throw site.malformed("_rebuild_from_type_v2 arguments must be a tuple");
                }
                if (!isEmptyState(args.get(3))) {
                    throw site.unsupported("a tensor with Python attributes (_rebuild_from_type_v2 with a"
                            + " non-empty state)");
                }
                Object result = inner.call(innerArgs, site);
                if (!(result instanceof Tensor)) {
                    throw site.malformed("_rebuild_from_type_v2 built " + PyValues.typeName(result) + ", not a tensor");
                }
                return result;
            }
            case GET_LAYOUT -> {
                requireArgs(args, 1, 1, "_get_layout", site);
                if (args.get(0) instanceof String name) {
                    var layout = TorchLayout.fromTorchName(name);
                    if (layout.isPresent()) {
                        return layout.get();
                    }
                }
                throw site.malformed("unknown layout " + PyValues.shortRepr(args.get(0)));
            }
            case SIZE -> {
                return size(args, site);
            }
            case DEVICE -> {
                return device(args, site);
            }
            default -> throw site.unsupported(describeUnsupported(function));
        }
    }

    /**
     * {@code torch.Size(iterable)}, as torch builds it: the items of any iterable ({@code torch.Size({4: 1})} is
     * {@code torch.Size([4])}, of bytes their values), each an int, a bool standing for 0 or 1; negative sizes are
     * values like any other (a Size is a tuple; only a tensor's shape must not be negative).
     */
    private static TorchSize size(PyTuple args, CallSite site) throws CheckpointException {
        if (args.size() > 1) {
            throw site.malformed("tuple expected at most 1 argument, got " + args.size());
        }
        if (args.size() == 0) {
            return new TorchSize();
        }
        long[][] dims = {new long[8]};
        int[] n = {0};
        PyIteration.forEach(args.get(0), true, "torch.Size()", site, item -> {
            long v = switch (item) {
                case Long l -> l;
                case Boolean b -> b ? 1 : 0;
                // torch keeps any Python int in a plain Size; TorchSize holds 64-bit sizes, as every shape is
                case BigInteger b -> throw site.unsupported("torch.Size() holding an int beyond 64 bits ("
                        + PyValues.shortRepr(b) + "): sizes are 64-bit integers here, as a tensor's are");
                case String _, Double _, PyComplex _, PyNone _, PyBytes _, PyList _, PyTuple _, PyDict _, PySet _,
                        PyGlobal _ -> throw site.malformed("torch.Size() takes an iterable of 'int' (item " + n[0]
                        + " is '" + PyValues.typeName(item) + "')");
                default -> throw site.unsupported("torch.Size() of an iterable holding " + PyValues.typeName(item)
                        + ": Python would read the value of a one-element tensor, which weightsonly does not do");
            };
            if (n[0] == dims[0].length) {
                dims[0] = Arrays.copyOf(dims[0], n[0] * 2);
            }
            dims[0][n[0]++] = v;
        });
        return new TorchSize(Arrays.copyOf(dims[0], n[0]));
    }

    private static TorchDevice device(PyTuple args, CallSite site) throws CheckpointException {
        requireArgs(args, 1, 2, "torch.device", site);
        if (!(args.get(0) instanceof String type)) {
            throw site.malformed("torch.device expects a str, got " + PyValues.typeName(args.get(0)));
        }
        String name = type;
        if (args.size() == 2 && !(args.get(1) instanceof PyNone)) {
            long index = nonNegative(args.get(1), "device index", site);
            name = type + ":" + index;
        }
        if (name.length() > 64 || !DEVICE.matcher(name).matches()) {
            throw site.malformed("invalid device string " + PyValues.shortRepr(name));
        }
        return new TorchDevice(name);
    }

    private static String describeUnsupported(TorchFunction f) {
        String what = switch (f) {
            case REBUILD_WRAPPER_SUBCLASS -> "a tensor wrapper subclass (a tensor with no storage of its own)";
            case REBUILD_DEVICE_TENSOR_FROM_NUMPY -> "a device (XLA-style) tensor saved through numpy";
            default -> f.qualifiedName;
        };
        return what + " (" + f.qualifiedName + ") is not supported; the checkpoint is refused rather than"
                + " loaded without it";
    }

    /** A torch function handle bound to this load. */
    private final class BoundFunction implements PyCallable, PyClass {
        private final TorchFunction function;

        BoundFunction(TorchFunction function) {
            this.function = function;
        }

        @Override
        public String qualifiedName() {
            return function.qualifiedName;
        }

        @Override
        public Object call(PyTuple args, CallSite site) throws CheckpointException {
            return TorchUnpicklerHost.this.call(function, args, site);
        }

        @Override
        public Object newObject(PyTuple args, CallSite site) throws CheckpointException {
            // NEWOBJ is cls.__new__(cls, *args): for Parameter torch calls the class, and the __new__ of
            // torch.Size (a tuple) and torch.device is their constructor. The rest are functions, which have no
            // __new__ to call (torch 2.6: TypeError).
            return switch (function) {
                case PARAMETER, SIZE, DEVICE -> call(args, site);
                default -> throw site.unsafe("Can only create new object for nn.Parameter or classes allowlisted"
                        + " via `add_safe_globals` but got " + function.qualifiedName + " (a function)");
            };
        }

        @Override
        public String toString() {
            return function.qualifiedName;
        }
    }
}
