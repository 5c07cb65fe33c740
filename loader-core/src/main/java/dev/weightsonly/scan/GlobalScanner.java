package dev.weightsonly.scan;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.internal.container.LegacyTar;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.load.CheckpointReader;
import dev.weightsonly.internal.pickle.Opcode;
import dev.weightsonly.internal.pickle.OperandReader;
import dev.weightsonly.internal.globals.GlobalPolicy;
import dev.weightsonly.internal.globals.PythonNames;
import dev.weightsonly.internal.safetensors.SafetensorsHeader;
import dev.weightsonly.internal.torch.TextPersistentId;
import dev.weightsonly.tensors.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Lists the globals a checkpoint names without building anything, like torch's
 * {@code get_unsafe_globals_in_checkpoint}: every pickle any PyTorch loader would read in the file is walked
 * opcode by opcode (through the unpickler's own table, {@link Opcode} and {@link OperandReader}), and each
 * GLOBAL, INST, STACK_GLOBAL and EXT recorded with what a load would make of it. The pickles are those of a
 * zip's {@code .pkl} records (found ignoring ASCII case, as torch finds them), a legacy stream's five, a bare
 * pickle stream's, and a 0.1.x tar's {@code sys_info}, {@code pickle}, {@code storages} and {@code tensors}
 * members (torch's full loader unpickles every record of the last two). A safetensors file holds no pickle.
 *
 * <p>Because nothing is built, it works on files the loader refuses and on broken streams (what was read
 * before the break is reported with the break). STACK_GLOBAL takes its names from the stack, so the walk
 * keeps a shadow stack and memo of the string constants; a name computed at run time is reported as such,
 * and counts as dangerous: a weights file has no reason to hide one.
 *
 * <p>A file the walk finds clean (every global allowed) is then given to a weights-only load, with the
 * allowed names as inert records (the loader never runs anything): if that load refuses the file, for its
 * container, a limit or anything else, the refusal is a problem of the report. So a clean report means the
 * file loads, by construction, whatever the format.
 */
public final class GlobalScanner {

    private static final Object UNKNOWN = new Object();
    private static final int MAX_TRACKED_STRING = 4096;
    // Files up to this size are read into memory rather than mapped (a mapping costs system calls and a page
    // fault per page touched; a read of a few KB is one call).
    private static final long READ_NOT_MAPPED = 1 << 20;
    private static final int MAX_TRACKED_MEMO = 1 << 18;
    // The shadow stack and the MARKs are bounded as a load bounds them: a pickle past these is refused by any
    // load, and the scan reports that instead of holding millions of entries.
    private static final int MAX_STACK = LoadLimits.defaults().maxStackDepth();
    private static final int MAX_MARKS = LoadLimits.defaults().maxMarkDepth();
    private static final BigInteger LEGACY_MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GlobalScanner() {
    }

    /** The options of the clean-verdict check of most files: default limits, nothing allowed by the caller. */
    private static final LoadOptions DEFAULT_CHECK = LoadOptions.builder().sharedSafeGlobals(false).build();

    /** How the clean-verdict check loads the file. */
    private interface Loader {
        /** {@code walked}: the archive the walk opened (default limits), or null if the file is no readable zip. */
        void load(LoadOptions options, ZipArchive walked) throws IOException;
    }

    /**
     * Scans {@code file}, confirming a clean verdict with a load under the default limits.
     *
     * @param file the checkpoint, in any format the loader reads; read or mapped, never executed
     * @param userAllowed which qualified names ({@code module.QualName}) the caller allows beyond PyTorch's default
     *     allowlist, for example {@code SafeGlobals.effective()::contains} or a tool's {@code --allow} names
     * @return every global the file names with its verdict, and whether the file is dangerous or malformed
     * @throws IOException if the file cannot be opened or mapped (a malformed file is a report, not an exception)
     */
    public static ScanReport scan(Path file, Predicate<String> userAllowed) throws IOException {
        return scan(file, userAllowed, LoadLimits.defaults());
    }

    /**
     * Scans {@code file}; a clean verdict is confirmed by a load with {@code limits} (a load takes the memory
     * its limits allow: a service on a small heap passes the lower limits its own loads use).
     *
     * @param file the checkpoint, in any format the loader reads; read or mapped, never executed
     * @param userAllowed which qualified names ({@code module.QualName}) the caller allows beyond PyTorch's default
     *     allowlist, for example {@code SafeGlobals.effective()::contains} or a tool's {@code --allow} names
     * @param limits the limits of the confirming load
     * @return every global the file names with its verdict, and whether the file is dangerous or malformed
     * @throws IOException if the file cannot be opened or mapped (a malformed file is a report, not an exception)
     */
    public static ScanReport scan(Path file, Predicate<String> userAllowed, LoadLimits limits) throws IOException {
        // One copy of the file's bytes serves the walk and the confirming load, in memory only this call uses:
        // a confined arena, whose close costs a fraction of a shared one's (a folder scan of small files spent
        // most of its time opening, mapping and releasing every file twice).
        try (Arena arena = Arena.ofConfined();
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            boolean read = size <= READ_NOT_MAPPED;
            MemorySegment bytes = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : read ? readFully(channel, size)
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            String source = file.toString();
            FileChannel headers = read || size == 0 ? null : channel;
            return scan(bytes, source, userAllowed, limits, (options, walked) -> {
                try (Arena owner = Arena.ofConfined()) {
                    // What Checkpoint.load(file) reads, from the same bytes; the root is dropped unseen. The
                    // walk's archive serves when it was opened as the load opens it and is as fresh.
                    if (walked != null && options.limits() == LoadLimits.defaults() && walked.inflatedNothing()) {
                        CheckpointReader.readZip(Location.of(source), walked, headers, options, owner);
                    } else {
                        CheckpointReader.read(source, bytes, headers, options, owner);
                    }
                }
            });
        }
    }

    /**
     * A small file's bytes, read into a heap array: cheaper than mapping and unmapping a few pages, and the walk's
     * and the load's opcode readers read an array's bytes directly ({@link OperandReader}), several times faster
     * than through a segment of native memory in a JVM that has not compiled them yet (the tool's one-shot
     * process). Not read-only, so that its array stays visible to them; nothing writes it.
     */
    private static MemorySegment readFully(FileChannel channel, long size) throws IOException {
        byte[] bytes = new byte[(int) size];
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, buffer.position()) < 0) {
                // The file shrank after its size was taken: scan what is there, as a mapping would fault instead.
                return MemorySegment.ofArray(bytes).asSlice(0, buffer.position());
            }
        }
        return MemorySegment.ofArray(bytes);
    }

    /**
     * Scans the bytes of a checkpoint already in memory (an upload, an entry of another archive); a clean verdict
     * is checked by a load of a copy of them under the default limits.
     *
     * @param bytes the whole checkpoint file
     * @param source what the report and its messages call the bytes
     * @param userAllowed which qualified names ({@code module.QualName}) the caller allows beyond PyTorch's default
     *     allowlist, for example {@code SafeGlobals.effective()::contains} or a tool's {@code --allow} names
     * @return every global the bytes name with its verdict, and whether they are dangerous or malformed
     */
    public static ScanReport scan(MemorySegment bytes, String source, Predicate<String> userAllowed) {
        return scan(bytes, source, userAllowed, LoadLimits.defaults());
    }

    /**
     * Scans the bytes of a checkpoint already in memory; a clean verdict is checked by a load of a copy of them
     * with {@code limits}.
     *
     * @param bytes the whole checkpoint file
     * @param source what the report and its messages call the bytes
     * @param userAllowed which qualified names ({@code module.QualName}) the caller allows beyond PyTorch's default
     *     allowlist, for example {@code SafeGlobals.effective()::contains} or a tool's {@code --allow} names
     * @param limits the limits of the confirming load
     * @return every global the bytes name with its verdict, and whether they are dangerous or malformed
     */
    public static ScanReport scan(MemorySegment bytes, String source, Predicate<String> userAllowed,
            LoadLimits limits) {
        try {
            return scan(bytes, source, userAllowed, limits, (options, walked) -> {
                try (Arena owner = Arena.ofConfined()) {
                    // A private copy: the caller may change its bytes while the load reads them.
                    MemorySegment copy = owner.allocate(bytes.byteSize(), 64).copyFrom(bytes).asReadOnly();
                    CheckpointReader.read(source, copy, options, owner);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the loader is only ever given bytes in memory here
        }
    }

    private static ScanReport scan(MemorySegment bytes, String source, Predicate<String> userAllowed,
            LoadLimits limits, Loader loader) throws IOException {
        Collector c = new Collector(userAllowed);
        boolean dangerousFormat = false;
        // The formats in the order the loader recognises them (CheckpointReader.read).
        if (ZipArchive.looksLikeZip(bytes)) {
            dangerousFormat = scanZip(bytes, source, c);
        } else if (SafetensorsHeader.looksLikeSafetensors(bytes)
                || source.toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            // No pickle: its header is JSON, and the load below judges it.
        } else if (bytes.byteSize() == 0) {
            c.problems.add("the file is empty");
        } else if (LEGACY_MAGIC_NUMBER.equals(new Walk(bytes, 0, "pickle 1", new Collector(n -> false)).value())) {
            int pickles = walkPickles(bytes, 0, "pickle", true, c);
            if (pickles >= 0 && pickles < 5) {
                c.problems.add("the legacy stream ends after " + pickles + " of its 5 pickles (a load refuses it)");
            }
        } else if (LegacyTar.looksLikeTar(bytes)) {
            scanTar(bytes, source, c);
        } else {
            walkPickles(bytes, 0, "pickle", false, c);
        }
        if (!dangerousFormat && c.problems.isEmpty() && c.globals.stream().allMatch(g ->
                g.verdict() == Verdict.ALLOWED_BY_DEFAULT || g.verdict() == Verdict.ALLOWED_BY_USER)) {
            checkItLoads(c, limits, loader);
        }
        return new ScanReport(source, c.globals, c.problems, dangerousFormat);
    }

    /**
     * The one rule between scan and load: a clean scan means the file loads. The load allows what the caller
     * allowed, as inert records; a refusal of any kind becomes a problem of the report.
     */
    private static void checkItLoads(Collector c, LoadLimits limits, Loader loader) throws IOException {
        LoadOptions options;
        try {
            List<String> userAllowed = c.globals.stream().filter(g -> g.verdict() == Verdict.ALLOWED_BY_USER)
                    .map(GlobalReference::name).distinct().toList();
            options = userAllowed.isEmpty() && limits == LoadLimits.defaults() ? DEFAULT_CHECK
                    : LoadOptions.builder().limits(limits).sharedSafeGlobals(false).allowGlobals(userAllowed).build();
        } catch (IllegalArgumentException e) {
            c.problems.add("a load cannot allow what the scan was told to allow: " + e.getMessage());
            return;
        }
        try {
            loader.load(options, c.archive);
        } catch (UnsupportedGlobalException e) {
            // A global the load refuses where this file names it (the load judged the file otherwise than the
            // walk's grades), or one the walk could not see: either way the file does not load.
            boolean seen = c.globals.stream().anyMatch(g -> g.name().equals(e.globalName()));
            // The refusal without the loader's remedy, which names a Java API: each reader of the report (the
            // tool, the Maven plugin) has its own way to allow a global.
            c.problems.add("a weights-only load refuses " + e.globalName() + (seen ? " where this file names it: "
                    : ", which the scan did not see: ") + e.where() + ": " + e.refusal());
        } catch (CheckpointException e) {
            c.problems.add("a weights-only load refuses the file: " + e.getMessage());
        }
    }

    /** The {@code .pkl} records of a zip; returns whether it is a TorchScript archive. */
    private static boolean scanZip(MemorySegment bytes, String source, Collector c) {
        boolean torchScript = false;
        try {
            ZipArchive zip = ZipArchive.open(bytes, Location.of(source), LoadLimits.defaults());
            c.archive = zip;
            if (zip.contains("constants.pkl")) {
                torchScript = true;
                c.problems.add("TorchScript archive (torch.jit.save): it carries code that torch.jit.load would"
                        + " run, and a weights-only load refuses it");
            }
            for (String name : zip.recordNames()) {
                String folded = ZipArchive.fold(name);
                if (folded.endsWith(".pkl") || folded.endsWith("_pkl")) { // data.pkl, constants.pkl, *.debug_pkl
                    try {
                        MemorySegment record = zip.record(name).orElseThrow();
                        long end = new Walk(record, 0, zip.fullName(name), c).run();
                        if (end >= 0 && end < record.byteSize()) {
                            // A load refuses bytes after STOP; what they hold is reported, pickle by pickle.
                            c.problems.add(zip.fullName(name) + ": " + (record.byteSize() - end) + " bytes follow"
                                    + " the pickle's STOP (a load refuses them)");
                            walkPickles(record, end, zip.fullName(name) + " after STOP", false, c);
                        }
                    } catch (CheckpointException e) {
                        c.problems.add(e.getMessage());
                    }
                }
            }
            if (!torchScript && !zip.contains("data.pkl")) {
                c.problems.add("the archive has no " + zip.fullName("data.pkl") + " record (a load refuses it)");
            }
        } catch (CheckpointException e) {
            c.problems.add(e.getMessage());
            try {
                walkPicklesOfARefusedZip(bytes, c);
            } catch (RuntimeException unreadable) {
                // the refusal above is the verdict; what could be walked has been
            }
        }
        return torchScript;
    }

    /**
     * A zip the strict reader refuses (two records of one name, names equal but for case, a local header that
     * disagrees with the directory, ...) is still one other readers may read: every STORED {@code .pkl} record the
     * central directory lists is walked ({@link ZipArchive#forEachStoredRecordOfAnyArchive}), so that its globals
     * are named (PyTorch's own scan names them).
     */
    private static void walkPicklesOfARefusedZip(MemorySegment bytes, Collector c) {
        ZipArchive.forEachStoredRecordOfAnyArchive(bytes, (name, record) -> {
            String folded = ZipArchive.fold(name);
            if (folded.endsWith(".pkl") || folded.endsWith("_pkl")) {
                walkPickles(record, 0, name + " (in an archive a load refuses)", false, c);
            }
        });
    }

    /**
     * A 0.1.x tar: besides the object pickle, torch's loader unpickles (without any restriction) a count and
     * one record per storage in {@code storages}, then a list of views, and a count and one record per tensor
     * in {@code tensors}; raw storage bytes and tensor geometry sit between those pickles.
     */
    private static void scanTar(MemorySegment bytes, String source, Collector c) {
        LegacyTar tar;
        try {
            tar = LegacyTar.open(bytes, Location.of(source), LoadLimits.defaults().maxArchiveEntries());
        } catch (CheckpointException e) {
            c.problems.add(e.getMessage());
            return;
        }
        for (String member : new String[] {"sys_info", "pickle", "storages", "tensors"}) {
            if (!tar.contains(member)) {
                if (!member.equals("sys_info")) {
                    c.problems.add("the tar checkpoint has no '" + member + "' member (a load refuses it)");
                }
                continue;
            }
            MemorySegment m;
            try {
                m = tar.member(member, Location.of(source));
            } catch (CheckpointException e) {
                c.problems.add(e.getMessage());
                continue;
            }
            switch (member) {
                case "storages" -> walkTarRecords(m, member, true, c);
                case "tensors" -> walkTarRecords(m, member, false, c);
                default -> {
                    long end = new Walk(m, 0, member, c).run();
                    if (end >= 0 && end < m.byteSize()) {
                        c.problems.add(member + ": " + (m.byteSize() - end) + " bytes follow the pickle's STOP");
                        walkPickles(m, end, member + " after STOP", false, c);
                    }
                }
            }
        }
    }

    /** The count, the records (each followed by raw bytes) and, for storages, the views of one tar member. */
    private static void walkTarRecords(MemorySegment m, String member, boolean storages, Collector c) {
        Walk count = new Walk(m, 0, member + " (count)", c);
        long pos = count.run();
        if (pos < 0) {
            return;
        }
        if (!(count.value() instanceof Long n) || n < 0 || n > LoadLimits.defaults().maxTensors()) {
            c.problems.add(member + ": the record count is not an int from 0 to maxTensors; the rest of the member"
                    + " cannot be read");
            return;
        }
        for (long i = 0; i < n; i++) {
            Walk record = new Walk(m, pos, member + " (record " + (i + 1) + ")", c);
            pos = record.run();
            if (pos < 0) {
                return;
            }
            long skip;
            if (storages) {
                int elementSize = storageElementSize(record.value());
                if (elementSize < 0 || m.byteSize() - pos < 8) {
                    c.problems.add(member + ": record " + (i + 1) + " names no storage type or its data is cut"
                            + " short; the rest of the member cannot be read");
                    return;
                }
                long elements = m.get(I64, pos);
                skip = elements < 0 || elements > (m.byteSize() - pos - 8) / elementSize ? -1
                        : 8 + elements * elementSize;
            } else {
                int ndim = m.byteSize() - pos < 4 ? -1 : m.get(I32, pos);
                skip = ndim < 0 || ndim > 64 ? -1 : 8 + 16L * ndim + 8;
            }
            if (skip < 0 || skip > m.byteSize() - pos) {
                c.problems.add(member + ": the data of record " + (i + 1) + " lies outside the member; the rest"
                        + " of the member cannot be read");
                return;
            }
            pos += skip;
        }
        if (storages) {
            pos = new Walk(m, pos, member + " (views)", c).run();
        }
        if (pos >= 0 && pos < m.byteSize()) {
            c.problems.add(member + ": " + (m.byteSize() - pos) + " bytes follow its last record");
            walkPickles(m, pos, member + " after its records", false, c);
        }
    }

    /** The element size of the storage type a storages record (key, location, type) names, or -1. */
    private static int storageElementSize(Object record) {
        if (record instanceof Tuple(Object[] items) && items.length == 3 && items[2] instanceof Named(String name)) {
            for (String prefix : new String[] {"torch.cuda.", "torch."}) {
                if (name.startsWith(prefix) && name.indexOf('.', prefix.length()) < 0) {
                    return DType.fromLegacyStorageName(name.substring(prefix.length())).map(DType::elementSize)
                            .orElse(-1);
                }
            }
        }
        return -1;
    }

    /**
     * Walks the pickles from {@code pos}: a legacy stream's five (raw storage bytes follow them), else one
     * pickle, or several back to back, each starting with PROTO. Returns how many were read to their STOP,
     * or -1 if one broke (the break is reported).
     */
    private static int walkPickles(MemorySegment bytes, long pos, String label, boolean legacy, Collector c) {
        int n = 0;
        while (pos < bytes.byteSize()) {
            long end = new Walk(bytes, pos, label + " " + (n + 1), c).run();
            if (end < 0) {
                return -1;
            }
            n++;
            if ((legacy && n == 5) || (!legacy && (end >= bytes.byteSize()
                    || (bytes.get(ValueLayout.JAVA_BYTE, end) & 0xFF) != Opcode.PROTO.code))) {
                break;
            }
            pos = end;
        }
        return n;
    }

    /** A global on the shadow stack, by name. */
    private record Named(String name) {
    }

    /** A tuple on the shadow stack, with what is known of its items. */
    private record Tuple(Object[] items) {
    }

    private static final class Collector {
        final Predicate<String> userAllowed;
        /** The zip archive the walk read, if the file is one and its directory was read. */
        ZipArchive archive;
        final List<GlobalReference> globals = new ArrayList<>();
        final List<String> problems = new ArrayList<>();

        Collector(Predicate<String> userAllowed) {
            this.userAllowed = userAllowed;
        }

        /** Records a global; returns its name after the Python 2 mapping. */
        String add(String module, String name, String record, long offset, String opcode) {
            String[] mapped = PythonNames.map(module, name);
            String full = mapped[0] + "." + mapped[1];
            Verdict v = GlobalPolicy.decide(full, userAllowed);
            globals.add(new GlobalReference(full, record, offset, opcode, v,
                    v == Verdict.DANGEROUS ? GlobalPolicy.dangerReason(full).orElse(null) : null));
            return full;
        }

        void addComputed(String record, long offset, String opcode, String what) {
            globals.add(new GlobalReference("<" + what + ">", record, offset, opcode, Verdict.DANGEROUS,
                    "the global's name is computed when the pickle runs, which only an attack needs"));
        }
    }

    /** One pickle: opcodes from {@code start} to its STOP, read through the unpickler's opcode table. */
    private static final class Walk {
        private final MemorySegment data;
        private final long start;
        private final String record;
        private final Collector out;
        private final OperandReader in;
        private final ArrayList<Object> stack = new ArrayList<>();
        private int[] marks = new int[16];
        private int markCount;
        private final Map<Long, Object> memo = new HashMap<>();
        private boolean memoOverflow;
        private long op;
        private Object value = UNKNOWN;

        Walk(MemorySegment data, long start, String record, Collector out) {
            this.data = data;
            this.start = start;
            this.record = record;
            this.out = out;
            this.in = new OperandReader(data, start, data.byteSize());
        }

        /** What the pickle built, where the walk can tell (ints, strings, tuples of them, globals by name). */
        Object value() {
            if (in.position() == start) {
                run();
            }
            return value;
        }

        /** Returns the offset after STOP, or -1 if the stream broke (reported as a problem). */
        long run() {
            try {
                while (true) {
                    op = in.position();
                    int code = in.nextByte();
                    if (code < 0) {
                        throw new OperandReader.Malformed("the pickle ends before its STOP");
                    }
                    Opcode opcode = Opcode.of(code);
                    if (opcode == null) {
                        throw new OperandReader.Malformed(Opcode.unknown(code));
                    }
                    if (opcode == Opcode.STOP) {
                        value = stack.size() == 1 && markCount == 0 ? stack.get(0) : UNKNOWN;
                        return in.position();
                    }
                    step(opcode);
                }
            } catch (OperandReader.Malformed e) {
                out.problems.add(record + ": at pickle offset " + (op - start) + ": " + e.getMessage());
                return -1;
            }
        }

        private void step(Opcode code) throws OperandReader.Malformed {
            switch (code) {
                case MARK -> mark();
                case POP -> {
                    if (stack.size() > base()) {
                        pop();
                    } else {
                        popMark();
                    }
                }
                case POP_MARK -> popMark();
                case DUP -> push(stack.isEmpty() ? UNKNOWN : stack.get(stack.size() - 1));
                case INT, LONG -> push(integer(in.line(Long.MAX_VALUE, "text operand")));
                case BININT, BININT1, BININT2 -> push(in.integer(code));
                case LONG1, LONG4 -> push(binaryInteger(bytes(in.length(code))));
                case STRING -> push(quoted(in.line(Long.MAX_VALUE, "text operand")));
                case UNICODE -> push(text(in.line(Long.MAX_VALUE, "text operand")));
                case BINSTRING, SHORT_BINSTRING, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8 ->
                        push(text(bytes(in.length(code))));
                case PUT -> memoPut(decimal(in.line(Long.MAX_VALUE, "text operand")));
                case BINPUT, LONG_BINPUT -> memoPut(in.integer(code));
                case MEMOIZE -> memoPut(memo.size());
                case GET -> push(memoGet(decimal(in.line(Long.MAX_VALUE, "text operand"))));
                case BINGET, LONG_BINGET -> push(memoGet(in.integer(code)));
                case APPEND, BUILD, REDUCE -> {
                    pop();
                    replaceTop();
                }
                case SETITEM -> {
                    pop();
                    pop();
                }
                case APPENDS, SETITEMS, ADDITEMS -> popMark();
                case LIST, DICT, FROZENSET -> {
                    popMark();
                    push(UNKNOWN);
                }
                case TUPLE -> push(new Tuple(popMark()));
                case TUPLE1, TUPLE2, TUPLE3 -> {
                    int n = code == Opcode.TUPLE1 ? 1 : code == Opcode.TUPLE2 ? 2 : 3;
                    Object[] items = new Object[n];
                    for (int i = n - 1; i >= 0; i--) {
                        items[i] = pop();
                    }
                    push(new Tuple(items));
                }
                case EMPTY_TUPLE -> push(new Tuple(new Object[0]));
                case GLOBAL, INST -> {
                    String module = utf8(in.line(Long.MAX_VALUE, "text operand"));
                    String name = utf8(in.line(Long.MAX_VALUE, "text operand"));
                    String full = out.add(module, name, record, op - start, code.name());
                    if (code == Opcode.INST) {
                        popMark();
                        push(UNKNOWN);
                    } else {
                        push(new Named(full));
                    }
                }
                case STACK_GLOBAL -> {
                    Object name = pop();
                    Object module = pop();
                    if (module instanceof String m && name instanceof String n) {
                        push(new Named(out.add(m, n, record, op - start, "STACK_GLOBAL")));
                    } else {
                        out.addComputed(record, op - start, "STACK_GLOBAL",
                                "STACK_GLOBAL whose module and name are not string constants");
                        push(UNKNOWN);
                    }
                }
                case OBJ -> {
                    popMark();
                    push(UNKNOWN);
                }
                case NEWOBJ -> {
                    pop();
                    replaceTop();
                }
                case NEWOBJ_EX -> {
                    pop();
                    pop();
                    replaceTop();
                }
                case PERSID -> {
                    // Protocol 0's text persistent id names its storage class, which a load resolves through the
                    // allowlist like any GLOBAL (TextPersistentId): report it as one.
                    String pid = new String(in.line(Long.MAX_VALUE, "text operand"), StandardCharsets.ISO_8859_1);
                    for (String qualified : TextPersistentId.classNames(pid)) {
                        int dot = qualified.lastIndexOf('.');
                        if (dot > 0) { // without a module, a load refuses the id as malformed, not the name
                            out.add(qualified.substring(0, dot), qualified.substring(dot + 1), record, op - start,
                                    code.name());
                        }
                    }
                    push(UNKNOWN);
                }
                case BINPERSID -> replaceTop();
                case EXT1, EXT2, EXT4 -> {
                    in.skip(code);
                    out.addComputed(record, op - start, code.name(), code + " code from copyreg's extension registry");
                    push(UNKNOWN);
                }
                case PROTO, FRAME, READONLY_BUFFER -> in.skip(code);
                // Every other opcode pushes one value the walk does not follow (constants, empties, floats, bytes).
                default -> {
                    in.skip(code);
                    push(UNKNOWN);
                }
            }
        }

        // The shadow stack tolerates underflow: the scan must go on reading names from a broken stream.
        private int base() {
            return markCount == 0 ? 0 : marks[markCount - 1];
        }

        private void mark() throws OperandReader.Malformed {
            if (markCount == MAX_MARKS) {
                throw new OperandReader.Malformed("more than " + MAX_MARKS + " open MARKs (a load refuses this pickle)");
            }
            if (markCount == marks.length) {
                marks = Arrays.copyOf(marks, markCount * 2);
            }
            marks[markCount++] = stack.size();
        }

        private void push(Object v) throws OperandReader.Malformed {
            if (stack.size() >= MAX_STACK) {
                throw new OperandReader.Malformed("more than " + MAX_STACK
                        + " values on the stack (a load refuses this pickle)");
            }
            stack.add(v);
        }

        private Object pop() {
            return stack.size() > base() ? stack.remove(stack.size() - 1) : UNKNOWN;
        }

        private void replaceTop() throws OperandReader.Malformed {
            pop();
            push(UNKNOWN);
        }

        private Object[] popMark() {
            if (markCount == 0) {
                return new Object[0];
            }
            int b = marks[--markCount];
            List<Object> top = stack.subList(b, stack.size());
            // Only short tuples are kept item by item (a storages record is three); others become unknown.
            Object[] items = top.size() <= 8 ? top.toArray() : new Object[] {UNKNOWN, UNKNOWN};
            top.clear();
            return items;
        }

        private void memoPut(long index) {
            if (memoOverflow) {
                return;
            }
            if (memo.size() >= MAX_TRACKED_MEMO && !memo.containsKey(index)) {
                // Past this, indices (MEMOIZE's is the memo's size) could no longer be followed exactly: every
                // later read of the memo is unknown, so a name read through it counts as computed (dangerous).
                memoOverflow = true;
                memo.clear();
                return;
            }
            memo.put(index, stack.isEmpty() ? UNKNOWN : stack.get(stack.size() - 1));
        }

        private Object memoGet(long index) {
            return memoOverflow ? UNKNOWN : memo.getOrDefault(index, UNKNOWN);
        }

        /** Bytes of a length-prefixed operand; only short ones are materialised. */
        private byte[] bytes(long n) throws OperandReader.Malformed {
            long at = in.take(n);
            return n <= MAX_TRACKED_STRING ? data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE) : null;
        }

        private static Object text(byte[] raw) {
            return raw == null ? UNKNOWN : new String(raw, StandardCharsets.UTF_8);
        }

        /** A STRING operand: quotes removed; escapes are rare in names, so a name with one stays unknown. */
        private static Object quoted(byte[] raw) {
            if (raw.length >= 2 && raw[0] == raw[raw.length - 1] && (raw[0] == '\'' || raw[0] == '"')) {
                String s = new String(raw, 1, raw.length - 2, StandardCharsets.UTF_8);
                return s.indexOf('\\') < 0 ? s : UNKNOWN;
            }
            return UNKNOWN;
        }

        private static String utf8(byte[] raw) {
            return new String(raw, StandardCharsets.UTF_8);
        }

        private static long decimal(byte[] raw) {
            try {
                return Long.parseLong(new String(raw, StandardCharsets.US_ASCII).strip());
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        /** An INT or LONG text operand (a trailing L allowed), as far as it is a plain decimal. */
        private static Object integer(byte[] raw) {
            String text = new String(raw, StandardCharsets.US_ASCII).strip();
            if (text.endsWith("L")) {
                text = text.substring(0, text.length() - 1);
            }
            if (text.isEmpty() || text.length() > 64) {
                return UNKNOWN;
            }
            try {
                BigInteger v = new BigInteger(text);
                return v.bitLength() < 64 ? (Object) v.longValue() : v;
            } catch (NumberFormatException e) {
                return UNKNOWN;
            }
        }

        /** A LONG1 or LONG4 operand: little-endian two's complement. */
        private static Object binaryInteger(byte[] raw) {
            if (raw == null) {
                return UNKNOWN;
            }
            byte[] bigEndian = new byte[raw.length];
            for (int i = 0; i < raw.length; i++) {
                bigEndian[i] = raw[raw.length - 1 - i];
            }
            BigInteger v = raw.length == 0 ? BigInteger.ZERO : new BigInteger(bigEndian);
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        }
    }
}
