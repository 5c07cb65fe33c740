package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * Where the bytes of the storages a pickle names come from, per container format.
 */
public sealed interface StorageSource {

    /**
     * The zip format: storage {@code key} is record {@code data/<key>}, whose size must equal the declared one.
     * {@code recordCount} is how many records the archive holds, a bound of how many storages a load can keep
     * (its map of storages is made for that many at once, rather than grown step by step to 300,000).
     */
    record ZipRecords(StorageRecords records, int recordCount) implements StorageSource {

        /** The storages of an archive whose number of records is not known. */
        public ZipRecords(StorageRecords records) {
            this(records, 0);
        }
    }

    /**
     * The legacy stream, first pass: the raw blocks follow the object pickle, so their sizes (from the
     * dtypes the pickle declares) must be known before they can be found. This pass records what each
     * storage key holds ({@link TorchUnpicklerHost#legacyStorages()}) and builds placeholder tensors; nothing
     * else is trusted from it.
     */
    record LegacyDeclarations() implements StorageSource {
    }

    /**
     * The legacy stream, second pass: the bytes of each root allocation, by number, as
     * {@link dev.weightsonly.internal.container.LegacyStream#readBlocks} read them.
     */
    record LegacyBlocks(List<MemorySegment> roots) implements StorageSource {
        public LegacyBlocks {
            roots = List.copyOf(roots);
        }
    }

    /**
     * The tar format of PyTorch 0.1.x: the object pickle's persistent ids are keys ({@code "123"}) of the
     * storages and tensors its other members described.
     */
    record TarObjects(Map<String, Object> objects) implements StorageSource {
    }

    /**
     * No storages: the legacy stream's pickles of plain data (magic number, protocol version, sys_info, storage
     * keys), which torch reads with the same restricted unpickler as the object pickle but without persistent
     * ids, so the allowed globals work there as anywhere and a persistent id is refused.
     */
    record PlainData() implements StorageSource {
    }

    /** Finds the bytes of one zip record. */
    @FunctionalInterface
    interface Lookup {
        MemorySegment bytes(String key, CallSite site) throws CheckpointException;
    }
}
