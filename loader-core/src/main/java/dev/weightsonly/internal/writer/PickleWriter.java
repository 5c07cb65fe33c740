package dev.weightsonly.internal.writer;

import dev.weightsonly.internal.dump.DeepStack;
import dev.weightsonly.internal.pickle.Opcode;
import dev.weightsonly.internal.pickle.Utf8;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
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
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pickles a value tree as {@code torch.save} does: protocol 2, Python 2 spellings of builtins
 * ({@code __builtin__}), every container, string and reduce result memoized so that shared references stay
 * shared (and a list that contains itself can be written), appends and setitems in batches of 1000, and
 * tensors as {@code _rebuild_tensor_v2} (legacy storage classes) or {@code _rebuild_tensor_v3}
 * ({@code torch.storage.UntypedStorage} plus the dtype, for dtypes torch gave no legacy class), their storages
 * replaced by persistent ids {@code ('storage', class, key, location, numel)} with keys {@code "0"},
 * {@code "1"}, ... in the order the walk first meets each storage.
 */
public final class PickleWriter {

    /**
     * A storage the pickle refers to, to be written as record {@code data/<key>}.
     *
     * @param key the record key, {@code "0"}, {@code "1"}, ... in the order the walk first met the storage
     * @param storage the storage whose bytes the record holds, whole
     * @param storageClass the class its persistent id names, such as {@code torch.FloatStorage} or
     *     {@code torch.storage.UntypedStorage}
     * @param numel the storage's size in elements of that class (bytes for an untyped storage)
     */
    public record StorageRecord(String key, Storage storage, String storageClass, long numel) {
    }

    /** torch's {@code _new_dtypes()}: saved as UntypedStorage bytes with {@code _rebuild_tensor_v3}. */
    private static final Set<DType> NEW_DTYPES = java.util.EnumSet.of(DType.FLOAT8_E5M2, DType.FLOAT8_E4M3FN,
            DType.FLOAT8_E5M2FNUZ, DType.FLOAT8_E4M3FNUZ, DType.FLOAT8_E8M0FNU, DType.FLOAT4_E2M1FN_X2, DType.BITS8,
            DType.BITS16, DType.BITS1X8, DType.BITS2X4, DType.BITS4X2, DType.COMPLEX32, DType.UINT16, DType.UINT32,
            DType.UINT64);

    private static final int BATCH = 1000;
    private static final int MAX_DEPTH = 1000;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final IdentityHashMap<Object, Integer> memo = new IdentityHashMap<>();
    private final Map<String, Integer> stringMemo = new HashMap<>();
    private final Map<String, Integer> globalMemo = new HashMap<>();
    private final IdentityHashMap<Storage, StorageRecord> storages = new IdentityHashMap<>();
    private final IdentityHashMap<Storage, String> firstViewer = new IdentityHashMap<>();
    private final List<StorageRecord> storageOrder = new ArrayList<>();
    private final Deque<String> path = new ArrayDeque<>();
    private int memoSize;

    /** One writer per pickle, made by {@link #pickle}: its memo and storage numbering belong to that pickle. */
    private PickleWriter() {
    }

    /**
     * The pickle of {@code root}, and the storages it refers to, in key order.
     *
     * @param root the value tree, as {@link dev.weightsonly.writer.TorchWriter} describes what it may hold
     * @return the pickle bytes ({@code data.pkl}) and the storages to write beside it
     * @throws IllegalArgumentException if the tree holds a value with no torch.save form, nests more than 1000
     *     deep, or views one storage as two storage classes; the message gives the value's path from the root
     */
    public static Result pickle(Object root) {
        // The walk recurses a few frames per level, up to MAX_DEPTH levels: more than a default stack holds.
        return DeepStack.call(MAX_DEPTH, () -> pickleOnThisStack(root));
    }

    private static Result pickleOnThisStack(Object root) {
        PickleWriter w = new PickleWriter();
        w.out.write(Opcode.PROTO.code); // PROTO
        w.out.write(2);
        w.save(root);
        w.out.write(Opcode.STOP.code); // STOP
        return new Result(w.out.toByteArray(), List.copyOf(w.storageOrder));
    }

    /**
     * A pickled tree.
     *
     * @param pickle the protocol 2 pickle, {@code data.pkl}
     * @param storages the storages its persistent ids name, in key order
     */
    public record Result(byte[] pickle, List<StorageRecord> storages) {
    }

    // ---- dispatch -------------------------------------------------------------------------------------

    private void save(Object v) {
        if (path.size() > MAX_DEPTH) {
            throw fail("values nested more than " + MAX_DEPTH + " deep");
        }
        if (v == null || v instanceof PyNone) {
            out.write(Opcode.NONE.code);
            return;
        }
        if (v instanceof String s) {
            saveString(s);
            return;
        }
        if (isMemoized(v)) {
            Integer index = memo.get(v);
            if (index != null) {
                get(index);
                return;
            }
        }
        switch (v) {
            case Boolean b -> out.write(b ? Opcode.NEWTRUE.code : Opcode.NEWFALSE.code);
            case Long l -> saveInt(l);
            case Integer i -> saveInt(i);
            case Short s -> saveInt(s);
            case Byte b -> saveInt(b);
            case BigInteger b -> saveBigInt(b);
            case Double d -> saveFloat(d);
            case Float f -> saveFloat(f);
            case PyBytes b -> saveBytes(b.toByteArray(), b.isByteArray(), v);
            case byte[] b -> saveBytes(b, false, v);
            case PyComplex c -> {
                global("__builtin__", "complex");
                saveFloat(c.real());
                saveFloat(c.imag());
                out.write(Opcode.TUPLE2.code); // TUPLE2
                memoizeFresh();
                out.write(Opcode.REDUCE.code);
                memoize(v);
            }
            case PyTuple t -> saveTuple(t.items(), v);
            case PyList l -> saveList(l, v);
            case PyDict d -> saveDict(d, v);
            case PySet s -> saveSet(s, s.isFrozen(), v);
            case Tensor t -> saveTensor(t);
            case SparseTensor t -> saveSparse(t);
            case MetaTensor t -> {
                // torch._utils._rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad): no data
                global("torch._utils", "_rebuild_meta_tensor_no_storage");
                out.write(Opcode.MARK.code);
                global("torch", t.dtype().torchName());
                saveLongs(t.shape());
                saveLongs(t.strides());
                out.write(t.requiresGrad() ? Opcode.NEWTRUE.code : Opcode.NEWFALSE.code);
                out.write(Opcode.TUPLE.code);
                memoizeFresh();
                out.write(Opcode.REDUCE.code);
                memoize(v);
            }
            case TorchStorage s -> savePersistentId(s.storage(), s.untyped() ? null : s.dtype(), "a saved storage");
            case DType d -> global("torch", d.torchName());
            case QScheme q -> global("torch", q.torchName());
            case TorchSize s -> {
                global("torch", "Size");
                List<Object> dims = new ArrayList<>();
                for (long d : s.dims()) {
                    dims.add(d);
                }
                saveTuple(dims, new Object());
                out.write(Opcode.TUPLE1.code); // TUPLE1
                memoizeFresh();
                out.write(Opcode.REDUCE.code);
                memoize(v);
            }
            case TorchDevice d -> {
                global("torch", "device");
                String name = d.name();
                int colon = name.indexOf(':');
                if (colon < 0) {
                    saveString(name);
                    out.write(Opcode.TUPLE1.code);
                } else {
                    String index = name.substring(colon + 1);
                    if (!index.matches("[0-9]{1,9}")) {
                        throw fail("device '" + name + "' is not type[:index]");
                    }
                    saveString(name.substring(0, colon));
                    saveInt(Long.parseLong(index));
                    out.write(Opcode.TUPLE2.code);
                }
                memoizeFresh();
                out.write(Opcode.REDUCE.code);
                memoize(v);
            }
            case TorchLayout l -> {
                global("torch.serialization", "_get_layout");
                saveString(l.torchName());
                out.write(Opcode.TUPLE1.code);
                memoizeFresh();
                out.write(Opcode.REDUCE.code);
                memoize(v);
            }
            case PyObject o -> throw fail("an object of class " + o.className() + " cannot be written: it was loaded"
                    + " as an inert record of an allowed global, and rebuilding it in Python would run that class's"
                    + " code; convert it to plain values (dicts, lists, tensors) first");
            case Map<?, ?> m -> saveMap(m, v);
            case List<?> l -> saveList(l, v);
            case Set<?> s -> saveSet(s, false, v);
            default -> throw fail("a value of Java type " + v.getClass().getName() + " has no Python form here;"
                    + " write None, bool, int, float, str, bytes, tuples, lists, dicts, sets, tensors, dtypes,"
                    + " torch.Size or torch.device values");
        }
    }

    private static boolean isMemoized(Object v) {
        return !(v instanceof Boolean || v instanceof Number || v instanceof DType || v instanceof QScheme
                || v instanceof TorchStorage);
    }

    // ---- scalars --------------------------------------------------------------------------------------

    private void saveInt(long v) {
        if (v >= 0 && v <= 0xFF) {
            out.write(Opcode.BININT1.code);
            out.write((int) v);
        } else if (v >= 0 && v <= 0xFFFF) {
            out.write(Opcode.BININT2.code);
            out.write((int) v);
            out.write((int) (v >>> 8));
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write(Opcode.BININT.code);
            writeInt32((int) v);
        } else {
            saveLong(BigInteger.valueOf(v));
        }
    }

    private void saveBigInt(BigInteger v) {
        if (v.bitLength() < 64) {
            saveInt(v.longValue());
        } else {
            saveLong(v);
        }
    }

    /** LONG1 or LONG4: little-endian two's complement, as few bytes as hold the sign. */
    private void saveLong(BigInteger v) {
        byte[] bigEndian = v.toByteArray();
        int n = bigEndian.length;
        if (n < 256) {
            out.write(Opcode.LONG1.code);
            out.write(n);
        } else {
            out.write(Opcode.LONG4.code);
            writeInt32(n);
        }
        for (int i = n - 1; i >= 0; i--) {
            out.write(bigEndian[i]);
        }
    }

    private void saveFloat(double d) {
        out.write(Opcode.BINFLOAT.code);
        long bits = Double.doubleToRawLongBits(d);
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (bits >>> shift));
        }
    }

    private void saveString(String s) {
        Integer index = stringMemo.get(s);
        if (index != null) {
            get(index);
            return;
        }
        byte[] utf8 = utf8SurrogatePass(s); // a Java array: always within BINUNICODE's 32-bit length
        out.write(Opcode.BINUNICODE.code); // BINUNICODE
        writeInt32(utf8.length);
        out.write(utf8, 0, utf8.length);
        stringMemo.put(s, memoSize);
        put();
    }

    /**
     * Python's {@code str.encode('utf-8', 'surrogatepass')}, which pickle uses: a lone surrogate as 3 bytes, where
     * Java's UTF-8 encoder would write a {@code ?}.
     *
     * @param s any Java string, including one with lone surrogates
     * @return its bytes as Python's pickle writes them
     */
    public static byte[] utf8SurrogatePass(String s) {
        return Utf8.encodeSurrogatePass(s);
    }

    /** {@code _codecs.encode(latin1 text, 'latin1')}, wrapped in {@code bytearray(...)} for a bytearray. */
    private void saveBytes(byte[] data, boolean byteArray, Object identity) {
        if (byteArray) {
            global("__builtin__", "bytearray");
        }
        global("_codecs", "encode");
        char[] text = new char[data.length];
        for (int i = 0; i < data.length; i++) {
            text[i] = (char) (data[i] & 0xFF);
        }
        saveString(new String(text));
        saveString("latin1");
        out.write(Opcode.TUPLE2.code);
        memoizeFresh();
        out.write(Opcode.REDUCE.code);
        if (byteArray) {
            memoizeFresh();
            out.write(Opcode.TUPLE1.code);
            memoizeFresh();
            out.write(Opcode.REDUCE.code);
        }
        memoize(identity);
    }

    // ---- containers -----------------------------------------------------------------------------------

    /** Python's save_tuple: a tuple that became memoized while its items were saved is fetched instead. */
    private void saveTuple(List<?> items, Object identity) {
        int n = items.size();
        if (n == 0) {
            out.write(Opcode.EMPTY_TUPLE.code); // EMPTY_TUPLE
            return;
        }
        if (n > 3) {
            out.write(Opcode.MARK.code);
        }
        for (int i = 0; i < n; i++) {
            enter("[" + i + "]");
            save(items.get(i));
            leave();
        }
        Integer recursive = memo.get(identity);
        if (recursive != null) {
            if (n > 3) {
                out.write(Opcode.POP_MARK.code); // POP_MARK
            } else {
                for (int i = 0; i < n; i++) {
                    out.write(Opcode.POP.code); // POP
                }
            }
            get(recursive);
            return;
        }
        out.write(switch (n) {
            case 1 -> Opcode.TUPLE1.code;
            case 2 -> Opcode.TUPLE2.code;
            case 3 -> Opcode.TUPLE3.code;
            default -> Opcode.TUPLE.code;
        });
        memoize(identity);
    }

    private void saveList(List<?> items, Object identity) {
        out.write(Opcode.EMPTY_LIST.code); // EMPTY_LIST
        memoize(identity);
        for (int from = 0; from < items.size(); from += BATCH) {
            int to = Math.min(items.size(), from + BATCH);
            if (to - from > 1) {
                out.write(Opcode.MARK.code);
            }
            for (int i = from; i < to; i++) {
                enter("[" + i + "]");
                save(items.get(i));
                leave();
            }
            out.write(to - from > 1 ? Opcode.APPENDS.code : Opcode.APPEND.code); // APPENDS / APPEND
        }
    }

    private void saveDict(PyDict d, Object identity) {
        switch (d.kind()) {
            case DICT -> {
                if (!d.attributes().isEmpty()) {
                    throw fail("a plain dict with attributes " + d.attributes().keySet() + " has no Python form");
                }
                out.write(Opcode.EMPTY_DICT.code); // EMPTY_DICT
                memoize(identity);
                setItems(d);
            }
            case ORDERED_DICT -> {
                global("collections", "OrderedDict");
                out.write(Opcode.EMPTY_TUPLE.code);
                out.write(Opcode.REDUCE.code);
                memoize(identity);
                setItems(d);
                if (!d.attributes().isEmpty()) {
                    // OrderedDict.__reduce__ gives its __dict__ as the state; state_dict() keeps _metadata there.
                    out.write(Opcode.EMPTY_DICT.code);
                    memoizeFresh();
                    setItems(d.attributes());
                    out.write(Opcode.BUILD.code); // BUILD
                }
            }
            case COUNTER -> {
                if (!d.attributes().isEmpty()) {
                    throw fail("a Counter with attributes " + d.attributes().keySet() + " is not written");
                }
                global("collections", "Counter");
                out.write(Opcode.EMPTY_DICT.code);
                memoizeFresh();
                setItems(d);
                out.write(Opcode.TUPLE1.code);
                memoizeFresh();
                out.write(Opcode.REDUCE.code);
                memoize(identity);
            }
        }
    }

    private void saveMap(Map<?, ?> m, Object identity) {
        out.write(Opcode.EMPTY_DICT.code);
        memoize(identity);
        setItems(m);
    }

    private void setItems(Map<?, ?> m) {
        Map<Object, Object> seen = new HashMap<>();
        for (Object key : m.keySet()) {
            Object previous = seen.put(PyValues.pythonKey(pythonEquality(key)), key);
            if (previous != null) {
                throw fail("dict keys " + PyValues.shortRepr(previous) + " and " + PyValues.shortRepr(key)
                        + " are the same key in Python (True == 1 == 1.0), so the dict would lose an entry");
            }
        }
        Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
        int remaining = m.size();
        while (remaining > 0) {
            int n = Math.min(BATCH, remaining);
            remaining -= n;
            if (n > 1) {
                out.write(Opcode.MARK.code);
            }
            for (int i = 0; i < n; i++) {
                Map.Entry<?, ?> e = it.next();
                Object key = e.getKey();
                if (!hashable(key)) {
                    throw fail("dict key of type " + PyValues.typeName(key) + " is not hashable in Python");
                }
                enter("[" + PyValues.shortRepr(key) + "]");
                save(key);
                save(e.getValue());
                leave();
            }
            out.write(n > 1 ? Opcode.SETITEMS.code : Opcode.SETITEM.code); // SETITEMS / SETITEM
        }
    }

    /** Java's boxed numbers as the loader's forms, which PyValues.pythonKey compares as Python does. */
    private static Object pythonEquality(Object key) {
        return switch (key) {
            case Boolean b -> BigInteger.valueOf(b ? 1 : 0);
            case Long l -> BigInteger.valueOf(l);
            case Integer i -> BigInteger.valueOf(i);
            case Short i -> BigInteger.valueOf(i);
            case Byte i -> BigInteger.valueOf(i);
            case Double d when Double.isFinite(d) && d == Math.rint(d) -> new java.math.BigDecimal(d).toBigIntegerExact();
            case Float f when Float.isFinite(f) && f == Math.rint(f) -> new java.math.BigDecimal(f).toBigIntegerExact();
            case Float f -> (double) f;
            case null, default -> key;
        };
    }

    private static boolean hashable(Object key) {
        if (key instanceof Collection<?> && !(key instanceof PySet) || key instanceof Map<?, ?> && !(key instanceof PyDict)
                || key instanceof byte[]) {
            return false;
        }
        return PyValues.isHashable(key);
    }

    /** {@code set(list)} / {@code frozenset(list)}: protocol 2 has no set opcodes. */
    private void saveSet(Collection<?> items, boolean frozen, Object identity) {
        global("__builtin__", frozen ? "frozenset" : "set");
        List<Object> list = new ArrayList<>(items);
        Map<Object, Object> seen = new HashMap<>();
        for (Object item : list) {
            if (!hashable(item)) {
                throw fail("set item of type " + PyValues.typeName(item) + " is not hashable in Python");
            }
            Object previous = seen.put(PyValues.pythonKey(pythonEquality(item)), item);
            if (previous != null) {
                throw fail("set items " + PyValues.shortRepr(previous) + " and " + PyValues.shortRepr(item)
                        + " are the same item in Python (True == 1 == 1.0), so the set would lose one");
            }
        }
        saveList(list, new Object());
        out.write(Opcode.TUPLE1.code);
        memoizeFresh();
        out.write(Opcode.REDUCE.code);
        memoize(identity);
    }

    // ---- tensors --------------------------------------------------------------------------------------

    private void saveTensor(Tensor t) {
        DType dtype = t.dtype();
        if (dtype.kind() == DType.Kind.QUANTIZED) {
            saveQuantized(t);
            return;
        }
        boolean legacy = dtype.legacyStorageName().isPresent();
        if (!legacy && !NEW_DTYPES.contains(dtype)) {
            throw fail("torch.save cannot save a plain tensor of dtype " + dtype + " (a placeholder dtype for tensor"
                    + " subclasses, with neither a legacy storage class nor a _rebuild_tensor_v3 form)");
        }
        if (!legacy && t.requiresGrad()) {
            // torch's _rebuild_tensor_v3 cannot rebuild a tensor that requires grad (it set_()s a leaf that requires
            // grad, and fails): written as torch.save writes a Parameter, _rebuild_parameter(tensor, True, {})
            global("torch._utils", "_rebuild_parameter");
            out.write('(');
            saveTensor(t.withRequiresGrad(false));
            out.write(0x88);
            emptyOrderedDict(); // backward hooks
            out.write('t');
            memoizeFresh();
            out.write('R');
            memoize(t);
            return;
        }
        global("torch._utils", legacy ? "_rebuild_tensor_v2" : "_rebuild_tensor_v3");
        out.write(Opcode.MARK.code);
        savePersistentId(t.storage(), legacy ? dtype : null, describe(t));
        saveInt(t.storageOffset());
        saveLongs(t.shape());
        saveLongs(t.strides());
        out.write(t.requiresGrad() ? Opcode.NEWTRUE.code : Opcode.NEWFALSE.code);
        emptyOrderedDict(); // backward hooks
        if (!legacy) {
            global("torch", dtype.torchName());
        }
        if (t.isConj() || t.isNeg()) {
            // torch >= 2.0 keeps the lazy bits as a metadata dict (1.13 dropped them when saving)
            out.write(Opcode.EMPTY_DICT.code);
            memoizeFresh();
            if (t.isConj() && t.isNeg()) {
                out.write(Opcode.MARK.code);
            }
            if (t.isConj()) {
                saveString("conj");
                out.write(Opcode.NEWTRUE.code);
            }
            if (t.isNeg()) {
                saveString("neg");
                out.write(Opcode.NEWTRUE.code);
            }
            out.write(t.isConj() && t.isNeg() ? Opcode.SETITEMS.code : Opcode.SETITEM.code);
        }
        out.write(Opcode.TUPLE.code);
        memoizeFresh();
        out.write(Opcode.REDUCE.code);
        memoize(t);
    }

    /**
     * {@code _rebuild_sparse_tensor(layout, data)}: COO data {@code (indices, values, torch.Size[,
     * is_coalesced])} (the flag only when the loaded file had it: PyTorch 1.13 reads three items), compressed
     * layouts {@code (compressed_indices, plain_indices, values, torch.Size)}.
     */
    private void saveSparse(SparseTensor t) {
        global("torch._utils", "_rebuild_sparse_tensor");
        save(t.layout());
        List<Object> data = new ArrayList<>();
        if (t.layout() == TorchLayout.SPARSE_COO) {
            data.add(t.indices());
            data.add(t.values());
            data.add(new TorchSize(t.size()));
            if (t.coalesced() != null) {
                data.add(t.coalesced());
            }
        } else {
            data.add(t.compressedIndices());
            data.add(t.plainIndices());
            data.add(t.values());
            data.add(new TorchSize(t.size()));
        }
        saveTuple(data, new Object());
        out.write(Opcode.TUPLE2.code); // (layout, data)
        memoizeFresh();
        out.write(Opcode.REDUCE.code);
        memoize(t);
    }

    /** {@code _rebuild_qtensor(storage, offset, size, stride, quantizer_params, requires_grad, hooks)}. */
    private void saveQuantized(Tensor t) {
        Quantizer q = t.quantizer().orElseThrow(() -> fail("quantized " + describe(t)
                + " has no quantizer, so its real values are unknown"));
        global("torch._utils", "_rebuild_qtensor");
        out.write(Opcode.MARK.code);
        savePersistentId(t.storage(), t.dtype(), describe(t));
        saveInt(t.storageOffset());
        saveLongs(t.shape());
        saveLongs(t.strides());
        switch (q) {
            case Quantizer.PerTensorAffine pt -> {
                global("torch", QScheme.PER_TENSOR_AFFINE.torchName());
                saveFloat(pt.scale());
                saveInt(pt.zeroPoint());
                out.write(Opcode.TUPLE3.code);
                memoizeFresh();
            }
            case Quantizer.PerChannelAffine pc -> {
                // torch saves per_channel_affine_float_qparams under the per_channel_affine tag too
                out.write(Opcode.MARK.code);
                global("torch", QScheme.PER_CHANNEL_AFFINE.torchName());
                enter(".q_per_channel_scales");
                save(pc.scales());
                leave();
                enter(".q_per_channel_zero_points");
                save(pc.zeroPoints());
                leave();
                saveInt(pc.axis());
                out.write(Opcode.TUPLE.code);
                memoizeFresh();
            }
        }
        out.write(t.requiresGrad() ? Opcode.NEWTRUE.code : Opcode.NEWFALSE.code);
        emptyOrderedDict();
        out.write(Opcode.TUPLE.code);
        memoizeFresh();
        out.write(Opcode.REDUCE.code);
        memoize(t);
    }

    private void emptyOrderedDict() {
        global("collections", "OrderedDict");
        out.write(Opcode.EMPTY_TUPLE.code);
        out.write(Opcode.REDUCE.code);
        memoizeFresh();
    }

    private void saveLongs(long[] values) {
        List<Object> items = new ArrayList<>(values.length);
        for (long v : values) {
            items.add(v);
        }
        saveTuple(items, new Object());
    }

    /**
     * {@code ('storage', class, key, location, numel)} then BINPERSID. {@code typed} is the dtype of a legacy
     * typed storage, or null for {@code torch.storage.UntypedStorage} (numel counts bytes). Every view of one
     * storage must agree on its class, as torch.save requires.
     */
    private void savePersistentId(Storage storage, DType typed, String viewer) {
        String storageClass = typed == null ? "torch.storage.UntypedStorage" : "torch." + typed.legacyStorageName().orElseThrow();
        StorageRecord record = storages.get(storage);
        if (record == null) {
            long numel = storage.byteSize();
            if (typed != null) {
                int es = typed.elementSize();
                if (numel % es != 0) {
                    throw fail(viewer + " views storage '" + storage.key() + "' of " + numel + " bytes as " + typed
                            + ", but that is not a whole number of " + es + "-byte elements");
                }
                numel /= es;
            }
            record = new StorageRecord(Integer.toString(storageOrder.size()), storage, storageClass, numel);
            storages.put(storage, record);
            firstViewer.put(storage, viewer);
            storageOrder.add(record);
        } else if (!record.storageClass().equals(storageClass)) {
            throw fail("Cannot save multiple tensors or storages that view the same data as different types: "
                    + firstViewer.get(storage) + " views storage '" + storage.key() + "' as " + record.storageClass()
                    + ", " + viewer + " as " + storageClass);
        }
        out.write(Opcode.MARK.code);
        saveString("storage");
        int dot = storageClass.lastIndexOf('.');
        global(storageClass.substring(0, dot), storageClass.substring(dot + 1));
        saveString(record.key());
        saveString(storage.location());
        saveInt(record.numel());
        out.write(Opcode.TUPLE.code);
        memoizeFresh();
        out.write(Opcode.BINPERSID.code); // BINPERSID
    }

    private String describe(Tensor t) {
        return "the " + t.dtype() + " tensor at " + where();
    }

    // ---- memo, globals, bytes -------------------------------------------------------------------------

    private void global(String module, String name) {
        String key = module + "\n" + name;
        Integer index = globalMemo.get(key);
        if (index != null) {
            get(index);
            return;
        }
        out.write(Opcode.GLOBAL.code);
        byte[] text = (key + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.write(text, 0, text.length);
        globalMemo.put(key, memoSize);
        put();
    }

    private void memoize(Object identity) {
        memo.put(identity, memoSize);
        put();
    }

    /** Memoizes a value nothing refers to again (as Python memoizes every tuple and reduce result). */
    private void memoizeFresh() {
        put();
    }

    private void put() {
        int index = memoSize++;
        if (index < 256) {
            out.write(Opcode.BINPUT.code);
            out.write(index);
        } else {
            out.write(Opcode.LONG_BINPUT.code);
            writeInt32(index);
        }
    }

    private void get(int index) {
        if (index < 256) {
            out.write(Opcode.BINGET.code);
            out.write(index);
        } else {
            out.write(Opcode.LONG_BINGET.code);
            writeInt32(index);
        }
    }

    private void writeInt32(int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    private void enter(String step) {
        path.addLast(step);
    }

    private void leave() {
        path.removeLast();
    }

    private String where() {
        return path.isEmpty() ? "the root" : "root" + String.join("", path);
    }

    private IllegalArgumentException fail(String detail) {
        return new IllegalArgumentException(where() + ": " + detail);
    }
}
