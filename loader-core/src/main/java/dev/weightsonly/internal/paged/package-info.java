/**
 * Arrays of a load's own bookkeeping (the zip directory's values, the unpickler's memo, the pickle's bytes) kept
 * in pages of at most 256 KiB rather than in one array each.
 *
 * <p>Why: G1, the JVM's default collector, allocates an array of half a region or more (a region is 1 to 32 MiB,
 * by heap size; 4 MiB for a heap of a few GiB) as a "humongous" object in regions of its own, and such an
 * allocation may start a concurrent marking cycle; the regions stay out of the young generation and are freed
 * only at some later collection. A load of an optimizer state of 300,000 tensors made a dozen such arrays
 * (2 to 23 MB each) and a loop of such loads spent a fifth to a quarter of its time in the collector, against
 * 3% when no array of a load reached the humongous size (measured with {@code -XX:G1HeapRegionSize=64m}; see
 * docs/BENCHMARKS.md). Pages of 256 KiB stay under half of the smallest region.
 *
 * <p>Every class here is a plain fixed-size (or only-growing) container with no checks beyond Java's own array
 * bounds: the callers check every index that comes from a file before using it, as they did with arrays.
 */
package dev.weightsonly.internal.paged;
