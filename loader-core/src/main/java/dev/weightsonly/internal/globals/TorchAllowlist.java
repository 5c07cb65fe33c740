package dev.weightsonly.internal.globals;

import dev.weightsonly.internal.pickle.PyBuiltin;
import dev.weightsonly.internal.torch.StorageType;
import dev.weightsonly.internal.torch.TorchClass;
import dev.weightsonly.internal.torch.TorchFunction;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.torch.QScheme;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * PyTorch's default weights-only allowlist (torch/_weights_only_unpickler.py, 2026): the exact
 * {@code module.name} strings a checkpoint may name without the user allowing anything, each mapped
 * to a fixed handle. Names are compared as whole strings after the Python 2 name mapping; nothing is
 * matched by prefix, and nothing is ever looked up reflectively.
 */
public final class TorchAllowlist {

    private static final Map<String, Object> ENTRIES = build();

    private TorchAllowlist() {
    }

    /** Every name in the default allowlist. */
    public static Set<String> names() {
        return ENTRIES.keySet();
    }

    /** Whether {@code qualifiedName} ({@code module.name}) is allowed by default. */
    public static boolean contains(String qualifiedName) {
        return ENTRIES.containsKey(qualifiedName);
    }

    /**
     * The fixed handle a default-allowed name stands for: a {@link PyBuiltin}, a {@link TorchFunction}, a
     * {@link TorchClass}, a {@link StorageType}, a {@link DType} or a {@link QScheme}.
     *
     * @param qualifiedName {@code module.name}, after the Python 2 name mapping
     * @return the handle, or empty if the name is not on the default allowlist
     */
    public static Optional<Object> lookup(String qualifiedName) {
        return Optional.ofNullable(ENTRIES.get(qualifiedName));
    }

    private static Map<String, Object> build() {
        Map<String, Object> m = new HashMap<>();
        for (PyBuiltin b : PyBuiltin.values()) {
            m.put(b.qualifiedName(), b);
        }
        for (TorchFunction f : TorchFunction.values()) {
            m.put(f.qualifiedName(), f);
        }
        m.put("torch.Tensor", new TorchClass("torch.Tensor"));
        m.put("torch.storage.TypedStorage", new TorchClass("torch.storage.TypedStorage"));
        m.put("torch.storage.UntypedStorage", new StorageType("torch.storage.UntypedStorage", DType.UINT8, true));
        for (DType d : DType.values()) {
            m.put("torch." + d.torchName(), d);
            d.legacyStorageName().ifPresent(name ->
                    m.put("torch." + name, new StorageType("torch." + name, d, false)));
        }
        for (String name : List.of("BFloat16", "Bool", "Byte", "Char", "ComplexDouble", "ComplexFloat", "Double",
                "Float", "Half", "Int", "Long", "Short")) {
            DType d = DType.fromLegacyStorageName(name + "Storage").orElseThrow();
            m.put("torch.cuda." + name + "Storage", new StorageType("torch.cuda." + name + "Storage", d, false));
        }
        for (String name : List.of("BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int", "Long",
                "Short")) {
            m.put("torch." + name + "Tensor", new TorchClass("torch." + name + "Tensor"));
            m.put("torch.cuda." + name + "Tensor", new TorchClass("torch.cuda." + name + "Tensor"));
            if (!name.equals("Bool")) {
                m.put("torch.sparse." + name + "Tensor", new TorchClass("torch.sparse." + name + "Tensor"));
                m.put("torch.cuda.sparse." + name + "Tensor", new TorchClass("torch.cuda.sparse." + name + "Tensor"));
            }
        }
        for (QScheme q : QScheme.values()) {
            m.put("torch." + q.torchName(), q);
        }
        return Collections.unmodifiableMap(m);
    }
}
