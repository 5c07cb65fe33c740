package dev.weightsonly.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Fills a DJL block's parameters from a PyTorch state dict, by PyTorch name ({@link ParameterNames}), as
 * {@code model.load_state_dict(state_dict, strict)} does.
 *
 * <p>Values are copied into the parameters' own arrays, so the block does not depend on the checkpoint (which may
 * be closed afterwards) and may be trained. A tensor whose dtype differs from its parameter's is converted, as
 * PyTorch's {@code copy_} converts. Every shape is checked before anything is copied: on any error no parameter has
 * changed.
 *
 * <pre>{@code
 * Block model = SmallResNet.build();
 * model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 32, 32));
 * try (Checkpoint checkpoint = Checkpoint.load(Path.of("resnet.pt"))) {
 *     LoadReport report = StateDictLoader.load(model, checkpoint.stateDict().asMap(), true);
 * }
 * }</pre>
 */
public final class StateDictLoader {

    private StateDictLoader() {
    }

    /**
     * Copies the tensors of {@code stateDict} into the parameters of {@code block}.
     *
     * @param block     an initialised block (its parameters have arrays: call {@code block.initialize} first)
     * @param stateDict tensors by PyTorch key, for example {@code checkpoint.stateDict().asMap()}
     * @param strict    as PyTorch's {@code strict}: refuse missing and unexpected keys (else report them)
     * @return the keys loaded, missing, unexpected and ignored
     * @throws StateDictMismatchException if a shape differs, a dtype has no DJL counterpart, or (strict) a key is
     *                                    missing or unexpected; nothing was changed
     * @throws IllegalStateException      if the block is not initialised
     * @throws IllegalArgumentException   if two parameters of the block would have the same PyTorch key (see
     *                                    {@link ParameterNames#of}); nothing was changed
     */
    public static LoadReport load(Block block, Map<String, Tensor> stateDict, boolean strict) {
        Objects.requireNonNull(stateDict, "stateDict");
        ParameterNames names = ParameterNames.of(block);
        Map<String, Parameter> parameters = names.parameters();
        List<String> loaded = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        Map<Parameter, Tensor> copies = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
            String key = entry.getKey();
            Parameter parameter = entry.getValue();
            if (!parameter.isInitialized()) {
                throw new IllegalStateException("parameter '" + key + "' of " + block.getClass().getSimpleName()
                        + " has no array yet: call block.initialize(manager, dataType, inputShapes) first");
            }
            Tensor tensor = stateDict.get(key);
            if (tensor == null) {
                missing.add(key);
                continue;
            }
            long[] expected = parameter.getArray().getShape().getShape();
            if (!Arrays.equals(expected, tensor.shape())) {
                errors.add("size mismatch for " + key + ": copying a param with shape " + torchSize(tensor.shape())
                        + " from checkpoint, the shape in current model is " + torchSize(expected) + ".");
            } else if (NDArrays.dataType(tensor.dtype()).isEmpty()) {
                errors.add("dtype of " + key + ": the checkpoint's " + tensor.dtype().torchName()
                        + " has no DJL data type");
            } else if (tooLargeForOneCopy(key, tensor) instanceof String tooLarge) {
                errors.add(tooLarge);
            } else {
                copies.put(parameter, tensor);
                loaded.add(key);
            }
        }
        List<String> ignored = names.countersWithoutParameter().stream().filter(stateDict::containsKey).toList();
        List<String> unexpected = stateDict.keySet().stream()
                .filter(key -> !parameters.containsKey(key) && !ignored.contains(key)).toList();
        LoadReport report = new LoadReport(loaded, missing, unexpected, ignored);
        if (strict && !unexpected.isEmpty()) {
            errors.addFirst("Unexpected key(s) in state_dict: " + quoted(unexpected) + ". ");
        }
        if (strict && !missing.isEmpty()) {
            errors.addFirst("Missing key(s) in state_dict: " + quoted(missing) + ". ");
        }
        if (!errors.isEmpty()) {
            throw new StateDictMismatchException("Error(s) in loading state_dict for "
                    + block.getClass().getSimpleName() + ":\n\t" + String.join("\n\t", errors), report);
        }
        copies.forEach(StateDictLoader::copyInto);
        return report;
    }

    private static void copyInto(Parameter parameter, Tensor tensor) {
        NDArray target = parameter.getArray();
        NDManager manager = target.getManager();
        DataType type = target.getDataType();
        if (NDArrays.keepsBits(tensor.dtype()) && NDArrays.dataType(tensor.dtype()).orElseThrow() == type) {
            // Fresh memory the parameter keeps: never the checkpoint's mapping, which is read-only and may close.
            ByteBuffer values = manager.allocateDirect(NDArrays.requireIntBytes(parameter.getName(), tensor));
            MemorySegment.ofBuffer(values).copyFrom(NDArrays.rowMajorBytes(tensor));
            target.set(values);
            return;
        }
        try (NDManager scratch = manager.newSubManager();
                NDArray converted = NDArrays.copy(scratch, parameter.getName(), tensor).toType(type, false)) {
            target.set(converted.toByteBuffer());
        }
    }

    /** Why {@code tensor} cannot be copied as one DJL buffer (checked before anything is copied), or null. */
    private static String tooLargeForOneCopy(String key, Tensor tensor) {
        try {
            NDArrays.requireIntBytes(key, tensor);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static String torchSize(long[] shape) {
        return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "torch.Size([", "])"));
    }

    private static String quoted(List<String> keys) {
        return keys.stream().map(k -> '"' + k + '"').collect(Collectors.joining(", "));
    }
}
