package dev.weightsonly.djl;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The PyTorch state dict key of every parameter of a DJL block tree, as the same model written with
 * {@code torch.nn} would name it.
 *
 * <p>Keys are the child names joined by dots, then the parameter name:
 * <ul>
 *   <li>a child added with {@code addChildBlock("conv1", ...)} is {@code conv1} (DJL stores it as {@code 01conv1},
 *       numbered by position; the number is dropped);</li>
 *   <li>the children of a {@link SequentialBlock} are {@code 0}, {@code 1}, ... by position, as in
 *       {@code nn.Sequential} (a parameterless child such as an activation takes its index, as in PyTorch);</li>
 *   <li>{@link BatchNorm} and {@link LayerNorm} parameters take PyTorch's names: {@code gamma} is {@code weight},
 *       {@code beta} is {@code bias}, {@code runningMean} and {@code runningVar} are {@code running_mean} and
 *       {@code running_var}; a batch norm's {@code num_batches_tracked} (a counter DJL does not keep) is an
 *       expected key with no parameter;</li>
 *   <li>any other parameter keeps its DJL name ({@code weight}, {@code bias}, or a custom block's own names).</li>
 * </ul>
 */
public final class ParameterNames {

    private final Map<String, Parameter> parameters;
    private final List<String> countersWithoutParameter;

    private ParameterNames(Map<String, Parameter> parameters, List<String> countersWithoutParameter) {
        this.parameters = Collections.unmodifiableMap(parameters);
        this.countersWithoutParameter = List.copyOf(countersWithoutParameter);
    }

    /**
     * Names every parameter of {@code block} and its descendants.
     *
     * @param block the root block (the model)
     * @return the names, in DJL's parameter order
     * @throws IllegalArgumentException naming both DJL parameters when two of them would have the same PyTorch key
     *                                  (children added under the same name, or the unnamed children of a block
     *                                  other than a {@code SequentialBlock}, such as a {@code ParallelBlock})
     */
    public static ParameterNames of(Block block) {
        Map<String, Parameter> parameters = new LinkedHashMap<>();
        Map<String, String> djlPaths = new LinkedHashMap<>();
        List<String> counters = new ArrayList<>();
        walk(block, "", "", parameters, djlPaths, counters);
        return new ParameterNames(parameters, counters);
    }

    private static void walk(Block block, String prefix, String djlPrefix, Map<String, Parameter> out,
            Map<String, String> djlPaths, List<String> counters) {
        for (Pair<String, Parameter> entry : block.getDirectParameters()) {
            String key = prefix + torchParameterName(block, entry.getKey());
            String djlPath = djlPrefix + entry.getKey();
            // Two parameters under one key would leave one of them silently unloaded (and not reported missing):
            // DJL accepts two children of the same name ("01fc", "02fc"), PyTorch's module names are unique.
            String other = djlPaths.putIfAbsent(key, djlPath);
            if (other != null) {
                throw new IllegalArgumentException("parameters " + other + " and " + djlPath + " of "
                        + block.getClass().getSimpleName() + " would both be PyTorch's '" + key + "': give the"
                        + " child blocks distinct names (addChildBlock), as the PyTorch module's attributes are");
            }
            out.put(key, entry.getValue());
        }
        if (block instanceof BatchNorm) {
            counters.add(prefix + "num_batches_tracked");
        }
        int position = 0;
        for (Pair<String, Block> child : block.getChildren()) {
            position++;
            String name = block instanceof SequentialBlock ? Integer.toString(position - 1)
                    : withoutPosition(child.getKey(), position);
            walk(child.getValue(), prefix + name + ".", djlPrefix + child.getKey() + ".", out, djlPaths, counters);
        }
    }

    /** DJL prefixes a child's name with its 1-based position, two digits at least ("01conv1"). */
    private static String withoutPosition(String key, int position) {
        String number = String.format(Locale.ROOT, "%02d", position);
        return key.startsWith(number) ? key.substring(number.length()) : key;
    }

    private static String torchParameterName(Block block, String djlName) {
        if (block instanceof BatchNorm || block instanceof LayerNorm) {
            return switch (djlName) {
                case "gamma" -> "weight";
                case "beta" -> "bias";
                case "runningMean" -> "running_mean";
                case "runningVar" -> "running_var";
                default -> djlName;
            };
        }
        return djlName;
    }

    /**
     * The parameters by PyTorch key.
     *
     * @return an unmodifiable map in DJL's parameter order
     */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /**
     * Keys PyTorch writes for state DJL does not keep (a batch norm's {@code num_batches_tracked}): expected in a
     * state dict, loaded into nothing.
     *
     * @return the keys, in block order
     */
    public List<String> countersWithoutParameter() {
        return countersWithoutParameter;
    }
}
