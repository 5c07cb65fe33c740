package dev.weightsonly.scan;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.container.LegacyTar;
import dev.weightsonly.container.ZipArchive;
import dev.weightsonly.pickle.PythonNames;
import dev.weightsonly.torch.TorchAllowlist;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Lists the globals a checkpoint names without building anything, like torch's
 * {@code get_unsafe_globals_in_checkpoint}: every pickle in the file is walked opcode by opcode, operands
 * skipped, and each GLOBAL, INST, STACK_GLOBAL and EXT recorded with what a load would make of it.
 *
 * <p>Because nothing is built, it works on files the loader refuses and on broken streams (what was read
 * before the break is reported with the break). STACK_GLOBAL takes its names from the stack, so the walk
 * keeps a shadow stack and memo of the string constants; a name computed at run time is reported as such,
 * and counts as dangerous: a weights file has no reason to hide one.
 */
public final class GlobalScanner {

    private static final Object UNKNOWN = new Object();
    private static final int MAX_TRACKED_STRING = 4096;
    private static final int MAX_TRACKED_MEMO = 1 << 18;
    // The shadow stack and the MARKs are bounded as a load bounds them: a pickle past these is refused by any
    // load, and the scan reports that instead of holding millions of entries.
    private static final int MAX_STACK = LoadLimits.defaults().maxStackDepth();
    private static final int MAX_MARKS = LoadLimits.defaults().maxMarkDepth();
    private static final byte[] LEGACY_MAGIC = HexFormat.of().parseHex("80028a0a6cfc9c46f9206aa850192e");
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GlobalScanner() {
    }

    /** Scans {@code file}; {@code userAllowed} says which names the caller allows beyond the default list. */
    public static ScanReport scan(Path file, Predicate<String> userAllowed) throws IOException {
        try (Arena arena = Arena.ofConfined();
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment bytes = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return scan(bytes, file.toString(), userAllowed);
        }
    }

    /** Scans the bytes of a checkpoint. */
    public static ScanReport scan(MemorySegment bytes, String source, Predicate<String> userAllowed) {
        Collector c = new Collector(userAllowed);
        boolean dangerousFormat = false;
        if (ZipArchive.looksLikeZip(bytes)) {
            try {
                ZipArchive zip = ZipArchive.open(bytes, Location.of(source), LoadLimits.defaults());
                if (zip.contains("constants.pkl")) {
                    dangerousFormat = true;
                    c.problems.add("TorchScript archive (torch.jit.save): it carries code that torch.jit.load would"
                            + " run, and a weights-only load refuses it");
                }
                for (String name : zip.recordNames()) {
                    if (name.endsWith(".pkl") || name.endsWith("_pkl")) { // data.pkl, constants.pkl, *.debug_pkl
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
                if (!dangerousFormat && !zip.contains("data.pkl")) {
                    c.problems.add("the archive has no " + zip.fullName("data.pkl") + " record (a load refuses it)");
                }
            } catch (CheckpointException e) {
                c.problems.add(e.getMessage());
            }
        } else if (startsWith(bytes, LEGACY_MAGIC)) {
            int pickles = walkPickles(bytes, 0, "pickle", true, c);
            if (pickles >= 0 && pickles < 5) {
                c.problems.add("the legacy stream ends after " + pickles + " of its 5 pickles (a load refuses it)");
            }
        } else if (LegacyTar.looksLikeTar(bytes)) {
            // A 0.1.x tar checkpoint: the object pickle is the member that names arbitrary globals.
            try {
                MemorySegment pickle = LegacyTar.open(bytes, Location.of(source), LoadLimits.defaults()
                        .maxArchiveEntries()).member("pickle", Location.of(source));
                walkPickles(pickle, 0, "pickle", false, c);
            } catch (CheckpointException e) {
                c.problems.add(e.getMessage());
            }
        } else if (bytes.byteSize() == 0) {
            c.problems.add("the file is empty");
        } else {
            walkPickles(bytes, 0, "pickle", false, c);
        }
        return new ScanReport(source, c.globals, c.problems, dangerousFormat);
    }

    /**
     * Walks the pickles from {@code pos}: a legacy stream's five (raw storage bytes follow them), else one
     * pickle, or several back to back, each starting with PROTO.
     */
    /** Returns how many pickles were read to their STOP, or -1 if one broke (the break is reported). */
    private static int walkPickles(MemorySegment bytes, long pos, String label, boolean legacy, Collector c) {
        int n = 0;
        while (pos < bytes.byteSize()) {
            long end = new Walk(bytes, pos, label + " " + (n + 1), c).run();
            if (end < 0) {
                return -1;
            }
            n++;
            if ((legacy && n == 5) || (!legacy && (end >= bytes.byteSize()
                    || (bytes.get(ValueLayout.JAVA_BYTE, end) & 0xFF) != 0x80))) {
                break;
            }
            pos = end;
        }
        return n;
    }

    private static boolean startsWith(MemorySegment bytes, byte[] prefix) {
        if (bytes.byteSize() < prefix.length) {
            return false;
        }
        return Arrays.equals(bytes.asSlice(0, prefix.length).toArray(ValueLayout.JAVA_BYTE), prefix);
    }

    /** Classifies one name. */
    static Verdict verdict(String name, Predicate<String> userAllowed) {
        if (DangerousGlobals.isDangerous(name)) {
            return Verdict.DANGEROUS;
        }
        if (TorchAllowlist.contains(name)) {
            return Verdict.ALLOWED_BY_DEFAULT;
        }
        return userAllowed.test(name) ? Verdict.ALLOWED_BY_USER : Verdict.NEEDS_ALLOWLISTING;
    }

    private static final class Collector {
        final Predicate<String> userAllowed;
        final List<GlobalReference> globals = new ArrayList<>();
        final List<String> problems = new ArrayList<>();

        Collector(Predicate<String> userAllowed) {
            this.userAllowed = userAllowed;
        }

        void add(String module, String name, String record, long offset, String opcode) {
            String[] mapped = PythonNames.map(module, name);
            String full = mapped[0] + "." + mapped[1];
            Verdict v = verdict(full, userAllowed);
            globals.add(new GlobalReference(full, record, offset, opcode, v,
                    v == Verdict.DANGEROUS ? DangerousGlobals.reason(full).orElse(null) : null));
        }

        void addComputed(String record, long offset, String opcode, String what) {
            globals.add(new GlobalReference("<" + what + ">", record, offset, opcode, Verdict.DANGEROUS,
                    "the global's name is computed when the pickle runs, which only an attack needs"));
        }
    }

    /** One pickle: opcodes from {@code start} to its STOP. */
    private static final class Walk {
        private final MemorySegment data;
        private final long start;
        private final String record;
        private final Collector out;
        private final ArrayList<Object> stack = new ArrayList<>();
        private int[] marks = new int[16];
        private int markCount;
        private final Map<Long, Object> memo = new HashMap<>();
        private boolean memoOverflow;
        private long pos;
        private long op;

        Walk(MemorySegment data, long start, String record, Collector out) {
            this.data = data;
            this.start = start;
            this.record = record;
            this.out = out;
            this.pos = start;
        }

        /** Returns the offset after STOP, or -1 if the stream broke (reported as a problem). */
        long run() {
            try {
                while (true) {
                    op = pos;
                    if (pos >= data.byteSize()) {
                        throw new Broken("the pickle ends before STOP");
                    }
                    int code = data.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
                    if (code == 0x2E) {
                        return pos;
                    }
                    step(code);
                }
            } catch (Broken e) {
                out.problems.add(record + ": at pickle offset " + (op - start) + ": " + e.getMessage());
                return -1;
            }
        }

        private void step(int code) throws Broken {
            switch (code) {
                case 0x28 -> mark();                                                  // MARK
                case 0x30 -> {                                                        // POP
                    if (stack.size() > base()) {
                        pop();
                    } else {
                        popMark();
                    }
                }
                case 0x31 -> popMark();                                               // POP_MARK
                case 0x32 -> push(stack.isEmpty() ? UNKNOWN : stack.get(stack.size() - 1)); // DUP
                case 0x46, 0x49, 0x4C -> {                                            // FLOAT INT LONG
                    line();
                    push(UNKNOWN);
                }
                case 0x4A -> skipPush(4);                                             // BININT
                case 0x4B -> skipPush(1);                                             // BININT1
                case 0x4D -> skipPush(2);                                             // BININT2
                case 0x47 -> skipPush(8);                                             // BINFLOAT
                case 0x8A -> skipPush(u8());                                          // LONG1
                case 0x8B -> skipPush(len32());                                       // LONG4
                case 0x4E, 0x88, 0x89, 0x29, 0x5D, 0x7D, 0x8F -> push(UNKNOWN);       // constants, empties
                case 0x53 -> push(quoted(line()));                                    // STRING
                case 0x56 -> push(text(line()));                                      // UNICODE
                case 0x54 -> push(text(bytes(len32())));                              // BINSTRING
                case 0x55, 0x8C -> push(text(bytes(u8())));                           // SHORT_BINSTRING, SHORT_BINUNICODE
                case 0x58 -> push(text(bytes(u32())));                                // BINUNICODE
                case 0x8D -> push(text(bytes(u64())));                                // BINUNICODE8
                case 0x42 -> skipPush(u32());                                         // BINBYTES
                case 0x43 -> skipPush(u8());                                          // SHORT_BINBYTES
                case 0x8E, 0x96 -> skipPush(u64());                                   // BINBYTES8, BYTEARRAY8
                case 0x70 -> memoPut(decimal(line()));                                // PUT
                case 0x71 -> memoPut(u8());                                           // BINPUT
                case 0x72 -> memoPut(u32());                                          // LONG_BINPUT
                case 0x94 -> memoPut(memo.size());                                    // MEMOIZE
                case 0x67 -> push(memoGet(decimal(line())));                          // GET
                case 0x68 -> push(memoGet(u8()));                                     // BINGET
                case 0x6A -> push(memoGet(u32()));                                    // LONG_BINGET
                case 0x61, 0x62, 0x52 -> {                                            // APPEND BUILD REDUCE
                    pop();
                    replaceTop();
                }
                case 0x73 -> {                                                        // SETITEM
                    pop();
                    pop();
                }
                case 0x65, 0x75, 0x90 -> popMark();                                   // APPENDS SETITEMS ADDITEMS
                case 0x74, 0x6C, 0x64, 0x91 -> {                                      // TUPLE LIST DICT FROZENSET
                    popMark();
                    push(UNKNOWN);
                }
                case 0x85, 0x86, 0x87 -> {                                            // TUPLE1..3
                    for (int i = 0; i < code - 0x84; i++) {
                        pop();
                    }
                    push(UNKNOWN);
                }
                case 0x63 -> {                                                        // GLOBAL
                    long at = op;
                    String module = utf8(line());
                    String name = utf8(line());
                    out.add(module, name, record, at - start, "GLOBAL");
                    push(UNKNOWN);
                }
                case 0x69 -> {                                                        // INST
                    long at = op;
                    String module = utf8(line());
                    String name = utf8(line());
                    out.add(module, name, record, at - start, "INST");
                    popMark();
                    push(UNKNOWN);
                }
                case 0x93 -> {                                                        // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (module instanceof String m && name instanceof String n) {
                        out.add(m, n, record, op - start, "STACK_GLOBAL");
                    } else {
                        out.addComputed(record, op - start, "STACK_GLOBAL",
                                "STACK_GLOBAL whose module and name are not string constants");
                    }
                    push(UNKNOWN);
                }
                case 0x6F -> {                                                        // OBJ
                    popMark();
                    push(UNKNOWN);
                }
                case 0x81 -> {                                                        // NEWOBJ
                    pop();
                    replaceTop();
                }
                case 0x92 -> {                                                        // NEWOBJ_EX
                    pop();
                    pop();
                    replaceTop();
                }
                case 0x50 -> {                                                        // PERSID
                    line();
                    push(UNKNOWN);
                }
                case 0x51 -> replaceTop();                                            // BINPERSID
                case 0x82, 0x83, 0x84 -> {                                            // EXT1/2/4
                    int n = code == 0x82 ? 1 : code == 0x83 ? 2 : 4;
                    take(n);
                    out.addComputed(record, op - start, "EXT" + n, "EXT" + n + " code from copyreg's extension registry");
                    push(UNKNOWN);
                }
                case 0x80 -> take(1);                                                 // PROTO
                case 0x95 -> u64();                                                   // FRAME
                case 0x97 -> push(UNKNOWN);                                           // NEXT_BUFFER
                case 0x98 -> { }                                                      // READONLY_BUFFER
                default -> throw new Broken("Unsupported operand " + code + " (0x" + Integer.toHexString(code)
                        + "): not a pickle opcode");
            }
        }

        // The shadow stack tolerates underflow: the scan must go on reading names from a broken stream.
        private int base() {
            return markCount == 0 ? 0 : marks[markCount - 1];
        }

        private void mark() throws Broken {
            if (markCount == MAX_MARKS) {
                throw new Broken("more than " + MAX_MARKS + " open MARKs (a load refuses this pickle)");
            }
            if (markCount == marks.length) {
                marks = Arrays.copyOf(marks, markCount * 2);
            }
            marks[markCount++] = stack.size();
        }

        private void push(Object v) throws Broken {
            if (stack.size() >= MAX_STACK) {
                throw new Broken("more than " + MAX_STACK + " values on the stack (a load refuses this pickle)");
            }
            stack.add(v);
        }

        private Object pop() {
            return stack.size() > base() ? stack.remove(stack.size() - 1) : UNKNOWN;
        }

        private void replaceTop() throws Broken {
            pop();
            push(UNKNOWN);
        }

        private void popMark() {
            if (markCount == 0) {
                return;
            }
            int b = marks[--markCount];
            while (stack.size() > b) {
                stack.remove(stack.size() - 1);
            }
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

        private void skipPush(long n) throws Broken {
            take(n);
            push(UNKNOWN);
        }

        private long take(long n) throws Broken {
            if (n < 0 || data.byteSize() - pos < n) {
                throw new Broken("the pickle ends inside an operand");
            }
            long at = pos;
            pos += n;
            return at;
        }

        private int u8() throws Broken {
            return data.get(ValueLayout.JAVA_BYTE, take(1)) & 0xFF;
        }

        private long u32() throws Broken {
            return data.get(I32, take(4)) & 0xFFFF_FFFFL;
        }

        private long len32() throws Broken {
            int v = data.get(I32, take(4));
            if (v < 0) {
                throw new Broken("negative length " + v);
            }
            return v;
        }

        private long u64() throws Broken {
            long v = data.get(I64, take(8));
            if (v < 0) {
                throw new Broken("length larger than any file");
            }
            return v;
        }

        /** Bytes of a length-prefixed operand; only short ones are materialised. */
        private byte[] bytes(long n) throws Broken {
            long at = take(n);
            return n <= MAX_TRACKED_STRING ? data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE) : null;
        }

        private byte[] line() throws Broken {
            long limit = Math.min(data.byteSize(), pos + 65536);
            for (long i = pos; i < limit; i++) {
                if (data.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                    byte[] line = data.asSlice(pos, i - pos).toArray(ValueLayout.JAVA_BYTE);
                    pos = i + 1;
                    return line;
                }
            }
            throw new Broken("a text operand has no ending newline");
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
    }

    /** The stream cannot be read further. */
    private static final class Broken extends Exception {
        private static final long serialVersionUID = 1L;

        Broken(String message) {
            super(message, null, false, false);
        }
    }
}
