package dev.weightsonly.dump;

import dev.weightsonly.pickle.PyBytes;
import dev.weightsonly.pickle.PyComplex;
import dev.weightsonly.pickle.PyDict;
import dev.weightsonly.pickle.PyList;
import dev.weightsonly.pickle.PyNone;
import dev.weightsonly.pickle.PyObject;
import dev.weightsonly.pickle.PySet;
import dev.weightsonly.pickle.PyTuple;
import dev.weightsonly.pickle.PyValues;
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
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The canonical JSON dump of a loaded checkpoint (docs/canonical-dump.md): one JSON object that a few
 * lines of Python with real PyTorch can print too, so that two loaders can be compared value for value.
 *
 * <p>The walk is bounded: nesting deeper than {@code maxDepth}, a reference cycle, or more than
 * {@code maxNodes} values (shared references can make a small pickle describe an exponentially large
 * tree) stop it with an {@link IllegalArgumentException} rather than exhausting the stack or the heap.
 */
public final class CanonicalDump {

    private static final Object EMPTY_STORAGE = new Object();

    private final int maxDepth;
    private final long maxNodes;
    private final Map<Object, Integer> storageNumbers = new IdentityHashMap<>();
    private final Set<Object> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
    private long nodes;

    private CanonicalDump(int maxDepth, long maxNodes) {
        this.maxDepth = maxDepth;
        this.maxNodes = maxNodes;
    }

    /** The dump of {@code root} as compact JSON text. */
    public static String toJson(Object root, int maxDepth, long maxNodes) {
        StringBuilder out = new StringBuilder();
        CanonicalDump dump = new CanonicalDump(maxDepth, maxNodes);
        out.append("{\"root\":");
        dump.value(root, out, 0);
        return out.append('}').toString();
    }

    private void value(Object v, StringBuilder out, int depth) {
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
            case String s -> string(s, out);
            case PyBytes b -> out.append("{\"bytes\":\"").append(HexFormat.of().formatHex(b.toByteArray())).append("\"}");
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
                string(d.name(), out);
                out.append('}');
            }
            case TorchLayout l -> out.append("{\"layout\":\"").append(l.torchName()).append("\"}");
            case QScheme q -> out.append("{\"qscheme\":\"").append(q.torchName()).append("\"}");
            case Tensor t -> tensor(t, out, depth);
            case SparseTensor s -> sparse(s, out, depth);
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
                string(o.className(), out);
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
            out.append(PythonFloat.repr(d));
        }
    }

    static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    boolean loneSurrogate = Character.isSurrogate(c) && !(Character.isHighSurrogate(c)
                            && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))
                            && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || loneSurrogate) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
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
        Storage storage = t.storage();
        // PyTorch numbers storages by data address; zero-byte storages all have address 0.
        Object key = storage.byteSize() == 0 ? EMPTY_STORAGE : storage;
        Integer number = storageNumbers.get(key);
        if (number == null) {
            number = storageNumbers.size();
            storageNumbers.put(key, number);
        }
        out.append("{\"tensor\":{\"dtype\":\"").append(t.dtype().torchName()).append("\",\"shape\":");
        longs(t.shape(), out);
        out.append(",\"stride\":");
        longs(t.strides(), out);
        out.append(",\"storage_offset\":").append(t.storageOffset())
                .append(",\"storage\":").append(number)
                .append(",\"requires_grad\":").append(t.requiresGrad())
                .append(",\"sha256\":\"").append(sha256(t)).append('"');
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
        MemorySegment bytes = t.resolveConjAndNeg().contiguous().contiguousBytes();
        long chunk = 1L << 26;
        for (long at = 0; at < bytes.byteSize(); at += chunk) {
            ByteBuffer buffer = bytes.asSlice(at, Math.min(chunk, bytes.byteSize() - at)).asByteBuffer();
            digest.update(buffer);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
