/**
 * Machinery (not exported): the safetensors format: {@link SafetensorsHeader} validates a file's header
 * exactly as the reference reader (huggingface/safetensors) does and turns its tensors into zero-copy views;
 * {@link SafetensorsDType} maps the format's dtype codes to torch dtypes.
 * {@link dev.weightsonly.Checkpoint#load(java.nio.file.Path)} reads safetensors files through this package;
 * {@link dev.weightsonly.writer.SafetensorsWriter} writes them.
 *
 * <p>The format holds no code, so there is nothing to allowlist: the risks are a header that lies about
 * sizes and offsets (every one is checked with overflow-safe arithmetic before use) and a header built to
 * exhaust the parser (its length, nesting and sizes are bounded).
 */
package dev.weightsonly.internal.safetensors;
