/**
 * dtypes, storages and zero-copy tensor views over {@link java.lang.foreign.MemorySegment}s.
 * No dependencies beyond the JDK; see {@link dev.weightsonly.tensors} for the model.
 */
module dev.weightsonly.tensors {
    // The JVM's maximum heap bounds what one operation may materialise (MaterializationLimitException).
    requires java.management;
    exports dev.weightsonly.tensors;
}
