package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.GlobalFactory;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.globals.GlobalPolicy;
import dev.weightsonly.internal.pickle.ObjectReplacement;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.internal.torch.StorageSource;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The one routine that runs a checkpoint's object pickle, whatever the format: a restricted unpickler with
 * torch's rules over the storages the format's reader hands it ({@link StorageSource}), a pickle that ends at its
 * STOP, and the caller's factories applied to the allowed globals it met. One instance per load, so that every
 * pickle of a load allows the same globals.
 */
final class ObjectPickle {

    private final LoadLimits limits;
    private final Map<String, GlobalFactory> globals;
    private final Arena owner;

    /**
     * @param owner the checkpoint's memory, into which a byte-swapped storage is copied (null: memory the garbage
     *              collector manages)
     */
    ObjectPickle(LoadOptions options, Arena owner) {
        this.limits = options.limits();
        this.globals = LoadAccess.BRIDGE.get().effectiveGlobals(options);
        this.owner = owner;
    }

    LoadLimits limits() {
        return limits;
    }

    /**
     * A host for the pickles of plain data around the object pickle (the legacy stream's magic number, protocol
     * version, sys_info and storage keys): no storages, the load's allowed globals.
     */
    TorchUnpicklerHost plainDataHost() {
        return TorchUnpicklerHost.plainData(globals.keySet(), limits);
    }

    /** A host that reads the storages of {@code source}; {@code torchScript} for a TorchScript archive's pickles. */
    TorchUnpicklerHost host(StorageSource source, boolean bigEndian, boolean torchScript) {
        return new TorchUnpicklerHost(source, bigEndian, globals.keySet(), limits, torchScript, owner);
    }

    /**
     * Runs the pickle in {@code [start, end)} of {@code bytes} with {@code host}: it must end at its STOP exactly
     * at {@code end} (torch writes nothing after it, and bytes there, a second pickle or a payload for another
     * reader, are refused rather than silently skipped). Returns the root, with the caller's factories applied.
     */
    Object run(MemorySegment bytes, long start, long end, Location where, TorchUnpicklerHost host)
            throws CheckpointException {
        Unpickler.Result result = Unpickler.load(bytes, start, end, where, host, limits);
        if (result.end() != end) {
            throw where.atOffset(result.end() - start).malformed((end - result.end()) + " bytes follow the"
                    + " pickle's STOP; a checkpoint's pickle ends at its STOP, and nothing after it is read");
        }
        return applyFactories(result.value(), host.usedAllowedGlobals(), where);
    }

    /** {@link #run} over a whole record. */
    Object run(MemorySegment record, Location where, TorchUnpicklerHost host) throws CheckpointException {
        return run(record, 0, record.byteSize(), where, host);
    }

    /** Lets the caller's factories replace the inert records of the allowed globals this load met. */
    private Object applyFactories(Object root, Set<String> used, Location where) throws CheckpointException {
        Map<String, GlobalFactory> factories = new HashMap<>();
        for (String name : used) {
            GlobalFactory f = globals.get(name);
            if (f != null && !GlobalPolicy.isInert(f)) {
                factories.put(name, f);
            }
        }
        if (factories.isEmpty()) {
            return root;
        }
        return ObjectReplacement.apply(root, object -> {
            GlobalFactory factory = factories.get(object.className());
            if (factory == null) {
                return object;
            }
            Object built;
            try {
                built = factory.create(object);
            } catch (Exception e) {
                throw where.malformed("the factory for " + object.className() + " refused its object: " + e);
            }
            if (built == null) {
                throw where.malformed("the factory for " + object.className() + " returned null");
            }
            return built;
        }, limits, where);
    }
}
