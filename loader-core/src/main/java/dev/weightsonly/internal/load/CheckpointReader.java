package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.container.LegacyStream;
import dev.weightsonly.internal.container.LegacyTar;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.safetensors.SafetensorsHeader;
import dev.weightsonly.internal.io.Prefaulted;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One load, from bytes to the object tree: recognise the container and hand the bytes to its reader
 * ({@link ZipCheckpointReader}, {@link TorchScriptReader}, {@link SafetensorsReader}, {@link LegacyStreamReader},
 * {@link TarCheckpointReader}; {@link ShardedReader} reads an index of shards), each of which owns its storages
 * and runs its pickles through {@link ObjectPickle}. Which container it is decides everything else, so
 * recognition comes first and refuses what it does not read, by name.
 */
public final class CheckpointReader {

    /**
     * What a load produced.
     *
     * @param format             the container, in words, for the load's log ({@code zip}, {@code legacy stream})
     * @param metadata           a safetensors file's {@code __metadata__}; empty for torch checkpoints
     * @param allowedGlobalsUsed the globals beyond PyTorch's defaults that the file named and the load allowed,
     *                           in order of first use (the audit trail of the load's log)
     */
    public record Result(String format, Object root, int tensorCount, int storageCount, Map<String, String> metadata,
            Set<String> allowedGlobalsUsed) {
        Result(String format, Object root, int tensorCount, int storageCount, Set<String> allowedGlobalsUsed) {
            this(format, root, tensorCount, storageCount, Map.of(), allowedGlobalsUsed);
        }
    }

    private CheckpointReader() {
    }

    /**
     * @param owner the memory of the checkpoint being loaded: what the load must copy (an inflated DEFLATED
     *              record, a byte-swapped storage) is copied into it, so that closing the checkpoint releases
     *              every storage alike and none stays readable after {@code close()}
     */
    public static Result read(String source, MemorySegment bytes, LoadOptions options, Arena owner)
            throws CheckpointException {
        return read(source, bytes, null, options, owner);
    }

    /**
     * {@link #read(String, MemorySegment, LoadOptions, Arena)} of a mapped file.
     *
     * @param source  the file's name, for messages
     * @param bytes   the file's bytes (its mapping)
     * @param file    the file {@code bytes} map (from its offset 0), or null: a zip checkpoint's local headers are
     *                then read from it rather than through the mapping ({@link ZipArchive#readLocalHeaders})
     * @param options the load's options
     * @param owner   the memory of the checkpoint being loaded (as for the other overload)
     * @return what the load produced
     * @throws CheckpointException if the file is refused
     */
    public static Result read(String source, MemorySegment bytes, FileChannel file, LoadOptions options, Arena owner)
            throws CheckpointException {
        Location where = Location.of(source);
        if (ZipArchive.looksLikeZip(bytes)) {
            return readZip(where, ZipArchive.open(bytes, where, options.limits()), file, options, owner);
        }
        if (SafetensorsHeader.looksLikeSafetensors(bytes) || source.toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            return SafetensorsReader.read(source, bytes, options.limits());
        }
        if (startsWith(bytes, LegacyStream.MAGIC_PICKLE, 0)) {
            return LegacyStreamReader.read(where, bytes, options, owner);
        }
        if (LegacyTar.looksLikeTar(bytes)) {
            return TarCheckpointReader.read(where, bytes, options, owner);
        }
        if (LegacyStreamReader.startsWithMagicNumber(where, bytes, options)) {
            return LegacyStreamReader.read(where, bytes, options, owner); // written with another pickle protocol than 2
        }
        throw notAZipCheckpoint(where, bytes);
    }

    /**
     * The zip branch of {@link #read(String, MemorySegment, FileChannel, LoadOptions, Arena)}, for an archive
     * already open: the scanner's confirming load reads the archive its walk opened (with the same limits, and
     * nothing inflated yet) instead of reading the directory again.
     *
     * @param where   the file, for messages
     * @param archive the archive, opened with {@code options.limits()}
     * @param file    the file the archive's bytes map from offset 0, or null (as for {@code read})
     * @param options the load's options
     * @param owner   the memory of the checkpoint being loaded
     * @return what the load produced
     * @throws CheckpointException if the file is refused
     */
    public static Result readZip(Location where, ZipArchive archive, FileChannel file, LoadOptions options,
            Arena owner) throws CheckpointException {
        if (file != null) {
            archive.readLocalHeaders(file);
        }
        if (archive.containsExactly(TorchScriptReader.MARKER)) {
            return TorchScriptReader.read(where, archive, options, owner);
        }
        return ZipCheckpointReader.read(where, archive, options, owner, false, null);
    }

    /**
     * A copying load of a zip checkpoint read from {@code bytes} that the caller does not keep (a temporary
     * mapping, or the caller's array): the storages are copied into memory of {@code copyInto}, in parallel
     * ({@link ZipArchive#copyStoredRecords}), and nothing of the result refers to {@code bytes}. Returns null
     * for what it does not read this way (other formats, TorchScript archives): the caller then copies the
     * whole file and reads the copy.
     */
    public static Result readCopying(String source, MemorySegment bytes, LoadOptions options, Arena copyInto,
            Prefaulted prefaulted) throws CheckpointException {
        Location where = Location.of(source);
        if (!ZipArchive.looksLikeZip(bytes)) {
            return null;
        }
        ZipArchive archive = ZipArchive.open(bytes, where, options.limits());
        if (archive.containsExactly(TorchScriptReader.MARKER)) {
            return null;
        }
        return ZipCheckpointReader.read(where, archive, options, copyInto, true, prefaulted);
    }

    private static boolean startsWith(MemorySegment bytes, byte[] prefix, long at) {
        if (bytes.byteSize() < at + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes.get(ValueLayout.JAVA_BYTE, at + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Names what the bytes are, since they are not the zip format. */
    private static CheckpointException notAZipCheckpoint(Location where, MemorySegment bytes) {
        long size = bytes.byteSize();
        if (size < 4) {
            return where.malformed("the file has " + size + " bytes, too short to be a checkpoint");
        }
        if (startsWith(bytes, "PYTORCH1".getBytes(StandardCharsets.US_ASCII), 0)) {
            return where.unsupported("File is an unsupported archive format from the preview release.");
        }
        if (startsWith(bytes, new byte[] {'7', 'z', (byte) 0xBC, (byte) 0xAF, 0x27, 0x1C}, 0)) {
            return where.malformed("this is a 7z archive, not a PyTorch checkpoint (torch.save writes zip)");
        }
        if (startsWith(bytes, new byte[] {0x1F, (byte) 0x8B}, 0)) {
            return where.malformed("this is gzip-compressed data, not a PyTorch checkpoint; decompress it first");
        }
        if ((bytes.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) == 0x80) {
            return where.malformed("Invalid magic number; corrupt file? (this is a bare pickle, not a torch.save"
                    + " checkpoint)");
        }
        String head = HexFormat.ofDelimiter(" ").formatHex(bytes.asSlice(0, Math.min(size, 8))
                .toArray(ValueLayout.JAVA_BYTE));
        return where.malformed("Invalid magic number; corrupt file? (not a PyTorch checkpoint: it starts with "
                + head + ")");
    }
}
