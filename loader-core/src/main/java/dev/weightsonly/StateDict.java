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
     * @param name the parameter or buffer name, such as {@code "layer1.0.conv1.weight"}
     * @return the tensor, a view valid until the checkpoint is closed
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

    /**
     * Whether there is a tensor called {@code name}, for optional entries ({@link #tensor} throws instead).
     *
     * @param name the parameter or buffer name
     * @return true if the state dict holds it
     */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The parameter and buffer names, to match them against a model's.
     *
     * @return an unmodifiable set, in saved order
     */
    public Set<String> names() {
        return tensors.keySet();
    }

    /**
     * The whole state dict as a map, to iterate names and tensors together.
     *
     * @return an unmodifiable map, in saved order
     */
    public Map<String, Tensor> asMap() {
        return tensors;
    }

    /**
     * The number of tensors.
     *
     * @return how many names the state dict has
     */
    public int size() {
        return tensors.size();
    }

    /**
     * Sum of the tensors' logical sizes in bytes (shared storages counted once per view), {@link Long#MAX_VALUE}
     * if it exceeds a long: a hostile file's stride-0 views can claim 2^44 bytes each, and a sum is no reason
     * to throw.
     *
     * @return the sum of {@link Tensor#byteSize()} over the tensors, saturated at {@link Long#MAX_VALUE}
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
