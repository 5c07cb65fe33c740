/**
 * dtypes, storages and zero-copy tensor views over {@link java.lang.foreign.MemorySegment}s.
 * No dependencies; see {@link dev.weightsonly.tensors} for the model.
 */
module dev.weightsonly.tensors {
    exports dev.weightsonly.tensors;
}
