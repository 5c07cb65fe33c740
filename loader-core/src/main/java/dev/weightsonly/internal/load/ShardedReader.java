package dev.weightsonly.internal.load;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.StateDict;
import dev.weightsonly.internal.safetensors.ShardIndex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sharded Hugging Face checkpoint, read from its index ({@link ShardIndex}): every shard loaded as a state
 * dict (by the caller's {@link ShardLoader}, which reads each in its own format), and one ordered dict of every
 * tensor, in the index's order. Every tensor the index names must be in the shard it names, and no tensor may be
 * in two shards. The files are the caller's: this reads the index's bytes and combines what the shards hold.
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

    /** Loads one shard the index names. */
    @FunctionalInterface
    public interface ShardLoader {
        /**
         * @param shard the shard's file name, as the index names it (a plain name in the index's folder)
         * @return the loaded shard, which the caller closes
         * @throws CheckpointException if the shard is missing, unreadable or refused
         */
        Checkpoint load(String shard) throws CheckpointException;
    }

    private ShardedReader() {
    }

    /**
     * Parses the index and loads its shards; on any failure, every shard loaded so far is closed.
     *
     * @param where     the index, for messages
     * @param indexName the index's file name, for messages
     * @param json      the index's bytes (at most {@link ShardIndex#MAX_INDEX_BYTES})
     * @param shards    loads a shard by its name in the index
     * @return the ordered dict of every tensor, and the shards it views
     * @throws CheckpointException if the index or a shard is refused
     */
    public static Result read(Location where, String indexName, byte[] json, ShardLoader shards)
            throws CheckpointException {
        ShardIndex parsed = ShardIndex.parse(json, where);
        List<Checkpoint> loaded = new ArrayList<>();
        try {
            Map<String, StateDict> byShard = new LinkedHashMap<>();
            for (String shard : parsed.shards()) {
                Checkpoint c = shards.load(shard);
                loaded.add(c);
                try {
                    byShard.put(shard, c.stateDict());
                } catch (IllegalStateException notAStateDict) {
                    throw Location.of(c.source()).malformed("shard " + shard + " of " + indexName
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
        } catch (RuntimeException | Error | CheckpointException e) {
            loaded.forEach(Checkpoint::close);
            throw e;
        }
    }
}
