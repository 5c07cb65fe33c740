/**
 * Tensors as torch stores them, read without copying and validated before use.
 *
 * <h2>Model</h2>
 * <ul>
 *   <li>{@link dev.weightsonly.tensors.DType} is a torch scalar type with its {@code c10::ScalarType}
 *       number, element size, value width, legacy storage name and family.</li>
 *   <li>{@link dev.weightsonly.tensors.Storage} is the bytes of one torch storage, wrapping a
 *       {@link java.lang.foreign.MemorySegment} (a mapped file region, a heap array) without copying.
 *       Storages are shared by identity, exactly as tensors that shared a storage at save time do.</li>
 *   <li>{@link dev.weightsonly.tensors.Tensor} is an immutable strided view of a storage: dtype,
 *       shape, strides and storage offset counted in elements, plus {@code requires_grad} and torch's
 *       lazy conjugate and negative bits.</li>
 *   <li>{@link dev.weightsonly.tensors.Float16}, {@link dev.weightsonly.tensors.BFloat16},
 *       {@link dev.weightsonly.tensors.Float8} and {@link dev.weightsonly.tensors.Float4E2M1} decode
 *       the reduced-precision formats.</li>
 * </ul>
 *
 * <h2>Why views are validated up front</h2>
 * A checkpoint's offsets, sizes and strides are untrusted input: PyTorch before 2.10 read outside a
 * storage when they lied (CVE-2026-24747). {@link dev.weightsonly.tensors.Tensor#of} checks, with
 * overflow-checked {@code long} arithmetic, that the last addressed element lies inside the storage
 * and refuses otherwise with an {@link dev.weightsonly.tensors.InvalidViewException} naming what was
 * claimed and what was found. After that every element read is in bounds by construction.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>All data are little-endian, as torch writes them on every host it practically runs on.</li>
 *   <li>All sizes and offsets are {@code long}: storages and tensors may exceed 2 GiB; only the copies
 *       into Java arrays are limited to what an array can hold.</li>
 *   <li>Element reads return torch's logical values (conjugate and negative bits applied); the raw
 *       byte accessors return the stored bytes.</li>
 *   <li>Nothing here copies unless the method says so ({@code copyOf}, {@code contiguous()} of a
 *       strided view, {@code resolveConjAndNeg()}, the {@code to*Array} methods, {@code reshape} where
 *       PyTorch's copies too, a typed buffer where the stored bytes are not the values).</li>
 * </ul>
 */
package dev.weightsonly.tensors;
