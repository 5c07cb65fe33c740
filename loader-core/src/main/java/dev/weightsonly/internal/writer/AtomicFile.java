package dev.weightsonly.internal.writer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file through a temporary sibling renamed over it when complete: a failed write leaves the target
 * as it was, and the target may be a file that is still mapped (its old bytes stay valid for the mapping).
 * The temporary file gets the default permissions, as the target would.
 */
public final class AtomicFile {

    /** Writes the file's content. */
    @FunctionalInterface
    public interface Body {
        /**
         * Writes the whole content to the temporary file.
         *
         * @param channel the temporary file, open for writing at position 0; closed by {@link #write(Path, Body)}
         * @throws IOException to abandon the write; the temporary file is deleted and the target kept
         */
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFile() {
    }

    /**
     * Writes {@code file} through a new temporary file in its folder, forced to disk and then renamed over it
     * (atomically where the file system can).
     *
     * @param file the file to create or replace
     * @param body writes the content
     * @throws IOException if the temporary file cannot be created, written or renamed, or {@code body} fails;
     *     the temporary file is deleted and the target left as it was
     */
    public static void write(Path file, Body body) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path temp = null;
        FileChannel opened = null;
        while (opened == null) {
            temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp");
            try {
                opened = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                // another name
            }
        }
        try {
            try (FileChannel channel = opened) {
                body.write(channel);
                channel.force(false);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }
}
