package dev.weightsonly.internal.safetensors;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The index of a sharded Hugging Face checkpoint ({@code pytorch_model.bin.index.json},
 * {@code model.safetensors.index.json}): {@code {"metadata": {"total_size": N}, "weight_map": {name: shard}}}.
 * Shard names come from the file, so each must be a plain file name in the index's own folder: no path
 * separators, no {@code ..}, nothing hidden behind a NUL.
 */
public final class ShardIndex {

    /** Largest index file read; real ones are a few hundred kilobytes. */
    public static final int MAX_INDEX_BYTES = 64 << 20;
    private static final Pattern SHARD_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}");

    private final Map<String, String> weightMap;
    private final Long totalSize;

    private ShardIndex(Map<String, String> weightMap, Long totalSize) {
        this.weightMap = Collections.unmodifiableMap(weightMap);
        this.totalSize = totalSize;
    }

    /** Tensor names to shard file names, in the index's order. */
    public Map<String, String> weightMap() {
        return weightMap;
    }

    /** The distinct shard file names, in order of first mention. */
    public List<String> shards() {
        return new ArrayList<>(new LinkedHashSet<>(weightMap.values()));
    }

    /** {@code metadata.total_size}, when the index gives it. */
    public OptionalLong totalSize() {
        return totalSize == null ? OptionalLong.empty() : OptionalLong.of(totalSize);
    }

    /** Parses and checks an index file's bytes. */
    public static ShardIndex parse(byte[] json, Location where) throws CheckpointException {
        if (json.length > MAX_INDEX_BYTES) {
            throw where.limit("maxIndexBytes", MAX_INDEX_BYTES, "a shard index of " + json.length + " bytes");
        }
        int bad = StrictJson.firstInvalidUtf8(json);
        if (bad >= 0) {
            throw where.malformed("the shard index is not UTF-8 (byte " + bad + ")");
        }
        Map<String, String> weightMap = null;
        Long totalSize = null;
        try {
            StrictJson in = new StrictJson(json, 16);
            in.beginObject();
            for (String key = in.nextName(); key != null; key = in.nextName()) {
                switch (key) {
                    case "weight_map" -> weightMap = weightMap(in, where);
                    case "metadata" -> {
                        in.beginObject();
                        for (String m = in.nextName(); m != null; m = in.nextName()) {
                            if (m.equals("total_size") && in.peek() == StrictJson.Kind.NUMBER) {
                                totalSize = in.unsignedLong();
                            } else {
                                in.skipValue();
                            }
                        }
                    }
                    default -> in.skipValue();
                }
            }
            in.finish();
        } catch (StrictJson.SyntaxError e) {
            throw where.malformed("the shard index is not valid JSON: " + e.getMessage());
        }
        if (weightMap == null) {
            throw where.malformed("the shard index has no \"weight_map\"");
        }
        return new ShardIndex(weightMap, totalSize);
    }

    private static Map<String, String> weightMap(StrictJson in, Location where)
            throws StrictJson.SyntaxError, CheckpointException {
        Map<String, String> map = new LinkedHashMap<>();
        in.beginObject();
        for (String name = in.nextName(); name != null; name = in.nextName()) {
            if (in.peek() != StrictJson.Kind.STRING) {
                throw where.malformed("weight_map[\"" + name + "\"] must name a shard file");
            }
            String shard = in.string();
            if (!SHARD_NAME.matcher(shard).matches() || shard.contains("..")) {
                throw where.malformed("shard name '" + shard.replace("\0", "\\0") + "' for tensor '" + name
                        + "' is not a plain file name in the index's folder");
            }
            map.put(name, shard);
        }
        return map;
    }
}
