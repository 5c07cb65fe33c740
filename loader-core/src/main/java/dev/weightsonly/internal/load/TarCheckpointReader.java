package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.container.LegacyTar;
import dev.weightsonly.internal.load.CheckpointReader.Result;
import dev.weightsonly.internal.torch.LegacyTarReader;
import dev.weightsonly.internal.torch.StorageSource;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * The tar format of PyTorch 0.1.x: storages and tensor geometry in their own members ({@link LegacyTarReader}),
 * the object pickle referring to them by key. (PyTorch 2.6+ refuses it under weights_only, because its reader was
 * unsafe; this one checks everything, so it loads.)
 */
final class TarCheckpointReader {

    private TarCheckpointReader() {
    }

    static Result read(Location where, MemorySegment bytes, LoadOptions options, Arena owner)
            throws CheckpointException {
        LoadLimits limits = options.limits();
        LegacyTar tar = LegacyTar.open(bytes, where, limits.maxArchiveEntries());
        Map<String, Object> objects = LegacyTarReader.read(tar.member("storages", where), where.inRecord("storages"),
                tar.member("tensors", where), where.inRecord("tensors"), limits);
        MemorySegment pickle = tar.member("pickle", where);
        ObjectPickle pickles = new ObjectPickle(options, owner);
        TorchUnpicklerHost host = pickles.host(new StorageSource.TarObjects(objects), false, false);
        Object root = pickles.run(pickle, where.inRecord("pickle"), host);
        long tensors = objects.values().stream().filter(o -> o instanceof Tensor).count();
        return new Result("0.1.x tar", root, (int) tensors, (int) (objects.size() - tensors),
                host.usedAllowedGlobals());
    }
}
