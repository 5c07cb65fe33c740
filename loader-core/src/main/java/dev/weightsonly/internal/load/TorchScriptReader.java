package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.load.CheckpointReader.Result;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.python.PyDict;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a TorchScript archive ({@code torch.jit.save}), read as data: {@code data.pkl} (the module tree,
 * storages under {@code data/}) and {@code constants.pkl} (storages under {@code constants/}). The root is a dict
 * {@code {"data": module, "constants": tuple}}; the code records are never opened, and without
 * {@link LoadOptions.Builder#torchScriptWeights(boolean)} the archive is refused, as torch refuses it.
 */
final class TorchScriptReader {

    /** The record that makes a zip archive a TorchScript archive. */
    static final String MARKER = "constants.pkl";

    private TorchScriptReader() {
    }

    static Result read(Location where, ZipArchive archive, LoadOptions options, Arena owner)
            throws CheckpointException {
        if (!options.torchScriptWeights()) {
            // CVE-2025-32434: torch used to hand such files to torch.jit.load even under weights_only.
            throw where.unsupported("Cannot use weights_only=True with TorchScript archives: this file was"
                    + " written by torch.jit.save (it has " + archive.fullName(MARKER) + "), and"
                    + " TorchScript code is never interpreted here. To read only its weights, load it with"
                    + " LoadOptions.builder().torchScriptWeights(true).");
        }
        ZipCheckpointReader.checkVersion(where, archive);
        boolean bigEndian = ZipCheckpointReader.byteOrderIsBig(where, archive);
        ObjectPickle objects = new ObjectPickle(options, owner);
        PyDict.Builder root = PyDict.builder(PyDict.Kind.DICT);
        int tensors = 0;
        int storages = 0;
        Set<String> used = new LinkedHashSet<>();
        for (String part : new String[] {"data", "constants"}) {
            String pickleName = part + ".pkl";
            MemorySegment pickle = archive.record(pickleName).orElseThrow(() -> where.malformed(
                    "the TorchScript archive has no " + archive.fullName(pickleName) + " record"));
            TorchUnpicklerHost host = objects.host(ZipCheckpointReader.storages(archive, part + "/", Map.of(), owner,
                    false), bigEndian, true);
            root.put(part, objects.run(pickle, where.inRecord(archive.fullName(pickleName)), host));
            tensors += host.tensorCount();
            storages += host.storageCount();
            used.addAll(host.usedAllowedGlobals());
        }
        return new Result("TorchScript archive", root.build(), tensors, storages, used);
    }
}
