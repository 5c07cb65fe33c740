package dev.weightsonly;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * The checkpoint's bytes could not be had, so nothing of its content was judged: there is no such file, the path
 * is a directory, the file cannot be read (permissions, an I/O error) or mapped (only a regular file can be: read
 * anything else as a stream, with {@link Checkpoint#load(java.io.InputStream, String)}), a stream's read failed, or
 * a shard named by an index is not there. The message names the file; the
 * {@linkplain #getCause() cause}, when there is one, is the {@link IOException} the file system or the stream
 * gave. Unlike the other {@link CheckpointException}s this says nothing against the file: the same load may
 * succeed once the path is right.
 */
public final class UnreadableCheckpointException extends CheckpointException {

    private static final long serialVersionUID = 1L;

    UnreadableCheckpointException(Location where, String detail, IOException cause) {
        super(where, detail, cause);
    }

    /** A path that is a directory, not a file. */
    static UnreadableCheckpointException directory(String source) {
        return new UnreadableCheckpointException(Location.of(source), "is a directory, not a checkpoint file", null);
    }

    /**
     * {@code failure} of the file system while opening, sizing or reading {@code source}, in plain words: the
     * {@link FileSystemException}'s reason without its file (which the message already begins with).
     */
    static UnreadableCheckpointException of(String source, IOException failure) {
        String reason;
        if (failure instanceof NoSuchFileException) {
            reason = "no such file";
        } else if (failure instanceof AccessDeniedException) {
            reason = "cannot be read: permission denied";
        } else if (failure instanceof FileSystemException fs && fs.getReason() != null) {
            reason = "cannot be read: " + fs.getReason();
        } else {
            reason = "cannot be read: " + message(failure);
        }
        return new UnreadableCheckpointException(Location.of(source), reason, failure);
    }

    /** A file that opens but cannot be mapped (a device, a pipe, a file of a virtual file system). */
    static UnreadableCheckpointException unmappable(String source, IOException failure) {
        return new UnreadableCheckpointException(Location.of(source), "cannot be mapped (" + message(failure)
                + "): it is not a regular file", failure);
    }

    /** A stream whose read failed. */
    static UnreadableCheckpointException stream(String name, IOException failure) {
        return new UnreadableCheckpointException(Location.of(name), "the stream could not be read: "
                + message(failure), failure);
    }

    private static String message(IOException failure) {
        return failure.getMessage() != null ? failure.getMessage() : failure.getClass().getSimpleName();
    }

    /** A shard the index names, which is not there. */
    static UnreadableCheckpointException missingShard(String shard, String index) {
        return new UnreadableCheckpointException(Location.of(shard), "no such file, and " + index
                + " names it as a shard", null);
    }
}
