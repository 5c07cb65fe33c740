package dev.weightsonly.internal.container;

import static dev.weightsonly.internal.container.ZipChecks.u16;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.io.Prefaulted;
import dev.weightsonly.internal.paged.LongPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The zip container of {@code torch.save} (PyTorch 1.6 and later): records under one root folder, found
 * by exact name through the central directory. A STORED record, which is what torch writes, is a slice
 * of the file's bytes, never a copy; a DEFLATED one (a checkpoint re-zipped by another tool) is inflated
 * into memory within {@link LoadLimits#maxInflatedBytes()}.
 *
 * <p>The directory is read straight from the file's bytes (the mapping, or the in-memory copy): the end
 * record (and its ZIP64 form, which torch writes past 4 GiB), then each directory entry's name, flags,
 * method, sizes and local header offset, nothing else. A record's local header is read when the record
 * is asked for, so opening an archive of 300,000 records costs one pass over its directory. Every offset
 * and size is checked against the file before it is used.
 *
 * <p>Strictly, so that no two readers can see different files in the same bytes ({@link ZipChecks}): one end
 * record, ending at the end of the file; a directory holding exactly the entries it counts; plain relative
 * names; no encrypted entry and no method but STORED and DEFLATED; records inside the file and not
 * overlapping; local headers that repeat the directory. DEFLATED records inflate within
 * {@link LoadLimits#maxInflatedBytes()} each and {@link LoadLimits#maxInflationRatio()} in all.
 */
public final class ZipArchive {

    private static final int LOCAL_HEADER_BYTES = ZipChecks.LOCAL_HEADER_BYTES;
    private static final int STORED = ZipChecks.STORED;

    private static final ValueLayout.OfInt U32 = ZipChecks.U32;

    private final MemorySegment file;
    private final Location where;
    private final LoadLimits limits;
    private final String root;
    // The directory's values and the name index, in directory order.
    private final RecordTable records;
    // Whether the directory lists the records in file order (torch's archives): then each record's bytes must end by
    // the next record's local header, or the directory's start for the last, and ends is null; else ends holds, per
    // record (directory order), the header that follows it in file order (or the directory's start).
    private final boolean inFileOrder;
    private final LongPages ends;
    private final long directoryStart;
    // Per record (directory order), where its data starts if readLocalHeaders found its local header and data
    // descriptor good; 0 (no record's data starts at 0) where record() must check them itself. Null until then.
    private LongPages checkedData;
    private final AtomicLong inflated = new AtomicLong();

    private ZipArchive(MemorySegment file, Location where, LoadLimits limits, String root, RecordTable records,
            boolean inFileOrder, LongPages ends, long directoryStart) {
        this.file = file;
        this.where = where;
        this.limits = limits;
        this.root = root;
        this.records = records;
        this.inFileOrder = inFileOrder;
        this.ends = ends;
        this.directoryStart = directoryStart;
    }

    /** The offset record {@code i}'s bytes must end by (see {@link #inFileOrder}). */
    private long end(int i) {
        if (ends != null) {
            return ends.get(i);
        }
        return i + 1 < records.count() ? records.localHeader(i + 1) : directoryStart;
    }

    /** Whether the bytes start as torch's zip checkpoints do (a local file header at offset 0). */
    public static boolean looksLikeZip(MemorySegment file) {
        return file.byteSize() >= 4 && file.get(U32, 0) == ZipChecks.LOCAL_HEADER;
    }

    /** Reads the central directory of {@code file}, checking it as {@link ZipChecks} says. */
    public static ZipArchive open(MemorySegment file, Location where, LoadLimits limits) throws CheckpointException {
        ZipChecks.Directory directory = ZipChecks.directory(file, where);
        if (directory.entries() > limits.maxArchiveEntries()) {
            throw where.limit("maxArchiveEntries", limits.maxArchiveEntries(), "more than "
                    + limits.maxArchiveEntries() + " records in the archive");
        }
        int count = (int) directory.entries();
        RecordTable table = new RecordTable(count, directory.size());
        byte[] name = new byte[Math.min(limits.maxNameBytes(), 0xFFFF)];
        String root = null;
        byte[] rootBytes = null;
        long at = directory.offset();
        long end = directory.offset() + directory.size();
        LongPages minEnds = new LongPages(count);
        for (int i = 0; i < count; i++) {
            at = ZipChecks.centralEntry(file, at, end, i, count, directory.offset(), limits, where, table, name);
            int length = table.nameLength(i);
            minEnds.set(i, table.localHeader(i) + LOCAL_HEADER_BYTES + length + table.compressed(i));
            if (root == null) {
                int slash = indexOf(name, length, (byte) '/');
                if (slash <= 0) {
                    throw where.malformed("file in archive is not in a subdirectory: " + table.fullName(i));
                }
                rootBytes = Arrays.copyOf(name, slash + 1);
                root = ZipChecks.text(rootBytes, rootBytes.length);
                table.rootLength(rootBytes.length);
            }
            // torch requires every record under the first one's folder, compared exactly (inline_container.cc),
            // but finds records with miniz's mz_zip_reader_locate_file, which ignores ASCII case: lookups here
            // ignore it too, and two names that differ only in case, one record to torch (it reads whichever its
            // binary search meets), are refused. Names compare as their bytes (RecordTable).
            if (length < rootBytes.length
                    || !Arrays.equals(name, 0, rootBytes.length, rootBytes, 0, rootBytes.length)) {
                throw where.malformed("record '" + table.fullName(i) + "' is outside the archive's root folder '"
                        + root + "'");
            }
            int earlier = table.index(i);
            if (earlier >= 0) {
                String other = table.fullName(earlier);
                String full = table.fullName(i);
                throw where.malformed(other.equals(full) ? "record '" + full + "' appears twice in the archive"
                        : "records '" + other + "' and '" + full + "' differ only in case: PyTorch finds records"
                                + " without regard to ASCII case, so it would read one of them for both");
            }
        }
        if (at != end) {
            throw ZipChecks.truncatedOrNotZip(where, "the central directory holds more than the " + count
                    + " entries its end record counts");
        }
        boolean inFileOrder = ZipChecks.inFileOrder(table.localHeaders());
        LongPages ends = ZipChecks.limits(table.localHeaders(), minEnds, table::fullName, directory.offset(),
                inFileOrder, where);
        return new ZipArchive(file, where, limits, root, table, inFileOrder, ends, directory.offset());
    }

    private static int indexOf(byte[] bytes, int length, byte b) {
        for (int k = 0; k < length; k++) {
            if (bytes[k] == b) {
                return k;
            }
        }
        return -1;
    }

    /** Receives one record of an archive read without checks ({@link #forEachStoredRecordOfAnyArchive}). */
    @FunctionalInterface
    public interface UncheckedRecords {
        /**
         * Called once per record, in directory order.
         *
         * @param name  the name the central directory gives, decoded as UTF-8 (malformed bytes replaced)
         * @param bytes the record's stored bytes
         */
        void record(String name, MemorySegment bytes);
    }

    /**
     * The STORED records the central directory of {@code file} lists, read without any of the checks of
     * {@link #open}: for the scanner, which names the globals of the pickles in an archive a load refuses (two
     * records of one name, a local header that disagrees with the directory, ...), since other readers may read
     * it. Best effort over bytes already known to be malformed: the last end record found is taken, an entry
     * whose fields do not fit the file is skipped or ends the walk, and nothing is inflated. The records are
     * handed out one at a time, none kept (an archive may list a million).
     *
     * @param file    the archive's bytes
     * @param records receives each record whose local header is where the directory says and whose bytes lie
     *                in the file
     */
    public static void forEachStoredRecordOfAnyArchive(MemorySegment file, UncheckedRecords records) {
        long size = file.byteSize();
        long end = -1;
        for (long at = size - ZipChecks.END_BYTES; at >= Math.max(0, size - ZipChecks.END_BYTES - ZipChecks.MAX_COMMENT);
                at--) {
            if (file.get(U32, at) == ZipChecks.END_OF_CENTRAL_DIRECTORY) {
                end = at;
                break;
            }
        }
        if (end < 0) {
            return;
        }
        int entries = u16(file, end + 10);
        long at = ZipChecks.u32(file, end + 16);
        for (int i = 0; i < entries && at + ZipChecks.CENTRAL_HEADER_BYTES <= size
                && file.get(U32, at) == ZipChecks.CENTRAL_HEADER; i++) {
            ZipChecks.RawEntry e = ZipChecks.RawEntry.read(file, at);
            if (e.nameOffset() + e.nameLength() > size) {
                return;
            }
            String name = new String(file.asSlice(e.nameOffset(), e.nameLength()).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            at = e.next();
            long header = e.localHeader();
            if (e.method() != STORED || header + LOCAL_HEADER_BYTES > size
                    || file.get(U32, header) != ZipChecks.LOCAL_HEADER) {
                continue;
            }
            long data = header + LOCAL_HEADER_BYTES + u16(file, header + 26) + u16(file, header + 28);
            if (data <= size && e.compressed() <= size - data) {
                records.record(name, file.asSlice(data, e.compressed()));
            }
        }
    }

    /**
     * Whether no DEFLATED record was inflated yet: an archive that inflated nothing is as a fresh open leaves it, so
     * a second reader may take it over (the scanner's confirming load).
     *
     * @return true if nothing of this archive counted against its inflation limit
     */
    public boolean inflatedNothing() {
        return inflated.get() == 0;
    }

    /** The root folder, with its trailing slash ({@code archive/}, {@code model/}). */
    public String rootFolder() {
        return root;
    }

    /** How many records the archive holds. */
    public int recordCount() {
        return records.count();
    }

        /** Record names relative to the root folder, in central-directory order. */
    public List<String> recordNames() {
        List<String> names = new ArrayList<>(records.count());
        for (int i = 0; i < records.count(); i++) {
            names.add(records.relativeName(i));
        }
        return names;
    }

    /** Whether the archive has the record, found as torch finds it (ignoring ASCII case). */
    public boolean contains(String name) {
        return records.find("", name, false) >= 0;
    }

    /**
     * Whether the archive has a record of exactly this name (relative, case included): torch.load's test of a
     * TorchScript archive is {@code "constants.pkl" in get_all_records()}, a comparison of Python strings, while its
     * lookups of a record ignore ASCII case.
     */
    public boolean containsExactly(String name) {
        return records.find("", name, true) >= 0;
    }

    /**
     * A record name as lookups compare it: ASCII letters in lower case, every other character as it is
     * (miniz's {@code MZ_TOLOWER}, which torch's zip lookups use).
     */
    public static String fold(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] chars = name.toCharArray();
                for (int j = i; j < chars.length; j++) {
                    if (chars[j] >= 'A' && chars[j] <= 'Z') {
                        chars[j] = (char) (chars[j] + ('a' - 'A'));
                    }
                }
                return new String(chars);
            }
        }
        return name;
    }

    /** The bytes the archive is read from. */
    public MemorySegment bytes() {
        return file;
    }

    /** The full name of a record, as error messages show it. */
    public String fullName(String name) {
        return root + name;
    }

    /** The bytes of a record (relative name, found ignoring ASCII case), or empty if there is no such record. */
    public Optional<MemorySegment> record(String name) throws CheckpointException {
        return record("", name);
    }

    /**
     * {@link #record(String) record(folder + name)}, without joining the two (a load asks for a record per storage).
     *
     * @param folder the start of the relative name, e.g. {@code "data/"}
     * @param name   the rest of it, e.g. a storage key
     */
    public Optional<MemorySegment> record(String folder, String name) throws CheckpointException {
        return Optional.ofNullable(recordOrNull(folder, name));
    }

    /**
     * {@link #record(String, String)}, or null if there is no such record: for the lookup of a storage's record,
     * which a load makes once per storage.
     *
     * @param folder the start of the relative name, e.g. {@code "data/"}
     * @param name   the rest of it, e.g. a storage key
     */
    public MemorySegment recordOrNull(String folder, String name) throws CheckpointException {
        int i = records.find(folder, name, false);
        if (i < 0) {
            return null;
        }
        // Flags and method were checked with the directory; the local header must repeat it, and the record must
        // end before the next one starts.
        long offset = checkedData != null ? checkedData.get(i) : 0;
        if (offset == 0) { // not checked by readLocalHeaders: checked here, through the bytes
            offset = ZipChecks.localHeader(file, records.localHeader(i), records.nameMemory(i), records.nameStart(i),
                    records.nameLength(i), records.flags(i), records.method(i), records.crc(i), records.compressed(i),
                    records.size(i), end(i), where.inRecord(fullName(folder + name)));
        }
        // The directory checked the method and a STORED record's sizes, the local header that the data lies
        // before the next record: what is left is reading it. The record's location (a new string) is made only
        // for a DEFLATED record: a load of many small tensors asks for a record per tensor.
        return records.method(i) == STORED ? file.asSlice(offset, records.size(i))
                : inflate(file.asSlice(offset, records.compressed(i)), records.size(i),
                        where.inRecord(fullName(folder + name)));
    }

    /**
     * Checks every record's local header and data descriptor, as {@link #record} does, but reading them with
     * positional reads of {@code channel} (which holds the archive's bytes from offset 0) instead of through the
     * mapping. {@link #record} then uses the data offsets found here. Why: a record's local header and data
     * descriptor are the only bytes of it a mapped load reads, and in a fresh mapping each one is the first touch
     * of its page, a page fault that takes the process's memory-map lock (about 6 us each here, and two threads
     * loading different files wait for each other's); a positional read of the same bytes costs less and takes no
     * such lock. The headers are read in file order, neighbouring ones (small records) in one read of up to
     * 64 KiB, distant ones (large records) in one small read each, which also covers the previous record's data
     * descriptor.
     *
     * <p>Nothing here refuses anything: a record whose header or descriptor fails a check here, or could not be
     * read, is left to {@link #record}, which checks it through the mapping and reports what is wrong exactly as
     * without this call (so records never asked for stay unchecked, as torch leaves them). The checks are the
     * same code on the same bytes: a positional read and the mapping show the same file. A file changed while it
     * is loaded can differ between the two, as it can between any two reads of a mapping (docs/SECURITY.md).
     *
     * @param channel the file whose bytes, from its offset 0, are this archive's (the file that was mapped)
     */
    public void readLocalHeaders(FileChannel channel) {
        long size = file.byteSize();
        int count = records.count();
        long[] order = fileOrder();
        if (order == null) {
            return;
        }
        LongPages found = new LongPages(count);
        try (Arena scratch = Arena.ofConfined()) {
            Window window = new Window(channel, size, scratch.allocate(Window.CAPACITY, 64));
            for (int k = 0; k < count; k++) {
                int i = recordAt(order, k);
                found.set(i, checkedInWindow(window, i, headerAt(order, k + 1), headerAt(order, k + 2)));
            }
        } catch (IOException | RuntimeException e) {
            // An unreadable channel (closed, interrupted) or a failed allocation: record() checks through the
            // mapping, as it would have without this call.
            return;
        }
        checkedData = found;
    }

    /** How many records {@link #readLocalHeaders} checked (for tests: the others are checked through the mapping). */
    int positionallyChecked() {
        int n = 0;
        for (int i = 0; checkedData != null && i < checkedData.length(); i++) {
            n += checkedData.get(i) != 0 ? 1 : 0;
        }
        return n;
    }

    // Records sorted by local header offset as (offset << INDEX_BITS) | index.
    private static final int INDEX_BITS = 24;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    // Header bytes read past the name, guessing the extra field's length: torch pads data to 64 bytes with it.
    private static final int EXTRA_GUESS = 256;

    // fileOrder's answer when the directory lists the records in file order, as torch.save writes them.
    private static final long[] DIRECTORY_ORDER = new long[0];

    /**
     * The directory indices in file order (see {@link #INDEX_BITS}): {@link #DIRECTORY_ORDER} if the directory
     * lists them so already (torch's archives: no array of a record count, which G1 would allocate as humongous
     * for 300,000 records), else a sorted array; null if they do not fit that form.
     */
    private long[] fileOrder() {
        int count = records.count();
        if (inFileOrder) {
            return DIRECTORY_ORDER;
        }
        if (count > INDEX_MASK || file.byteSize() >= 1L << (63 - INDEX_BITS)) {
            return null; // more than 16 million records or a file of more than 512 GiB: not worth the special case
        }
        long[] order = new long[count];
        for (int i = 0; i < count; i++) {
            order[i] = records.localHeader(i) << INDEX_BITS | i;
        }
        Arrays.sort(order);
        return order;
    }

    /** The directory index of the k-th record in file order ({@link #fileOrder}). */
    private static int recordAt(long[] order, int k) {
        return order == DIRECTORY_ORDER ? k : (int) (order[k] & INDEX_MASK);
    }

    /** The local header offset of the k-th record in file order, or -1 past the last. */
    private long headerAt(long[] order, int k) {
        return k < records.count() ? records.localHeader(recordAt(order, k)) : -1;
    }

    /**
     * Where record {@code i}'s data starts if its header and descriptor, read through the window, pass; else 0.
     * {@code nextHeader} and {@code afterNext} are the next two records' headers in file order (-1 past the last):
     * when they are near, a read covers them too.
     */
    private long checkedInWindow(Window window, int i, long nextHeader, long afterNext) throws IOException {
        long header = records.localHeader(i);
        long limit = end(i);
        int nameLength = records.nameLength(i);
        long want = header + LOCAL_HEADER_BYTES + nameLength + EXTRA_GUESS;
        MemorySegment bytes = window.covering(header, Math.min(want, limit),
                nextHeader >= 0 && nextHeader - header < Window.READ / 2 ? header + Window.READ : want);
        long base = window.start();
        if (bytes.byteSize() - (header - base) < LOCAL_HEADER_BYTES) {
            return 0;
        }
        long headerEnd = header + LOCAL_HEADER_BYTES + nameLength + u16(bytes, header - base + 28);
        if (headerEnd > base + bytes.byteSize()) {
            bytes = window.covering(header, Math.min(headerEnd, limit), headerEnd);
            base = window.start();
        }
        int flags = records.flags(i);
        long crc = records.crc(i);
        long compressed = records.compressed(i);
        long size = records.size(i);
        long data;
        try {
            data = base + ZipChecks.headerOnly(bytes, header - base, records.nameMemory(i), records.nameStart(i),
                    nameLength, flags, records.method(i), crc, compressed, size, limit - base, where);
            if (ZipChecks.hasDescriptor(flags)) {
                long at = data + compressed;
                // The next record's header usually follows the descriptor: read both at once, and the records
                // after it too when they are small.
                long ahead = afterNext >= 0 && afterNext - at < Window.READ / 2 ? at + Window.READ
                        : nextHeader >= at && nextHeader - at < Window.READ ? nextHeader + LOCAL_HEADER_BYTES
                        + EXTRA_GUESS + 64 : 0;
                bytes = window.covering(at, Math.min(at + 24, limit), ahead);
                base = window.start();
                ZipChecks.descriptor(bytes, at - base, crc, compressed, size, limit - base, where);
            }
        } catch (CheckpointException | IndexOutOfBoundsException e) {
            return 0; // record() checks it again through the mapping and reports it
        }
        return data;
    }

    /**
     * A buffer holding the file's bytes from {@link #start()} on, refilled by positional reads. A read covers
     * what is asked and, when the caller names more it will want soon (neighbouring headers), up to
     * {@link #READ} bytes.
     */
    private static final class Window {
        static final int READ = 64 << 10;
        // A local header is at most 30 + 65535 + 65535 bytes; one read must hold the largest.
        static final int CAPACITY = 160 << 10;

        private final FileChannel channel;
        private final long fileSize;
        private final MemorySegment buffer;
        private long start = -1;
        private long length;
        private MemorySegment filled;

        Window(FileChannel channel, long fileSize, MemorySegment buffer) {
            this.channel = channel;
            this.fileSize = fileSize;
            this.buffer = buffer;
        }

        long start() {
            return start;
        }

        /**
         * The buffer's bytes (from {@link #start()} on) holding {@code [from, to)} of the file, or as much of it as
         * the file has; {@code want} (0 for none) is where the caller would like the read to reach.
         */
        MemorySegment covering(long from, long to, long want) throws IOException {
            if (start >= 0 && from >= start && to <= start + length) {
                return filled;
            }
            long n = Math.max(to - from, Math.min(Math.max(want, to) - from, READ));
            n = Math.min(Math.min(n, CAPACITY), fileSize - from);
            start = from;
            length = 0;
            java.nio.ByteBuffer target = buffer.asSlice(0, Math.max(n, 0)).asByteBuffer();
            while (target.hasRemaining()) {
                int read = channel.read(target, from + target.position());
                if (read < 0) {
                    break;
                }
            }
            length = target.position();
            filled = buffer.asSlice(0, length);
            return filled;
        }
    }

    /**
     * Copies the STORED records whose names start with {@code folder} (relative to the root folder) into
     * memory of {@code arena}, and returns each copy, read-only, by relative name {@linkplain #fold folded}. Used by copying loads, so
     * that the copy costs what the hardware allows: fresh memory costs a page fault and zeroing per page, more
     * than the copy itself, and both are spread over the available cores (the common fork-join pool). Small
     * records are copied in groups of consecutive ones, one allocation per group (each record 64-byte aligned
     * in it); a record of 128 MiB or more is copied in parallel parts once its memory is allocated. A group
     * takes memory from {@code prefaulted} (made ahead while a stream was read) when it has some, else from
     * {@code arena}.
     *
     * <p>A record that fails its checks, and a DEFLATED one, is left out: {@link #record} reports it as it
     * always does (and inflates a DEFLATED record into memory of its own), so a copying load refuses exactly
     * what a mapped one does.
     */
    public Map<String, MemorySegment> copyStoredRecords(String folder, Arena arena, Prefaulted prefaulted) {
        List<String> copied = new ArrayList<>();
        List<MemorySegment> sources = new ArrayList<>();
        String foldedFolder = fold(folder);
        for (int i = 0; i < records.count(); i++) {
            if (records.method(i) != STORED) {
                continue;
            }
            String name = records.relativeName(i);
            if (!fold(name).startsWith(foldedFolder)) {
                continue;
            }
            MemorySegment source;
            try {
                source = record(name).orElseThrow();
            } catch (CheckpointException e) {
                continue; // record(name) throws again when the pickle asks for it
            }
            copied.add(name);
            sources.add(source);
        }
        /** Records {@code [first, end)} of {@code copied}, {@code bytes} in all with each one aligned. */
        record Group(int first, int end, long bytes) {
        }
        List<Group> groups = new ArrayList<>();
        int first = 0;
        long groupBytes = 0;
        for (int i = 0; i < copied.size(); i++) {
            groupBytes += alignedSize(sources.get(i).byteSize());
            if (groupBytes >= COPY_GROUP || i == copied.size() - 1) {
                groups.add(new Group(first, i + 1, groupBytes));
                first = i + 1;
                groupBytes = 0;
            }
        }
        MemorySegment[] copies = new MemorySegment[copied.size()];
        groups.parallelStream().forEach(group -> {
            // Memory made ahead while a stream was read, else allocated (and so faulted in and zeroed) by the thread
            // that copies into it.
            MemorySegment memory = prefaulted == null ? null : prefaulted.take(Math.max(group.bytes(), 1));
            if (memory == null) {
                memory = arena.allocate(Math.max(group.bytes(), 1), 64);
            }
            long at = 0;
            for (int i = group.first(); i < group.end(); i++) {
                MemorySegment source = sources.get(i);
                MemorySegment target = memory.asSlice(at, source.byteSize());
                copyInParts(source, target);
                copies[i] = target.asReadOnly();
                at += alignedSize(source.byteSize());
            }
        });
        Map<String, MemorySegment> byName = HashMap.newHashMap(copied.size());
        for (int i = 0; i < copies.length; i++) {
            byName.put(fold(copied.get(i)), copies[i]);
        }
        return byName;
    }

    // Small records share allocations of about this size; larger ones have one each. Allocations of a few
    // MiB are what the C allocator keeps and reuses after they are freed (larger ones it maps afresh each
    // time, and every fresh page costs a fault): measured on sd_1g.pt, 4 MiB groups copy in about 0.7 times
    // the time of 128 MiB ones.
    private static final long COPY_GROUP = 4L << 20;
    private static final long COPY_PART = 64L << 20;

    private static long alignedSize(long size) {
        return (size + 63) & ~63L;
    }

    /** One copy, in parts of 64 MiB spread over the cores when the record is large. */
    private static void copyInParts(MemorySegment source, MemorySegment target) {
        long size = source.byteSize();
        if (size <= 2 * COPY_PART) {
            MemorySegment.copy(source, 0, target, 0, size);
            return;
        }
        LongStream.range(0, (size + COPY_PART - 1) / COPY_PART).parallel().forEach(part -> {
            long from = part * COPY_PART;
            long n = Math.min(COPY_PART, size - from);
            MemorySegment.copy(source, from, target, from, n);
        });
    }

    /**
     * Inflates a DEFLATED record into exactly the size the directory declares. That size is checked first,
     * against {@link LoadLimits#maxInflatedBytes()} and against what this archive's records may inflate to in
     * all ({@link LoadLimits#maxInflationRatio()} times the file, plus 1 MiB), so nothing is allocated for a
     * bomb; and the inflater never produces a byte more than declared, so a lying size cannot make it run on.
     */
    private MemorySegment inflate(MemorySegment compressed, long declaredSize, Location at) throws CheckpointException {
        long max = limits.maxInflatedBytes();
        if (declaredSize > max) {
            throw at.limit("maxInflatedBytes", max, "a DEFLATED record of " + declaredSize + " bytes");
        }
        if (declaredSize > Integer.MAX_VALUE - 8) {
            throw at.limit("maxInflatedBytes", Integer.MAX_VALUE - 8, "a DEFLATED record of " + declaredSize
                    + " bytes, more than one Java array holds");
        }
        long ratio = limits.maxInflationRatio();
        long budget = (1L << 20) + (file.byteSize() > Long.MAX_VALUE / ratio ? Long.MAX_VALUE / 2
                : ratio * file.byteSize());
        long total = inflated.addAndGet(declaredSize);
        if (total > budget) {
            throw at.limit("maxInflationRatio", ratio, "DEFLATED records inflating to " + total + " bytes in all"
                    + " from a file of " + file.byteSize() + " bytes (a zip bomb)");
        }
        byte[] out = new byte[(int) declaredSize];
        Inflater inflater = new Inflater(true);
        try {
            byte[] input = new byte[(int) Math.min(1 << 16, Math.max(1, compressed.byteSize()))];
            long read = 0;
            int produced = 0;
            while (!inflater.finished()) {
                if (inflater.needsInput()) {
                    int n = (int) Math.min(input.length, compressed.byteSize() - read);
                    if (n == 0) {
                        throw at.malformed("DEFLATED record cannot be inflated: the compressed data ends early");
                    }
                    MemorySegment.copy(compressed, ValueLayout.JAVA_BYTE, read, input, 0, n);
                    read += n;
                    inflater.setInput(input, 0, n);
                }
                if (inflater.needsDictionary()) {
                    throw at.malformed("DEFLATED record cannot be inflated: it needs a preset dictionary");
                }
                if (produced == out.length) {
                    // Full: one more byte would be more than the directory declares.
                    if (inflater.inflate(new byte[1]) > 0) {
                        throw at.malformed("the DEFLATED record inflates to more than the " + declaredSize
                                + " bytes the directory declares");
                    }
                    continue;
                }
                produced += inflater.inflate(out, produced, out.length - produced);
            }
            if (produced != declaredSize) {
                throw at.malformed("DEFLATED record inflated to " + produced + " bytes, the directory says "
                        + declaredSize);
            }
            return MemorySegment.ofArray(out).asReadOnly();
        } catch (DataFormatException e) {
            throw at.malformed("DEFLATED record cannot be inflated: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }
}
