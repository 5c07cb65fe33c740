package dev.weightsonly;

import dev.weightsonly.tensors.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * A PyTorch {@code state_dict}: parameter and buffer names ({@code layer1.0.conv1.weight}) to tensors, in
 * the order the checkpoint saved them. Immutable; the tensors are views into the checkpoint's storages
 * and stay valid until the {@link Checkpoint} is closed.
 */
public final class StateDict {

    private final String source;
    private final Map<String, Tensor> tensors;

    StateDict(String source, LinkedHashMap<String, Tensor> tensors) {
        this.source = source;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * The tensor called {@code name}; a missing name is an error that lists what is there.
     *
     * @throws NoSuchElementException if there is no tensor of that name (the message lists similar names)
     * @throws NullPointerException if {@code name} is null
     */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(java.util.Objects.requireNonNull(name, "name"));
        if (t == null) {
            throw new NoSuchElementException(source + ": no tensor '" + name + "' in the state dict"
                    + suggestions(name));
        }
        return t;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The names, in saved order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** The whole state dict as an unmodifiable, ordered map. */
    public Map<String, Tensor> asMap() {
        return tensors;
    }

    public int size() {
        return tensors.size();
    }

    /**
     * Sum of the tensors' logical sizes in bytes (shared storages counted once per view), {@link Long#MAX_VALUE}
     * if it exceeds a long: a hostile file's stride-0 views can claim 2^44 bytes each, and a sum is no reason
     * to throw.
     */
    public long totalBytes() {
        long total = 0;
        for (Tensor t : tensors.values()) {
            total += t.byteSize();
            if (total < 0) {
                return Long.MAX_VALUE; // each term is at most Long.MAX_VALUE, so the overflow shows as negative
            }
        }
        return total;
    }

    private String suggestions(String name) {
        String leaf = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : name;
        List<String> close = tensors.keySet().stream()
                .filter(n -> n.endsWith("." + leaf) || n.equals(leaf) || n.startsWith(name + ".")
                        || name.endsWith("." + n) || n.endsWith("." + name))
                .limit(5).toList();
        if (!close.isEmpty()) {
            return "; similar names: " + String.join(", ", close);
        }
        List<String> first = tensors.keySet().stream().limit(5).toList();
        return "; it has " + tensors.size() + " tensors" + (first.isEmpty() ? "" : ", starting with "
                + String.join(", ", first));
    }

    @Override
    public String toString() {
        return "StateDict[" + tensors.size() + " tensors from " + source + "]";
    }
}
