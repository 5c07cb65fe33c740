package dev.weightsonly.djl;

import java.util.List;

/**
 * What {@link StateDictLoader} did, in the terms of PyTorch's {@code load_state_dict}: the keys it loaded, the
 * model's keys the state dict lacks ({@code missing_keys}) and the state dict's keys the model has no place for
 * ({@code unexpected_keys}).
 *
 * @param loaded     keys whose values were copied into a parameter
 * @param missing    parameters of the block with no tensor in the state dict (left as they were)
 * @param unexpected tensors of the state dict with no parameter in the block (ignored)
 * @param ignored    keys of state PyTorch keeps and DJL does not ({@code num_batches_tracked}), consumed
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<String> ignored) {

    /**
     * Copies the lists.
     *
     * @param loaded     keys loaded
     * @param missing    keys missing from the state dict
     * @param unexpected keys the block has no parameter for
     * @param ignored    keys consumed without a parameter
     */
    public LoadReport {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        ignored = List.copyOf(ignored);
    }

    /**
     * Whether every parameter was loaded and every tensor used, as {@code strict=True} requires.
     *
     * @return true when nothing is missing or unexpected
     */
    public boolean isComplete() {
        return missing.isEmpty() && unexpected.isEmpty();
    }
}
