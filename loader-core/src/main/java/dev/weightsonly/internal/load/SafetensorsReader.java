package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.load.CheckpointReader.Result;
import dev.weightsonly.internal.safetensors.SafetensorsHeader;
import dev.weightsonly.python.PyDict;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * A safetensors file: no pickle, a strict JSON header ({@link SafetensorsHeader}), and a dict of its tensors in
 * data order, each a view over its slice of the bytes.
 */
final class SafetensorsReader {

    private SafetensorsReader() {
    }

    static Result read(String source, MemorySegment bytes, LoadLimits limits) throws CheckpointException {
        SafetensorsHeader header = SafetensorsHeader.read(source, bytes, limits);
        PyDict.Builder root = PyDict.builder(PyDict.Kind.DICT);
        header.views(bytes, limits.maxMaterializedBytes()).forEach(root::put);
        int count = header.tensors().size();
        return new Result("safetensors", root.build(), count, count, header.metadata(), Set.of());
    }
}
