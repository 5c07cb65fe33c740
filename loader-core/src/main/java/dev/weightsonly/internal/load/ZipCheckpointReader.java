package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.load.CheckpointReader.Result;
import dev.weightsonly.internal.torch.StorageSource;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.internal.io.Prefaulted;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The zip checkpoint of {@code torch.save} (PyTorch 1.6 and later): the archive's version and byte order, then
 * {@code data.pkl}, whose storages are the records under {@code data/}. The archive-level records (version, byte
 * order) and the storage records are read here for {@link TorchScriptReader} too, which reads the same kind of
 * archive.
 */
final class ZipCheckpointReader {

    private ZipCheckpointReader() {
    }

    /**
     * @param owner       the checkpoint's memory, into which what cannot stay where it is is copied
     * @param copyStored  copy every storage into {@code owner} (the caller does not keep the archive's bytes),
     *                    rather than reading stored records where they are
     * @param prefaulted  memory of {@code owner} made ahead to copy stored records into first, or null
     */
    static Result read(Location where, ZipArchive archive, LoadOptions options, Arena owner, boolean copyStored,
            Prefaulted prefaulted) throws CheckpointException {
        checkVersion(where, archive);
        checkSerializationId(where, archive);
        boolean bigEndian = byteOrderIsBig(where, archive);
        String pickleName = "data.pkl";
        // The unpickler reads a pickle of a mapping from a heap copy of it (Unpickler.load).
        MemorySegment pickle = archive.record(pickleName).orElseThrow(() -> where.malformed(
                "the archive has no " + archive.fullName(pickleName) + " record; it holds: "
                        + String.join(", ", archive.recordNames().stream().limit(10).toList())));
        Map<String, MemorySegment> copies = copyStored ? archive.copyStoredRecords("data/", owner, prefaulted)
                : Map.of();
        ObjectPickle objects = new ObjectPickle(options, owner);
        TorchUnpicklerHost host = objects.host(storages(archive, "data/", copies, owner, copyStored), bigEndian,
                false);
        Object root = objects.run(pickle, where.inRecord(archive.fullName(pickleName)), host);
        return new Result("zip", root, host.tensorCount(), host.storageCount(), host.usedAllowedGlobals());
    }

    /**
     * The storages of an archive: storage {@code key} is record {@code folder + key}, taken from {@code copies}
     * (by {@linkplain ZipArchive#fold folded} name) when the load copied it already.
     */
    static StorageSource.ZipRecords storages(ZipArchive archive, String folder, Map<String, MemorySegment> copies,
            Arena owner, boolean copyStored) {
        return new StorageSource.ZipRecords((key, site) -> {
            MemorySegment copy = copies.isEmpty() ? null : copies.get(ZipArchive.fold(folder + key));
            if (copy != null) {
                return copy;
            }
            // The record's name is made only for a message: a load asks for a record per storage.
            MemorySegment record = archive.recordOrNull(folder, key);
            if (record == null) {
                throw site.malformed("storage key '" + key + "' names record '" + archive.fullName(folder + key)
                        + "', which the archive does not have");
            }
            return ownedRecord(archive, record, owner, copyStored);
        }, archive.recordCount());
    }

    /**
     * A storage record in memory the checkpoint owns: a stored record stays a slice of the archive's bytes
     * unless {@code copyStored}; a DEFLATED one, inflated into a heap array of its own that {@code close()}
     * could not release, is copied into {@code owner}, so that it becomes unreadable with every other storage.
     */
    private static MemorySegment ownedRecord(ZipArchive archive, MemorySegment record, Arena owner,
            boolean copyStored) {
        // An inflated record is a heap array: in a mapped archive any native record is a slice of the mapping.
        boolean slice = record.isNative() && archive.bytes().isNative()
                || !archive.bytes().asOverlappingSlice(record).isEmpty();
        return slice && !copyStored ? record : owner.allocate(record.byteSize(), 64).copyFrom(record).asReadOnly();
    }

    static void checkVersion(Location where, ZipArchive archive) throws CheckpointException {
        String name = archive.contains(".data/version") ? ".data/version" : "version";
        MemorySegment record = archive.record(name).orElseThrow(() -> where.malformed(
                "PytorchStreamReader failed locating file version: the archive has no version record"));
        String text = smallText(record).strip();
        long version;
        try {
            version = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw where.inRecord(archive.fullName(name)).malformed("Couldn't parse the version '"
                    + abbreviate(text) + "' as Long Long.");
        }
        if (version < 1 || version > 10) {
            throw where.inRecord(archive.fullName(name)).unsupported("Attempted to read a PyTorch file with version "
                    + version + ", but the supported versions for reading are 1 to 10");
        }
    }

    /**
     * torch 2.6 hands the {@code .data/serialization_id} record to Python as a str after unpickling, so a record
     * that is not strict UTF-8 makes its load fail ({@code UnicodeDecodeError}); weightsonly refuses it too
     * (found by differential fuzzing: loader-core/src/test/resources/difffuzz). Validated in 4 KiB steps,
     * never copied.
     */
    private static void checkSerializationId(Location where, ZipArchive archive) throws CheckpointException {
        String name = ".data/serialization_id";
        var record = archive.record(name);
        if (record.isEmpty()) {
            return;
        }
        Location at = where.inRecord(archive.fullName(name));
        if (record.get().byteSize() > Integer.MAX_VALUE) {
            throw at.malformed("a serialization id of " + record.get().byteSize() + " bytes");
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = record.get().asByteBuffer();
        CharBuffer out = CharBuffer.allocate(4096);
        CoderResult result;
        do {
            out.clear();
            result = decoder.decode(in, out, true);
        } while (result.isOverflow());
        if (!result.isError()) {
            out.clear();
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw at.malformed("the serialization id is not UTF-8 (byte " + in.position()
                    + "); torch fails on it with UnicodeDecodeError");
        }
    }

    static boolean byteOrderIsBig(Location where, ZipArchive archive) throws CheckpointException {
        var record = archive.record("byteorder");
        if (record.isEmpty()) {
            return false; // absent means little, as torch assumes by default
        }
        String order = smallText(record.get());
        return switch (order) {
            case "little" -> false;
            case "big" -> true;
            default -> throw where.inRecord(archive.fullName("byteorder")).malformed("Unknown endianness type: "
                    + abbreviate(order));
        };
    }

    private static String smallText(MemorySegment record) {
        long n = Math.min(record.byteSize(), 64);
        return new String(record.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1);
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
