package dev.weightsonly.internal.load;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.StateDict;
import dev.weightsonly.internal.safetensors.ShardIndex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sharded Hugging Face checkpoint, read from its index ({@link ShardIndex}): every shard loaded as a state
 * dict ({@link Checkpoint#load(Path, LoadOptions)}, which reads each in its own format), and one ordered dict of
 * every tensor, in the index's order. Every tensor the index names must be in the shard it names, and no tensor
 * may be in two shards.
 */
public final class ShardedReader {

    /**
     * What a sharded load produced.
     *
     * @param root   the ordered dict of every tensor, in the index's order
     * @param shards the loaded shards, which the result's tensors view; closing them releases the tensors
     */
    public record Result(Object root, List<Checkpoint> shards) {
    }

    private ShardedReader() {
    }

    /**
     * Reads the index and its shards; on any failure, every shard loaded so far is closed.
     *
     * @param index   the index file
     * @param options the options every shard is loaded with
     * @return the ordered dict of every tensor, and the shards it views
     * @throws CheckpointException if the index or a shard is refused
     * @throws IOException if the index or a shard cannot be read
     */
    public static Result read(Path index, LoadOptions options) throws IOException {
        Location where = Location.of(index.toString());
        long size = Files.size(index);
        if (size > ShardIndex.MAX_INDEX_BYTES) {
            throw where.limit("maxIndexBytes", ShardIndex.MAX_INDEX_BYTES, "a shard index of " + size + " bytes");
        }
        ShardIndex parsed = ShardIndex.parse(Files.readAllBytes(index), where);
        Path folder = index.toAbsolutePath().getParent();
        List<Checkpoint> loaded = new ArrayList<>();
        try {
            Map<String, StateDict> byShard = new LinkedHashMap<>();
            for (String shard : parsed.shards()) {
                Checkpoint c = Checkpoint.load(folder.resolve(shard), options);
                loaded.add(c);
                try {
                    byShard.put(shard, c.stateDict());
                } catch (IllegalStateException notAStateDict) {
                    throw Location.of(c.source()).malformed("shard " + shard + " of " + index.getFileName()
                            + " is not a state dict: " + notAStateDict.getMessage());
                }
            }
            PyDict.Builder all = PyDict.builder(PyDict.Kind.ORDERED_DICT);
            Map<String, String> owner = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : parsed.weightMap().entrySet()) {
                StateDict sd = byShard.get(e.getValue());
                if (!sd.contains(e.getKey())) {
                    throw where.malformed("the index puts tensor '" + e.getKey() + "' in " + e.getValue()
                            + ", which does not hold it");
                }
                all.put(e.getKey(), sd.tensor(e.getKey()));
                owner.put(e.getKey(), e.getValue());
            }
            for (Map.Entry<String, StateDict> shard : byShard.entrySet()) {
                for (Map.Entry<String, Tensor> t : shard.getValue().asMap().entrySet()) {
                    String first = owner.putIfAbsent(t.getKey(), shard.getKey());
                    if (first == null) {
                        all.put(t.getKey(), t.getValue()); // in a shard but not in the index: kept, not dropped
                    } else if (!first.equals(shard.getKey())) {
                        throw where.malformed("tensor '" + t.getKey() + "' is in both " + first + " and "
                                + shard.getKey());
                    }
                }
            }
            return new Result(all.build(), loaded);
        } catch (IOException | RuntimeException | Error e) {
            loaded.forEach(Checkpoint::close);
            throw e;
        }
    }
}
