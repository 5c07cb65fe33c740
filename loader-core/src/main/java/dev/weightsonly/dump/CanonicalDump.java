package dev.weightsonly.dump;

import dev.weightsonly.internal.dump.DeepStack;
import dev.weightsonly.internal.dump.JsonText;
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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The canonical JSON dump of a loaded checkpoint (docs/canonical-dump.md): one JSON object that a few
 * lines of Python with real PyTorch can print too, so that two loaders can be compared value for value.
 *
 * <p>The walk is bounded: nesting deeper than {@code maxDepth}, a reference cycle, more than
 * {@code maxNodes} values (shared references can make a small pickle describe an exponentially large
 * tree), more than {@code maxChars} characters of output (one long string shared a million times), or
 * tensors holding more than 1 GiB plus four times the bytes of their storages (stride-0 views can claim
 * terabytes over a few bytes, and a million views can cover one storage) stop it with an
 * {@link IllegalArgumentException} rather than exhausting the stack, the heap or the CPU. A tensor reached
 * twice is hashed once, and a non-contiguous one is hashed in bounded blocks ({@link Tensor#blocks(long)}), never
 * copied whole.
 */
public final class CanonicalDump {

    /** The output bound of {@link #toJson(Object, int, long)}: 64 Mi characters. */
    public static final long DEFAULT_MAX_CHARS = 64L << 20;

    private static final Object EMPTY_STORAGE = new Object();
    private static final long FREE_HASH_BYTES = 1L << 30;
    private static final long BLOCK_BYTES = 16L << 20;

    private final int maxDepth;
    private final long maxNodes;
    private final long maxChars;
    // Keys are storages (identity) or their slice addresses (a record of a storage and an offset).
    private final Map<Object, Integer> storageNumbers = new HashMap<>();
    private final Map<Tensor, String> hashes = new IdentityHashMap<>();
    private final Set<Object> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
    private long nodes;
    private long chars;
    private long storageBytes;
    private long hashedBytes;

    private CanonicalDump(int maxDepth, long maxNodes, long maxChars) {
        this.maxDepth = maxDepth;
        this.maxNodes = maxNodes;
        this.maxChars = maxChars;
    }

    /**
     * The dump of {@code root} as compact JSON text, of at most {@link #DEFAULT_MAX_CHARS} characters.
     *
     * @param root a loaded value tree, usually {@code checkpoint.root()}
     * @param maxDepth the deepest nesting walked, usually {@code checkpoint.limits().maxNestingDepth()}
     * @param maxNodes the most values written out, shared ones counted each time they are reached
     * @return one JSON object, {@code {"root": ...}}, as docs/canonical-dump.md describes it
     * @throws IllegalArgumentException if a bound is exceeded (see the class comment)
     * @throws IllegalStateException if a tensor's checkpoint was closed (its bytes are hashed)
     */
    public static String toJson(Object root, int maxDepth, long maxNodes) {
        return toJson(root, maxDepth, maxNodes, DEFAULT_MAX_CHARS);
    }

    /**
     * The dump of {@code root} as compact JSON text.
     *
     * @param root a loaded value tree, usually {@code checkpoint.root()}
     * @param maxDepth the deepest nesting walked, usually {@code checkpoint.limits().maxNestingDepth()}
     * @param maxNodes the most values written out, shared ones counted each time they are reached
     * @param maxChars the longest output, in characters
     * @return one JSON object, {@code {"root": ...}}, as docs/canonical-dump.md describes it
     * @throws IllegalArgumentException if a bound is exceeded (see the class comment)
     * @throws IllegalStateException if a tensor's checkpoint was closed (its bytes are hashed)
     */
    public static String toJson(Object root, int maxDepth, long maxNodes, long maxChars) {
        return DeepStack.call(maxDepth, () -> {
            StringBuilder out = new StringBuilder();
            CanonicalDump dump = new CanonicalDump(maxDepth, maxNodes, maxChars);
            out.append("{\"root\":");
            dump.value(root, out, 0);
            return out.append('}').toString();
        });
    }

    /** Counts {@code n} more characters of output, refusing before they would pass {@code maxChars}. */
    private void reserve(long n) {
        chars += n;
        if (chars > maxChars) {
            throw new IllegalArgumentException("the dump would be longer than " + maxChars
                    + " characters (values shared many times expand when written out); not dumped");
        }
    }

    private void value(Object v, StringBuilder out, int depth) {
        int start = out.length();
        valueOnce(v, out, depth);
        // Containers count their parts as the parts are written; this counts the rest (a scalar, punctuation).
        if (!(v instanceof PyTuple || v instanceof PyList || v instanceof PyDict || v instanceof PySet
                || v instanceof PyObject || v instanceof Tensor || v instanceof SparseTensor)) {
            reserve(out.length() - start);
        } else {
            reserve(16);
        }
    }

    private void valueOnce(Object v, StringBuilder out, int depth) {
        if (++nodes > maxNodes) {
            throw new IllegalArgumentException("the checkpoint expands to more than " + maxNodes
                    + " values through shared references; not dumped");
        }
        if (depth > maxDepth) {
            throw new IllegalArgumentException("values nested more than " + maxDepth + " deep; not dumped");
        }
        switch (v) {
            case PyNone n -> out.append("null");
            case Boolean b -> out.append(b);
            case Long l -> out.append(l);
            case BigInteger b -> out.append(b);
            case Double d -> number(d, out);
            case String s -> {
                reserve(s.length()); // before a long string is copied; escapes are counted after
                JsonText.quote(s, out);
                chars -= s.length();
            }
            case PyBytes b -> {
                reserve(2L * b.length());
                chars -= 2L * b.length();
                out.append("{\"bytes\":\"").append(HexFormat.of().formatHex(b.toByteArray())).append("\"}");
            }
            case PyComplex c -> {
                out.append("{\"complex\":[");
                number(c.real(), out);
                out.append(',');
                number(c.imag(), out);
                out.append("]}");
            }
            case TorchSize s -> {
                out.append("{\"size\":[");
                for (int i = 0; i < s.rank(); i++) {
                    out.append(i == 0 ? "" : ",").append(s.get(i));
                }
                out.append("]}");
            }
            case DType d -> out.append("{\"dtype\":\"").append(d.torchName()).append("\"}");
            case TorchDevice d -> {
                out.append("{\"device\":");
                JsonText.quote(d.name(), out);
                out.append('}');
            }
            case TorchLayout l -> out.append("{\"layout\":\"").append(l.torchName()).append("\"}");
            case QScheme q -> out.append("{\"qscheme\":\"").append(q.torchName()).append("\"}");
            case Tensor t -> tensor(t, out, depth);
            case SparseTensor s -> sparse(s, out, depth);
            case TorchStorage s -> storage(s, out);
            case MetaTensor m -> {
                out.append("{\"meta\":{\"dtype\":\"").append(m.dtype().torchName()).append("\",\"shape\":");
                longs(m.shape(), out);
                out.append(",\"stride\":");
                longs(m.strides(), out);
                out.append(",\"requires_grad\":").append(m.requiresGrad()).append("}}");
            }
            case PyTuple t -> enter(t, () -> {
                out.append("{\"tuple\":");
                items(t.items(), out, depth);
                out.append('}');
            });
            case PyList l -> enter(l, () -> items(l, out, depth));
            case PyDict d -> enter(d, () -> {
                out.append("{\"dict\":[");
                boolean first = true;
                for (Map.Entry<Object, Object> e : d.entrySet()) {
                    out.append(first ? "[" : ",[");
                    first = false;
                    value(e.getKey(), out, depth + 1);
                    out.append(',');
                    value(e.getValue(), out, depth + 1);
                    out.append(']');
                }
                out.append("]}");
            });
            case PySet s -> enter(s, () -> {
                List<String> texts = new ArrayList<>();
                for (Object item : s) {
                    StringBuilder sb = new StringBuilder();
                    value(item, sb, depth + 1);
                    texts.add(sb.toString());
                }
                Collections.sort(texts);
                out.append("{\"set\":[").append(String.join(",", texts)).append("]}");
            });
            case PyObject o -> enter(o, () -> {
                out.append("{\"object\":{\"class\":");
                JsonText.quote(o.className(), out);
                out.append(",\"args\":");
                items(o.args().items(), out, depth);
                out.append(",\"state\":");
                value(o.state(), out, depth + 1);
                out.append("}}");
            });
            default -> throw new IllegalArgumentException("no canonical form for a value of type "
                    + PyValues.typeName(v));
        }
    }

    private void enter(Object container, Runnable body) {
        if (!onPath.add(container)) {
            throw new IllegalArgumentException("the checkpoint contains a reference cycle (a "
                    + PyValues.typeName(container) + " that contains itself); not dumped");
        }
        body.run();
        onPath.remove(container);
    }

    private void items(List<?> items, StringBuilder out, int depth) {
        out.append('[');
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            value(items.get(i), out, depth + 1);
        }
        out.append(']');
    }

    private static void number(double d, StringBuilder out) {
        if (Double.isNaN(d)) {
            out.append("\"nan\"");
        } else if (Double.isInfinite(d)) {
            out.append(d > 0 ? "\"inf\"" : "\"-inf\"");
        } else {
            out.append(PyValues.floatRepr(d));
        }
    }


    private void sparse(SparseTensor s, StringBuilder out, int depth) {
        String layout = s.layout().torchName().substring("torch.".length());
        out.append("{\"tensor\":{\"sparse\":{\"layout\":\"").append(layout).append("\",\"size\":");
        longs(s.size(), out);
        boolean rows = s.layout() == TorchLayout.SPARSE_CSR || s.layout() == TorchLayout.SPARSE_BSR;
        if (s.layout() == TorchLayout.SPARSE_COO) {
            out.append(",\"indices\":");
            value(s.indices(), out, depth + 1);
        } else {
            out.append(rows ? ",\"crow_indices\":" : ",\"ccol_indices\":");
            value(s.compressedIndices(), out, depth + 1);
            out.append(rows ? ",\"col_indices\":" : ",\"row_indices\":");
            value(s.plainIndices(), out, depth + 1);
        }
        out.append(",\"values\":");
        value(s.values(), out, depth + 1);
        out.append("}}}");
    }

    private void tensor(Tensor t, StringBuilder out, int depth) {
        int start = out.length();
        int number = storageNumber(t.storage());
        out.append("{\"tensor\":{\"dtype\":\"").append(t.dtype().torchName()).append("\",\"shape\":");
        longs(t.shape(), out);
        out.append(",\"stride\":");
        longs(t.strides(), out);
        out.append(",\"storage_offset\":").append(t.storageOffset())
                .append(",\"storage\":").append(number)
                .append(",\"requires_grad\":").append(t.requiresGrad())
                .append(",\"sha256\":\"").append(hash(t)).append('"');
        if (t.quantizer().isPresent()) {
            out.append(",\"quantizer\":");
            switch (t.quantizer().get()) {
                case Quantizer.PerTensorAffine q -> {
                    out.append("{\"scheme\":\"per_tensor_affine\",\"scale\":");
                    number(q.scale(), out);
                    out.append(",\"zero_point\":").append(q.zeroPoint()).append('}');
                }
                case Quantizer.PerChannelAffine q -> {
                    out.append("{\"scheme\":\"per_channel_affine\",\"scales\":");
                    value(q.scales(), out, depth + 1);
                    out.append(",\"zero_points\":");
                    value(q.zeroPoints(), out, depth + 1);
                    out.append(",\"axis\":").append(q.axis()).append('}');
                }
            }
        }
        out.append("}}");
        reserve(out.length() - start);
    }

    /** The storage's number, given in the order storages are first met. */
    private int storageNumber(Storage storage) {
        // PyTorch numbers storages by data address; zero-byte storages all have address 0.
        Object key = storage.byteSize() == 0 ? EMPTY_STORAGE : storage.dataAddress();
        Integer number = storageNumbers.get(key);
        if (number == null) {
            number = storageNumbers.size();
            storageNumbers.put(key, number);
            storageBytes += storage.byteSize();
        }
        return number;
    }

    /**
     * A bare storage (a legacy checkpoint can save one as its root or inside a container): its dtype
     * ({@code uint8} for an untyped storage), its size in elements, its number among the storages (shared with
     * the tensors that view it) and the SHA-256 of its bytes.
     */
    private void storage(TorchStorage s, StringBuilder out) {
        DType dtype = s.untyped() ? DType.UINT8 : s.dtype();
        long size = s.storage().byteSize() / dtype.elementSize();
        int number = storageNumber(s.storage());
        Tensor whole = Tensor.contiguousView(s.storage(), dtype, 0, size);
        out.append("{\"storage\":{\"dtype\":\"").append(dtype.torchName()).append("\",\"size\":").append(size)
                .append(",\"untyped\":").append(s.untyped())
                .append(",\"storage\":").append(number)
                .append(",\"sha256\":\"").append(hash(whole)).append("\"}}");
    }

    /** The tensor's hash, computed once per tensor and within the dump's budget of hashed bytes. */
    private String hash(Tensor t) {
        String known = hashes.get(t);
        if (known != null) {
            return known;
        }
        long bytes = t.byteSize();
        long budget = FREE_HASH_BYTES + 4 * storageBytes; // storages are file bytes: no overflow
        if (bytes > budget - hashedBytes) {
            throw new IllegalArgumentException("the checkpoint's tensors hold more than " + budget + " bytes to hash"
                    + " (views of " + storageBytes + " bytes of storage; a stride-0 view of " + t.numel()
                    + " elements counts them all); not dumped");
        }
        hashedBytes += bytes;
        String h = sha256(t);
        hashes.put(t, h);
        return h;
    }

    private static void longs(long[] values, StringBuilder out) {
        out.append('[');
        for (int i = 0; i < values.length; i++) {
            out.append(i == 0 ? "" : ",").append(values[i]);
        }
        out.append(']');
    }

    /** SHA-256 of the logical elements in row-major order, little-endian at the dtype's size. */
    static String sha256(Tensor t) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
        update(digest, t);
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Feeds the logical elements of {@code t} in row-major order, holding at most {@link #BLOCK_BYTES} of copies. */
    private static void update(MessageDigest digest, Tensor t) {
        // bool elements are hashed as 0 or 1 (canonical-dump.md), as torch's .to(uint8) gives them: a stored byte
        // of 2 or 0xff is true, and must not give another hash than a 1 (difffuzz bool_bytes_not_0_or_1.pt)
        boolean bool = t.dtype() == DType.BOOL;
        byte[] buffer = null;
        for (Tensor.Block block : t.blocks(BLOCK_BYTES)) {
            MemorySegment bytes = block.bytes();
            if (!bool && (bytes.isNative() || bytes.heapBase().orElse(null) instanceof byte[])) {
                digest.update(bytes.asByteBuffer());
                continue;
            }
            // A heap segment over a long[] or float[] has no ByteBuffer view: copy through a byte[].
            if (buffer == null) {
                buffer = new byte[(int) Math.min(1 << 20, bytes.byteSize())];
            }
            for (long at = 0; at < bytes.byteSize(); at += buffer.length) {
                int n = (int) Math.min(buffer.length, bytes.byteSize() - at);
                MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, at, buffer, 0, n);
                if (bool) {
                    for (int i = 0; i < n; i++) {
                        buffer[i] = (byte) (buffer[i] != 0 ? 1 : 0);
                    }
                }
                digest.update(buffer, 0, n);
            }
        }
    }
}
