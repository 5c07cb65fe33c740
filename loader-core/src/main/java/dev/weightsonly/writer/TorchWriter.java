package dev.weightsonly.writer;

import dev.weightsonly.internal.writer.AtomicFile;
import dev.weightsonly.internal.writer.PickleWriter;
import dev.weightsonly.internal.writer.TorchZipWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Saves a value tree as {@code torch.save} does (the zip format, PyTorch 1.6 and later), so that PyTorch and
 * {@link dev.weightsonly.Checkpoint#load} read back the same values, shapes, strides and shared storages.
 *
 * <p>What is written, in order, under the folder named after the file ({@code model.pt} → {@code model/}):
 * {@code data.pkl}, the protocol 2 pickle of the tree; {@code byteorder}, {@code little}; one
 * {@code data/<key>} record per storage, whole, once however many views share it; {@code version}, {@code 3}.
 * Records are STORED with their data aligned to 64 bytes, zip64 where sizes or offsets reach 4 GiB, byte for
 * byte as PyTorch's writer lays them out (so that PyTorch's own offset arithmetic and memory mapping work).
 * Tensors of the 17 dtypes with a legacy storage class use {@code _rebuild_tensor_v2}, the others
 * (float8, uint16/32/64, complex32, bits) {@code _rebuild_tensor_v3}, as torch 2.x does; a view with the
 * conjugate or negative bit keeps it in the metadata argument, as torch 2.x does (PyTorch 1.13 cannot read
 * that argument; it dropped the bits when saving).
 *
 * <p>The tree may hold what a load produces ({@link dev.weightsonly.python} values, {@link
 * dev.weightsonly.tensors.Tensor}s, dtypes, {@code torch.Size}, {@code torch.device}, layouts, quantization
 * schemes, bare storages) and plain Java values: {@code null} (None), {@link Boolean}, {@link Integer},
 * {@link Long}, {@link java.math.BigInteger}, {@link Float}, {@link Double}, {@link String}, {@code byte[]}
 * (bytes), {@link java.util.List} (list), {@link java.util.Map} (dict, in its iteration order; build a
 * {@link dev.weightsonly.python.PyDict} of kind {@code ORDERED_DICT} for an OrderedDict) and {@link
 * java.util.Set} (set). Objects of classes a load allowed ({@link dev.weightsonly.python.PyObject}) are
 * refused: rebuilding them would run their class's code in Python. A loaded {@code nn.Parameter} is a tensor
 * with {@code requires_grad} here, and is written as one (the same values and flag; PyTorch's
 * {@code load_state_dict} copies either into the module's Parameter).
 *
 * <p>Memory does not grow with the checkpoint: the pickle (proportional to the number of values, not to
 * tensor bytes) is built first, then each storage streams from its memory segment to the file with its
 * CRC-32 computed on the way. Writing to a path goes through a temporary file in the same folder, renamed
 * over the target only when complete, so a failed write leaves no half file and the target may be a file
 * that is still mapped (converting a checkpoint onto itself).
 *
 * <p>Immutable and thread-safe; one instance can write many files.
 */
public final class TorchWriter {

    private static final TorchWriter DEFAULTS = new TorchWriter(WriteProgress.NONE);

    private final WriteProgress progress;

    private TorchWriter(WriteProgress progress) {
        this.progress = progress;
    }

    /**
     * The writer {@link #save} uses.
     *
     * @return a shared writer with no progress reports
     */
    public static TorchWriter defaults() {
        return DEFAULTS;
    }

    /**
     * A writer that reports how far each write has come, for a progress bar on large checkpoints.
     *
     * @param progress told the storage bytes written so far and in all, on the writing thread
     * @return a writer reporting to {@code progress}
     * @throws NullPointerException if {@code progress} is null
     */
    public static TorchWriter withProgress(WriteProgress progress) {
        return new TorchWriter(Objects.requireNonNull(progress, "progress"));
    }

    /**
     * {@code torch.save(root, file)}: writes {@code root} to {@code file} with the default writer.
     *
     * @param root the value tree to save: a state dict, a loaded checkpoint's {@code root()}, or plain Java values
     *     as the class comment lists
     * @param file the file to write or replace
     * @throws IllegalArgumentException as {@link #write(Object, Path)}, before anything is written
     * @throws IOException if writing fails; the target is left as it was
     */
    public static void save(Object root, Path file) throws IOException {
        DEFAULTS.write(root, file);
    }

    /**
     * Writes {@code root} to {@code file}, replacing it if it exists; the archive folder is the file name
     * without its last extension, as torch names it.
     *
     * @param root the value tree to save
     * @param file the file to write or replace
     * @throws IllegalArgumentException if the tree holds a value that has no torch.save form (the message
     *     gives its path from the root, e.g. {@code root['model']['w']}), or views one storage as two
     *     storage classes; nothing is written then
     * @throws IOException if writing fails; the target is left as it was
     * @throws IllegalStateException if a tensor's memory is released (its checkpoint closed) before or while
     *     it is written; the target is left as it was
     */
    public void write(Object root, Path file) throws IOException {
        PickleWriter.Result pickled = PickleWriter.pickle(root);
        AtomicFile.write(file, channel -> write(pickled, channel, archiveName(file)));
    }

    /**
     * Writes {@code root} to a stream (left open) with the given archive folder name ({@code torch.save} to a
     * buffer uses {@code archive}). The stream receives the bytes in one pass.
     *
     * @param root the value tree to save
     * @param out where the archive's bytes go; flushed, not closed
     * @param archiveName the folder every record is under, as {@link #archiveName(Path)} would give for a file
     * @throws IOException if writing to the stream fails (it then holds a partial archive)
     * @throws IllegalArgumentException as {@link #write(Object, Path)}, before anything is written, or for an
     *     archive name that is not one non-empty path segment
     * @throws IllegalStateException if a tensor's memory is released (its checkpoint closed) before or while
     *     it is written; the stream then holds a partial archive
     */
    public void write(Object root, OutputStream out, String archiveName) throws IOException {
        checkArchiveName(archiveName);
        PickleWriter.Result pickled = PickleWriter.pickle(root);
        WritableByteChannel channel = Channels.newChannel(out);
        write(pickled, channel, archiveName);
        out.flush();
    }

    private void write(PickleWriter.Result pickled, WritableByteChannel channel, String archiveName)
            throws IOException {
        long total = 0;
        for (PickleWriter.StorageRecord s : pickled.storages()) {
            total += s.storage().byteSize();
        }
        long all = total;
        long[] done = {0};
        progress.progress(0, all);
        TorchZipWriter zip = new TorchZipWriter(channel, archiveName);
        zip.add("data.pkl", pickled.pickle());
        zip.add("byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        for (PickleWriter.StorageRecord s : pickled.storages()) {
            zip.add("data/" + s.key(), s.storage().bytes(), n -> {
                done[0] += n;
                progress.progress(done[0], all);
            });
        }
        zip.add("version", "3\n".getBytes(StandardCharsets.US_ASCII));
        zip.finish();
    }

    /**
     * The archive folder torch uses for {@code file}: its name without the last extension ({@code model.pt}
     * → {@code model}, {@code a.tar.gz} → {@code a.tar}); {@code archive} when that is empty or not ASCII
     * (as torch 2.x does for non-ASCII paths).
     *
     * @param file the file the archive is written to; only its name counts
     * @return the folder name for the archive's records
     */
    public static String archiveName(Path file) {
        String name = String.valueOf(file.getFileName());
        name = name.substring(name.lastIndexOf('\\') + 1);
        int dot = name.lastIndexOf('.');
        String stem = dot >= 0 ? name.substring(0, dot) : name;
        return stem.isEmpty() || !StandardCharsets.US_ASCII.newEncoder().canEncode(stem) ? "archive" : stem;
    }

    private static void checkArchiveName(String name) {
        if (Objects.requireNonNull(name, "archiveName").isEmpty() || name.contains("/") || name.contains("\\")) {
            throw new IllegalArgumentException("an archive folder name is one non-empty path segment, got '"
                    + name + "'");
        }
    }
}
