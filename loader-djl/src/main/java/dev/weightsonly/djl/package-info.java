/**
 * PyTorch state dicts into <a href="https://djl.ai">DJL</a>: {@link dev.weightsonly.djl.NDArrays} turns
 * tensors into {@code NDArray}s, {@link dev.weightsonly.djl.DjlCheckpoint} maps a checkpoint and hands its
 * tensors to the engine without copying them, and {@link dev.weightsonly.djl.StateDictLoader} fills a DJL
 * {@code Block}'s parameters by PyTorch name, reporting missing and unexpected keys as PyTorch's
 * {@code load_state_dict(strict=True)} does.
 *
 * <p>Only DJL's API is a dependency; the engine (for example {@code ai.djl.pytorch:pytorch-engine} with its native
 * library) is the application's choice. Zero-copy arrays need an engine that builds arrays over a direct buffer
 * without copying it, as DJL's PyTorch engine does ({@code torch::from_blob}).
 */
package dev.weightsonly.djl;
