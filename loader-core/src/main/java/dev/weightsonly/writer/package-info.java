/**
 * Writing what weightsonly reads: {@link dev.weightsonly.writer.TorchWriter} saves a value tree in torch's
 * zip format as {@code torch.save} does (shared storages stay shared, views keep their strides and offsets);
 * {@link dev.weightsonly.writer.SafetensorsWriter} saves tensors as safetensors as the reference writer does.
 * Both stream tensor bytes from their storages, so memory does not grow with the file, and both write
 * through a temporary file renamed over the target when complete.
 */
package dev.weightsonly.writer;
