package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import java.lang.foreign.MemorySegment;

/** Where a container keeps the bytes of a storage record ({@code data/<key>} in a zip archive). */
@FunctionalInterface
public interface StorageRecords {

    /** The record's bytes, or an exception naming the missing record. */
    MemorySegment storageBytes(String key, CallSite site) throws CheckpointException;
}
