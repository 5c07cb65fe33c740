package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.internal.container.LegacyStream;
import dev.weightsonly.internal.load.CheckpointReader.Result;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.PyIteration;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.internal.torch.LegacyStorages;
import dev.weightsonly.internal.torch.StorageSource;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.python.PyValues;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The legacy stream that {@code torch.save} wrote before PyTorch 1.6 ({@link LegacyStream}): five pickles back to
 * back, then the storages. Its storage blocks follow the object pickle, and their sizes depend on the dtypes that
 * pickle declares, so the object pickle is run twice: once to learn the declarations (tensors are placeholders),
 * then, with every block located and size-checked, to build the real views. Every pickle but the object's second
 * run is read with {@link Unpickler#loadPrefix} (the magic number's with {@link Unpickler#loadTopOfStack}): the
 * bytes after its start are no bound on it.
 */
final class LegacyStreamReader {

    private static final BigInteger LEGACY_MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);

    private LegacyStreamReader() {
    }

    static Result read(Location where, MemorySegment bytes, LoadOptions options, Arena owner)
            throws CheckpointException {
        LoadLimits limits = options.limits();
        long end = bytes.byteSize();
        ObjectPickle objects = new ObjectPickle(options, owner);
        // torch reads the four plain pickles with the same restricted unpickler as the object pickle: allowed
        // globals work there too (found by differential fuzzing: loader-core/src/test/resources/difffuzz)
        TorchUnpicklerHost plain = objects.plainDataHost();
        Location magicWhere = where.inRecord("pickle 1 (magic number)");
        Unpickler.Result magic = Unpickler.loadTopOfStack(bytes, 0, end, magicWhere, plain, limits);
        if (!pythonEquals(magic.value(), LEGACY_MAGIC_NUMBER)) {
            throw where.malformed("Invalid magic number; corrupt file?");
        }
        if (magic.leftOver() != null) {
            // torch's unpickler returns the top of its stack, here the magic number, and takes any protocol; one
            // pickle, one value, protocols 0 to 5 (docs/SECURITY.md): another reader may read it otherwise
            throw magicWhere.malformed(magic.leftOver() + " (torch's unpickler would read on and return the top"
                    + " value, the legacy magic number)");
        }
        Unpickler.Result version = Unpickler.loadPrefix(bytes, magic.end(), end,
                where.inRecord("pickle 2 (protocol version)"), plain, limits);
        // torch compares with !=, in which 1001.0 (and complex 1001) is 1001 too
        if (!pythonEquals(version.value(), 1001L)) {
            throw where.unsupported("Invalid protocol version: " + PyValues.shortRepr(version.value()));
        }
        Unpickler.Result sysInfo = Unpickler.loadPrefix(bytes, version.end(), end,
                where.inRecord("pickle 3 (sys_info)"), plain, limits);
        long objectStart = sysInfo.end();
        Location objectWhere = where.inRecord("pickle 4 (the saved object)");
        TorchUnpicklerHost declarations = objects.host(new StorageSource.LegacyDeclarations(), false, false);
        Unpickler.Result first = Unpickler.loadPrefix(bytes, objectStart, end, objectWhere, declarations, limits);
        Location keysWhere = where.inRecord("pickle 5 (storage keys)");
        Unpickler.Result keyList = Unpickler.loadPrefix(bytes, first.end(), end, keysWhere, plain, limits);
        // torch reads the keys with a for loop: any iterable (a list as torch.save writes it, a tuple, ...)
        List<String> keys = new ArrayList<>();
        PyIteration.forEach(keyList.value(), true, "the storage key list", new CallSite(keysWhere, null, limits),
                key -> {
                    if (!(key instanceof String k)) {
                        throw keysWhere.malformed("the storage key list must hold str keys, got "
                                + PyValues.typeName(key));
                    }
                    keys.add(k);
                });
        LegacyStorages storages = declarations.legacyStorages();
        List<MemorySegment> roots = LegacyStream.readBlocks(bytes, keyList.end(), keys, storages::target,
                storages.rootSizes(), storages.rootKeys(), where.inRecord("storage data"));
        TorchUnpicklerHost host = objects.host(new StorageSource.LegacyBlocks(roots), false, false);
        Object root = objects.run(bytes, objectStart, first.end(), objectWhere, host);
        return new Result("legacy stream", root, host.tensorCount(), host.storageCount(), host.usedAllowedGlobals());
    }

    /** Python's {@code a == b} for the values torch compares with {@code !=}: ints, floats, bools, complex. */
    private static boolean pythonEquals(Object value, Object expected) {
        return PyValues.isHashable(value) && PyValues.pythonKey(value).equals(PyValues.pythonKey(expected));
    }

    /**
     * Whether the first pickle of the bytes is the legacy stream's magic number, in whatever encoding: torch
     * reads it with its unpickler and compares the value, so pickle protocols 0 to 5 (text LONG, FRAME, ...)
     * all make a legacy stream, as any other pickle that evaluates to the number does (a value left under it on
     * the stack included: {@link #read} then says why it refuses).
     *
     * @throws UnsupportedGlobalException if the bytes are a pickle that names a global this load does not allow:
     *     torch's unpickler refuses it there, and the file is unsafe, not merely "not a checkpoint"
     */
    static boolean startsWithMagicNumber(Location where, MemorySegment bytes, LoadOptions options)
            throws UnsupportedGlobalException {
        try {
            TorchUnpicklerHost plain = new ObjectPickle(options, null).plainDataHost();
            // Until its value is the magic number, the first pickle is a bare pickle as far as the file tells.
            Location first = where.inRecord("a bare pickle, not a torch.save checkpoint");
            return pythonEquals(Unpickler.loadTopOfStack(bytes, 0, bytes.byteSize(), first, plain, options.limits())
                    .value(), LEGACY_MAGIC_NUMBER);
        } catch (UnsupportedGlobalException refused) {
            throw refused; // the plain host allows what the load allows: anything else makes the file unsafe
        } catch (CheckpointException e) {
            return false; // not a pickle: the caller names what the bytes are
        }
    }
}
