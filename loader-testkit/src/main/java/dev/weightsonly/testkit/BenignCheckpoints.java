package dev.weightsonly.testkit;

import static dev.weightsonly.testkit.ContainerBytes.checkpoint;
import static dev.weightsonly.testkit.ContainerBytes.records;
import static dev.weightsonly.testkit.PickleBytes.ascii;
import static dev.weightsonly.testkit.PickleBytes.cat;
import static dev.weightsonly.testkit.PickleBytes.floats;
import static dev.weightsonly.testkit.PickleBytes.integer;
import static dev.weightsonly.testkit.PickleBytes.orderedDict;
import static dev.weightsonly.testkit.PickleBytes.pickle;
import static dev.weightsonly.testkit.PickleBytes.storage;
import static dev.weightsonly.testkit.PickleBytes.str;
import static dev.weightsonly.testkit.PickleBytes.tensor;

import java.util.Map;

/**
 * Benign controls, built the same way as {@link HostileCheckpoints}: a test that a service refuses hostile files
 * should also show that it still accepts real ones.
 */
public final class BenignCheckpoints {

    private BenignCheckpoints() {
    }

    /**
     * A state dict: {@code weight} float32 [2, 2] = [[1, 2], [3, 4]] and {@code bias} float32 [2] = [0.5, -0.5]
     * over two storages, as {@code torch.save(model.state_dict())} writes them.
     *
     * @return the file's bytes
     */
    public static byte[] smallStateDict() {
        byte[] weight = tensor(storage("FloatStorage", "0", 4), 0, new long[] {2, 2}, new long[] {2, 1});
        byte[] bias = tensor(storage("FloatStorage", "1", 2), 0, new long[] {2}, new long[] {1});
        return checkpoint(pickle(orderedDict("weight", weight, "bias", bias)),
                records("0", floats(1, 2, 3, 4), "1", floats(0.5f, -0.5f)));
    }

    /**
     * A training checkpoint: {@code {"epoch": 3, "model": <the state dict above>, "optimizer": {"lr": 0.001}}}.
     *
     * @return the file's bytes
     */
    public static byte[] trainingCheckpoint() {
        byte[] weight = tensor(storage("FloatStorage", "0", 4), 0, new long[] {2, 2}, new long[] {2, 1});
        byte[] bias = tensor(storage("FloatStorage", "1", 2), 0, new long[] {2}, new long[] {1});
        byte[] lr = cat(ascii("G"), java.nio.ByteBuffer.allocate(8).putDouble(0.001).array());   // BINFLOAT
        byte[] optimizer = cat(ascii("}("), str("lr"), lr, ascii("u"));
        byte[] root = cat(ascii("}("), str("epoch"), integer(3), str("model"), orderedDict("weight", weight, "bias",
                bias), str("optimizer"), optimizer, ascii("u"));
        return checkpoint(pickle(root), records("0", floats(1, 2, 3, 4), "1", floats(0.5f, -0.5f)));
    }

    /**
     * The legacy stream (before PyTorch 1.6) of a state dict with one float32 tensor {@code w} = [1, 2, 3, 4].
     *
     * @return the file's bytes
     */
    public static byte[] legacyStateDict() {
        byte[] storageId = cat(PickleBytes.tuple(str("storage"), PickleBytes.global("torch", "FloatStorage"), str("0"),
                str("cpu"), integer(4), ascii("N")), ascii("Q"));
        return ContainerBytes.legacy(orderedDict("w", tensor(storageId, 0, new long[] {4}, new long[] {1})),
                Map.of("0", floats(1, 2, 3, 4)), Map.of("0", 4L));
    }
}
