package dev.weightsonly.internal.load;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.GlobalFactory;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.SafeGlobals;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.internal.container.LegacyStream;
import dev.weightsonly.internal.container.LegacyTar;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.ObjectReplacement;
import dev.weightsonly.internal.pickle.PyIteration;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.internal.pickle.UnpicklerHost;
import dev.weightsonly.internal.safetensors.SafetensorsHeader;
import dev.weightsonly.internal.globals.GlobalPolicy;
import dev.weightsonly.internal.torch.LegacyStorages;
import dev.weightsonly.internal.torch.LegacyTarReader;
import dev.weightsonly.internal.torch.StorageSource;
import dev.weightsonly.internal.globals.TorchAllowlist;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyValues;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One load, from bytes to the object tree: recognise the container, check its version and byte order,
 * run {@code data.pkl} through the restricted unpickler with torch's rules. Which container it is decides
 * everything else, so recognition comes first and refuses what it does not read, by name.
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

    private static final BigInteger LEGACY_MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);

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
            ZipArchive archive = ZipArchive.open(bytes, where, options.limits());
            if (file != null) {
                archive.readLocalHeaders(file);
            }
            return readZip(where, archive, options, owner, false);
        }
        if (SafetensorsHeader.looksLikeSafetensors(bytes) || source.toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            return readSafetensors(source, bytes, options.limits());
        }
        if (startsWith(bytes, LegacyStream.MAGIC_PICKLE, 0)) {
            return readLegacy(where, bytes, options);
        }
        if (LegacyTar.looksLikeTar(bytes)) {
            return readTar(where, bytes, options);
        }
        if (startsWithMagicNumber(where, bytes, options)) {
            return readLegacy(where, bytes, options); // written with another pickle protocol than 2
        }
        throw notAZipCheckpoint(where, bytes);
    }

    /**
     * A copying load of a zip checkpoint read from {@code bytes} that the caller does not keep (a temporary
     * mapping, or the caller's array): the storages are copied into memory of {@code copyInto}, in parallel
     * ({@link ZipArchive#copyStoredRecords}), and nothing of the result refers to {@code bytes}. Returns null
     * for what it does not read this way (other formats, TorchScript archives): the caller then copies the
     * whole file and reads the copy.
     */
    public static Result readCopying(String source, MemorySegment bytes, LoadOptions options, Arena copyInto)
            throws CheckpointException {
        Location where = Location.of(source);
        if (!ZipArchive.looksLikeZip(bytes)) {
            return null;
        }
        ZipArchive archive = ZipArchive.open(bytes, where, options.limits());
        if (archive.contains("constants.pkl")) {
            return null;
        }
        return readZip(where, archive, options, copyInto, true);
    }

    /**
     * @param owner       the checkpoint's memory, into which what cannot stay where it is is copied
     * @param copyStored  copy every storage into {@code owner} (the caller does not keep the archive's bytes),
     *                    rather than reading stored records where they are
     */
    private static Result readZip(Location where, ZipArchive archive, LoadOptions options, Arena owner,
            boolean copyStored) throws CheckpointException {
        LoadLimits limits = options.limits();
        Map<String, GlobalFactory> globals = LoadAccess.BRIDGE.get().effectiveGlobals(options);
        if (archive.contains("constants.pkl")) {
            if (!options.torchScriptWeights()) {
                // CVE-2025-32434: torch used to hand such files to torch.jit.load even under weights_only.
                throw where.unsupported("Cannot use weights_only=True with TorchScript archives: this file was"
                        + " written by torch.jit.save (it has " + archive.fullName("constants.pkl") + "), and"
                        + " TorchScript code is never interpreted here. To read only its weights, load it with"
                        + " LoadOptions.builder().torchScriptWeights(true).");
            }
            checkVersion(where, archive);
            return readTorchScript(where, archive, byteOrderIsBig(where, archive), options, owner);
        }
        checkVersion(where, archive);
        checkSerializationId(where, archive);
        boolean bigEndian = byteOrderIsBig(where, archive);
        String pickleName = "data.pkl";
        MemorySegment pickle = inHeap(archive.record(pickleName).orElseThrow(() -> where.malformed(
                "the archive has no " + archive.fullName(pickleName) + " record; it holds: "
                        + String.join(", ", archive.recordNames().stream().limit(10).toList()))), limits);
        Map<String, MemorySegment> copies = copyStored ? archive.copyStoredRecords("data/", owner) : Map.of();
        TorchUnpicklerHost host = new TorchUnpicklerHost(new StorageSource.ZipRecords((key, site) -> {
            String name = "data/" + key;
            MemorySegment copy = copies.isEmpty() ? null : copies.get(ZipArchive.fold(name));
            if (copy != null) {
                return copy;
            }
            MemorySegment record = archive.record(name).orElseThrow(() -> site.malformed("storage key '" + key
                    + "' names record '" + archive.fullName(name) + "', which the archive does not have"));
            return ownedRecord(archive, record, owner, copyStored);
        }), bigEndian, globals.keySet(), limits, false, owner);
        Location pickleWhere = where.inRecord(archive.fullName(pickleName));
        Unpickler.Result result = Unpickler.load(pickle, 0, pickle.byteSize(), pickleWhere, host, limits);
        nothingAfterStop(result, pickle.byteSize(), pickleWhere);
        Object root = applyFactories(result.value(), host.usedAllowedGlobals(), globals, limits, pickleWhere);
        return new Result("zip", root, host.tensorCount(), host.storageCount(), host.usedAllowedGlobals());
    }

    // Pickles up to this size are read from a heap copy (see inHeap); larger ones where they are.
    private static final long HEAP_PICKLE = 64L << 20;

    /**
     * The pickle as a heap array, when it is within {@link LoadLimits#maxPickleBytes()} (a larger one is refused by
     * the unpickler before anything is read) and 64 MiB: the unpickler and its memo pre-pass read every byte of it,
     * one or a few at a time, and reads of a heap array cost a fraction of reads of a mapping (no liveness check of
     * the mapping's arena, and no page faults after the one copy). The copy is also one snapshot: both passes read
     * the same bytes even if the file changes meanwhile.
     */
    private static MemorySegment inHeap(MemorySegment pickle, LoadLimits limits) {
        if (!pickle.isNative() || pickle.byteSize() > limits.maxPickleBytes() || pickle.byteSize() > HEAP_PICKLE) {
            return pickle;
        }
        // Not read-only: the unpickler reads the array behind it (MemorySegment#heapBase), and nothing writes it.
        return MemorySegment.ofArray(pickle.toArray(ValueLayout.JAVA_BYTE));
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

    /**
     * A record that holds one pickle must end at its STOP: torch writes nothing after it, and bytes there (a
     * second pickle, a payload for another reader) are refused rather than silently skipped.
     */
    private static void nothingAfterStop(Unpickler.Result result, long end, Location where) throws CheckpointException {
        if (result.end() != end) {
            throw where.atOffset(result.end()).malformed((end - result.end()) + " bytes follow the pickle's STOP;"
                    + " a checkpoint's pickle ends at its STOP, and nothing after it is read");
        }
    }

    /** A safetensors file: a dict of its tensors in data order, each a view over its slice of the bytes. */
    private static Result readSafetensors(String source, MemorySegment bytes, LoadLimits limits)
            throws CheckpointException {
        SafetensorsHeader header = SafetensorsHeader.read(source, bytes, limits);
        PyDict.Builder root = PyDict.builder(PyDict.Kind.DICT);
        header.views(bytes, limits.maxMaterializedBytes()).forEach(root::put);
        int count = header.tensors().size();
        return new Result("safetensors", root.build(), count, count, header.metadata(), Set.of());
    }

    /** Lets the caller's factories replace the inert records of the allowed globals this load met. */
    private static Object applyFactories(Object root, Set<String> used, Map<String, GlobalFactory> globals,
            LoadLimits limits, Location where) throws CheckpointException {
        Map<String, GlobalFactory> factories = new HashMap<>();
        for (String name : used) {
            GlobalFactory f = globals.get(name);
            if (f != null && !GlobalPolicy.isInert(f)) {
                factories.put(name, f);
            }
        }
        if (factories.isEmpty()) {
            return root;
        }
        return ObjectReplacement.apply(root, object -> {
            GlobalFactory factory = factories.get(object.className());
            if (factory == null) {
                return object;
            }
            Object built;
            try {
                built = factory.create(object);
            } catch (Exception e) {
                throw where.malformed("the factory for " + object.className() + " refused its object: " + e);
            }
            if (built == null) {
                throw where.malformed("the factory for " + object.className() + " returned null");
            }
            return built;
        }, limits, where);
    }

    /**
     * The weights of a TorchScript archive, read as data: {@code data.pkl} (the module tree, storages under
     * {@code data/}) and {@code constants.pkl} (storages under {@code constants/}). The root is a dict
     * {@code {"data": module, "constants": tuple}}; the code records are never opened.
     */
    private static Result readTorchScript(Location where, ZipArchive archive, boolean bigEndian, LoadOptions options,
            Arena owner) throws CheckpointException {
        LoadLimits limits = options.limits();
        Map<String, GlobalFactory> globals = LoadAccess.BRIDGE.get().effectiveGlobals(options);
        PyDict.Builder root = PyDict.builder(PyDict.Kind.DICT);
        int tensors = 0;
        int storages = 0;
        Set<String> used = new LinkedHashSet<>();
        for (String part : new String[] {"data", "constants"}) {
            String pickleName = part + ".pkl";
            MemorySegment pickle = archive.record(pickleName).orElseThrow(() -> where.malformed(
                    "the TorchScript archive has no " + archive.fullName(pickleName) + " record"));
            String folder = part + "/";
            TorchUnpicklerHost host = new TorchUnpicklerHost(new StorageSource.ZipRecords((key, site) -> {
                String name = folder + key;
                return ownedRecord(archive, archive.record(name).orElseThrow(() -> site.malformed("storage key '" + key
                        + "' names record '" + archive.fullName(name) + "', which the archive does not have")), owner,
                        false);
            }), bigEndian, globals.keySet(), limits, true, owner);
            Location pickleWhere = where.inRecord(archive.fullName(pickleName));
            Unpickler.Result result = Unpickler.load(pickle, 0, pickle.byteSize(), pickleWhere, host, limits);
            nothingAfterStop(result, pickle.byteSize(), pickleWhere);
            root.put(part, applyFactories(result.value(), host.usedAllowedGlobals(), globals, limits, pickleWhere));
            tensors += host.tensorCount();
            storages += host.storageCount();
            used.addAll(host.usedAllowedGlobals());
        }
        return new Result("TorchScript archive", root.build(), tensors, storages, used);
    }

    /**
     * The tar format of PyTorch 0.1.x: storages and tensor geometry in their own members, the object pickle
     * referring to them by key. (PyTorch 2.6+ refuses it under weights_only, because its reader was unsafe;
     * this one checks everything, so it loads.)
     */
    private static Result readTar(Location where, MemorySegment bytes, LoadOptions options) throws CheckpointException {
        LoadLimits limits = options.limits();
        Map<String, GlobalFactory> globals = LoadAccess.BRIDGE.get().effectiveGlobals(options);
        LegacyTar tar = LegacyTar.open(bytes, where, limits.maxArchiveEntries());
        Location storagesWhere = where.inRecord("storages");
        Location tensorsWhere = where.inRecord("tensors");
        Map<String, Object> objects = LegacyTarReader.read(tar.member("storages", where), storagesWhere,
                tar.member("tensors", where), tensorsWhere, limits);
        MemorySegment pickle = tar.member("pickle", where);
        Location pickleWhere = where.inRecord("pickle");
        TorchUnpicklerHost host = new TorchUnpicklerHost(new StorageSource.TarObjects(objects), false,
                globals.keySet(), limits);
        Unpickler.Result result = Unpickler.load(pickle, 0, pickle.byteSize(), pickleWhere, host, limits);
        nothingAfterStop(result, pickle.byteSize(), pickleWhere);
        Object root = applyFactories(result.value(), host.usedAllowedGlobals(), globals, limits, pickleWhere);
        long tensors = objects.values().stream().filter(o -> o instanceof dev.weightsonly.tensors.Tensor).count();
        return new Result("0.1.x tar", root, (int) tensors, (int) (objects.size() - tensors),
                host.usedAllowedGlobals());
    }

    /**
     * The legacy stream. Its storage blocks follow the object pickle, and their sizes depend on the dtypes
     * that pickle declares, so the object pickle is run twice: once to learn the declarations (tensors are
     * placeholders), then, with every block located and size-checked, to build the real views.
     */
    private static Result readLegacy(Location where, MemorySegment bytes, LoadOptions options)
            throws CheckpointException {
        LoadLimits limits = options.limits();
        Map<String, GlobalFactory> globals = LoadAccess.BRIDGE.get().effectiveGlobals(options);
        long end = bytes.byteSize();
        // torch reads the four plain pickles with the same restricted unpickler as the object pickle: allowed
        // globals work there too (found by differential fuzzing: loader-core/src/test/resources/difffuzz)
        TorchUnpicklerHost plain = TorchUnpicklerHost.plainData(globals.keySet(), limits);
        Location magicWhere = where.inRecord("pickle 1 (magic number)");
        Unpickler.Result magic = magicNumberPickle(bytes, magicWhere, plain, limits);
        if (!pythonEquals(magic.value(), LEGACY_MAGIC_NUMBER)) {
            throw where.malformed("Invalid magic number; corrupt file?");
        }
        if (magic.leftOver() != null) {
            // torch's unpickler returns the top of its stack, here the magic number, and takes any protocol; one
            // pickle, one value, protocols 0 to 5 (docs/SECURITY.md): another reader may read it otherwise
            throw magicWhere.malformed(magic.leftOver() + " (torch's unpickler would read on and return the top"
                    + " value, the legacy magic number)");
        }
        Unpickler.Result version = streamPickle(bytes, magic.end(), end, where.inRecord("pickle 2 (protocol version)"),
                plain, limits);
        // torch compares with !=, in which 1001.0 (and complex 1001) is 1001 too
        if (!pythonEquals(version.value(), 1001L)) {
            throw where.unsupported("Invalid protocol version: " + PyValues.shortRepr(version.value()));
        }
        Unpickler.Result sysInfo = streamPickle(bytes, version.end(), end, where.inRecord("pickle 3 (sys_info)"),
                plain, limits);
        long objectStart = sysInfo.end();
        Location objectWhere = where.inRecord("pickle 4 (the saved object)");
        TorchUnpicklerHost declarations = new TorchUnpicklerHost(new StorageSource.LegacyDeclarations(), false,
                globals.keySet(), limits);
        Unpickler.Result first = streamPickle(bytes, objectStart, end, objectWhere, declarations, limits);
        Location keysWhere = where.inRecord("pickle 5 (storage keys)");
        Unpickler.Result keyList = streamPickle(bytes, first.end(), end, keysWhere, plain, limits);
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
        TorchUnpicklerHost host = new TorchUnpicklerHost(new StorageSource.LegacyBlocks(roots), false,
                globals.keySet(), limits);
        Unpickler.Result result = Unpickler.load(bytes, objectStart, first.end(), objectWhere, host, limits);
        Object root = applyFactories(result.value(), host.usedAllowedGlobals(), globals, limits, objectWhere);
        return new Result("legacy stream", root, host.tensorCount(), host.storageCount(), host.usedAllowedGlobals());
    }

    /** Python's {@code a == b} for the values torch compares with {@code !=}: ints, floats, bools, complex. */
    private static boolean pythonEquals(Object value, Object expected) {
        return PyValues.isHashable(value) && PyValues.pythonKey(value).equals(PyValues.pythonKey(expected));
    }

    /**
     * The legacy stream's first pickle, as Python reads it: its value is the top of the stack at STOP (what else
     * is left is reported in {@link Unpickler.Result#leftOver()}), and it ends at the STOP wherever the bytes end.
     */
    private static Unpickler.Result magicNumberPickle(MemorySegment bytes, Location where, TorchUnpicklerHost host,
            LoadLimits limits) throws CheckpointException {
        return streamPickle(bytes, 0, bytes.byteSize(), where, host, limits, true);
    }

    /**
     * Whether the first pickle of the bytes is the legacy stream's magic number, in whatever encoding: torch
     * reads it with its unpickler and compares the value, so pickle protocols 0 to 5 (text LONG, FRAME, ...)
     * all make a legacy stream, as any other pickle that evaluates to the number does (a value left under it on
     * the stack included: {@link #readLegacy} then says why it refuses).
     *
     * @throws UnsupportedGlobalException if the bytes are a pickle that names a global this load does not allow:
     *     torch's unpickler refuses it there, and the file is unsafe, not merely "not a checkpoint"
     */
    private static boolean startsWithMagicNumber(Location where, MemorySegment bytes, LoadOptions options)
            throws UnsupportedGlobalException {
        try {
            TorchUnpicklerHost plain = TorchUnpicklerHost.plainData(
                    LoadAccess.BRIDGE.get().effectiveGlobals(options).keySet(), options.limits());
            // Until its value is the magic number, the first pickle is a bare pickle as far as the file tells.
            Location first = where.inRecord("a bare pickle, not a torch.save checkpoint");
            return pythonEquals(magicNumberPickle(bytes, first, plain, options.limits()).value(),
                    LEGACY_MAGIC_NUMBER);
        } catch (UnsupportedGlobalException refused) {
            throw refused; // the plain host allows what the load allows: anything else makes the file unsafe
        } catch (CheckpointException e) {
            return false; // not a pickle: the caller names what the bytes are
        }
    }

    /**
     * One pickle of the legacy stream, which starts at {@code start} and ends at its STOP somewhere before
     * {@code end}: the storages follow the pickles, so the bytes left in the file are no bound on the pickle.
     * The unpickler is given at most {@code maxPickleBytes} of them (a stream of several GiB has pickles of a
     * few KiB), and a pickle still running at that bound exceeds the limit.
     */
    private static Unpickler.Result streamPickle(MemorySegment bytes, long start, long end, Location where,
            UnpicklerHost host, LoadLimits limits) throws CheckpointException {
        return streamPickle(bytes, start, end, where, host, limits, false);
    }

    /** As above; with {@code topOfStack}, STOP returns the top value ({@link Unpickler#loadTopOfStack}). */
    private static Unpickler.Result streamPickle(MemorySegment bytes, long start, long end, Location where,
            UnpicklerHost host, LoadLimits limits, boolean topOfStack) throws CheckpointException {
        long max = limits.maxPickleBytes();
        long stop = end - start <= max ? end : start + max;
        try {
            return topOfStack ? Unpickler.loadTopOfStack(bytes, start, stop, where, host, limits)
                    : Unpickler.load(bytes, start, stop, where, host, limits);
        } catch (MalformedCheckpointException e) {
            if (stop == end) {
                throw e;
            }
            if (e.getMessage().contains("pickle data was truncated")) {
                throw where.limit("maxPickleBytes", max, "pickle of more than " + max + " bytes");
            }
            throw e;
        }
    }

    private static void checkVersion(Location where, ZipArchive archive) throws CheckpointException {
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

    private static boolean byteOrderIsBig(Location where, ZipArchive archive) throws CheckpointException {
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
