package dev.weightsonly.writer;

/**
 * Told how far a write has come, so that a tool can draw a progress bar. Called on the writing thread after
 * each block of tensor bytes (a few megabytes), never concurrently; it should return quickly.
 */
@FunctionalInterface
public interface WriteProgress {

    /** Does nothing; the default. */
    WriteProgress NONE = (written, total) -> { };

    /**
     * Reports that the write has reached {@code written} of {@code total} bytes; first called with 0 before any
     * data, last with {@code written == total}.
     *
     * @param written tensor bytes written so far
     * @param total   tensor bytes the file will hold, known before the first byte is written
     */
    void progress(long written, long total);
}
