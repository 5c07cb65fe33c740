package dev.weightsonly.writer;

/**
 * What {@link SafetensorsWriter} does with tensors whose bytes overlap in one storage (tied weights, a slice
 * and its whole). Safetensors has no way to say two tensors share memory: each tensor owns its own bytes,
 * so such views can only be written as independent copies, which doubles the shared bytes on disk and
 * loses the tie when loading. The reference Python tools ({@code safetensors.torch.save_file}) therefore
 * refuse them unless told otherwise, and so does this writer.
 */
public enum SharedStorage {
    /** Refuse, naming the tensors that share memory (the default). */
    REFUSE,
    /** Write each view's own elements, row-major, as if it had been copied first. */
    COPY_EACH_VIEW
}
