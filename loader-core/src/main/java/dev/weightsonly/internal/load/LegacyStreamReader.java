package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.container.LegacyStream;
import dev.weightsonly.internal.load.CheckpointReader.Result;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.internal.torch.LegacyStorages;
import dev.weightsonly.internal.torch.PlainDataHost;
import dev.weightsonly.internal.torch.StorageSource;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyValues;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.List;

/**
 * The legacy stream that {@code torch.save} wrote before PyTorch 1.6 ({@link LegacyStream}): five pickles back to
 * back, then the storages. Its storage blocks follow the object pickle, and their sizes depend on the dtypes that
 * pickle declares, so the object pickle is run twice: once to learn the declarations (tensors are placeholders),
 * then, with every block located and size-checked, to build the real views. Every pickle but the object's second
 * run is read with {@link Unpickler#loadPrefix}: the bytes after its start are no bound on it.
 */
final class LegacyStreamReader {

    private static final BigInteger LEGACY_MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);

    private LegacyStreamReader() {
    }

    static Result read(Location where, MemorySegment bytes, LoadOptions options, Arena owner)
            throws CheckpointException {
        LoadLimits limits = options.limits();
        long end = bytes.byteSize();
        Unpickler.Result magic = header(bytes, 0, where.inRecord("pickle 1 (magic number)"), limits);
        if (!LEGACY_MAGIC_NUMBER.equals(magic.value())) {
            throw where.malformed("Invalid magic number; corrupt file?");
        }
        Unpickler.Result version = header(bytes, magic.end(), where.inRecord("pickle 2 (protocol version)"), limits);
        // torch compares with !=, in which 1001.0 is 1001 too.
        if (!Long.valueOf(1001).equals(version.value()) && !Double.valueOf(1001).equals(version.value())) {
            throw where.unsupported("Invalid protocol version: " + version.value());
        }
        Unpickler.Result sysInfo = header(bytes, version.end(), where.inRecord("pickle 3 (sys_info)"), limits);
        long objectStart = sysInfo.end();
        Location objectWhere = where.inRecord("pickle 4 (the saved object)");
        ObjectPickle objects = new ObjectPickle(options, owner);
        TorchUnpicklerHost declarations = objects.host(new StorageSource.LegacyDeclarations(), false, false);
        Unpickler.Result first = Unpickler.loadPrefix(bytes, objectStart, end, objectWhere, declarations, limits);
        Location keysWhere = where.inRecord("pickle 5 (storage keys)");
        Unpickler.Result keyList = header(bytes, first.end(), keysWhere, limits);
        if (!(keyList.value() instanceof PyList list) || !list.stream().allMatch(k -> k instanceof String)) {
            throw keysWhere.malformed("the storage key list must be a list of str, got "
                    + PyValues.typeName(keyList.value()));
        }
        LegacyStorages storages = declarations.legacyStorages();
        List<MemorySegment> roots = LegacyStream.readBlocks(bytes, keyList.end(),
                list.stream().map(String.class::cast).toList(), storages::target, storages.rootSizes(),
                storages.rootKeys(), where.inRecord("storage data"));
        TorchUnpicklerHost host = objects.host(new StorageSource.LegacyBlocks(roots), false, false);
        Object root = objects.run(bytes, objectStart, first.end(), objectWhere, host);
        return new Result(root, host.tensorCount(), host.storageCount());
    }

    /**
     * Whether the first pickle of the bytes is the legacy stream's magic number, in whatever encoding: torch
     * reads it with its unpickler and compares the value, so pickle protocols 0 to 5 (text LONG, FRAME, ...)
     * all make a legacy stream, as any other pickle that evaluates to the number does.
     */
    static boolean startsWithMagicNumber(Location where, MemorySegment bytes, LoadLimits limits) {
        try {
            return LEGACY_MAGIC_NUMBER.equals(header(bytes, 0, where.inRecord("pickle 1 (magic number)"), limits)
                    .value());
        } catch (CheckpointException e) {
            return false; // not a pickle of plain data: the caller names what the bytes are
        }
    }

    /** One of the stream's pickles of plain data (magic number, protocol version, sys_info, storage keys). */
    private static Unpickler.Result header(MemorySegment bytes, long start, Location where, LoadLimits limits)
            throws CheckpointException {
        return Unpickler.loadPrefix(bytes, start, bytes.byteSize(), where, PlainDataHost.INSTANCE, limits);
    }
}
