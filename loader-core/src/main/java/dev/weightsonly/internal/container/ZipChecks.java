package dev.weightsonly.internal.container;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.paged.LongPages;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The strict rules {@link ZipArchive} applies while reading an archive, each closing a way for two zip readers to
 * see different files in the same bytes, and each made once, in the order of the structures they read:
 * <ol>
 *   <li>the end of central directory record ({@link #endRecord}, {@link #directory}): exactly one, ending at the
 *       end of the file; a ZIP64 end record where the locator says; one disk; a directory that lies before the end
 *       record and can hold the entries counted;
 *   <li>each central directory entry ({@link #centralEntry}): present and inside the directory; a name that is a
 *       plain relative path ({@link #name}: no {@code ..}, {@code \}, leading {@code /}, drive letter, NUL or
 *       empty segment, strict UTF-8, within {@link LoadLimits#maxNameBytes()}); a first disk of 0 or 1; not a
 *       DOS directory; its ZIP64 values where its fields say; no encryption and no method but STORED and
 *       DEFLATED ({@link #flagsAndMethod}); a STORED record's sizes equal; its header, name and data before
 *       the directory;
 *   <li>the records' placement ({@link #limits}): sorted by local header, no two overlap;
 *   <li>each local header ({@link #localHeader}), when its record is read: it repeats the directory's name,
 *       flags, method, CRC and sizes (or a data descriptor after the data does), and the record ends before the
 *       next one starts.
 * </ol>
 * The data itself is checked as it is read ({@link ZipArchive}: a DEFLATED record inflates to exactly its
 * declared size, within the inflation limits). The set of names (one root folder, no name twice, not even in
 * another ASCII case) is {@link ZipArchive}'s, which builds the lookup.
 */
final class ZipChecks {

    static final int END_OF_CENTRAL_DIRECTORY = 0x06054B50;
    static final int END_BYTES = 22;
    static final int MAX_COMMENT = 0xFFFF;
    static final int ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064B50;
    static final int ZIP64_LOCATOR = 0x07064B50;
    static final int ZIP64_LOCATOR_BYTES = 20;
    static final int ZIP64_END_BYTES = 56;
    static final int CENTRAL_HEADER = 0x02014B50;
    static final int CENTRAL_HEADER_BYTES = 46;
    static final int LOCAL_HEADER = 0x04034B50;
    static final int LOCAL_HEADER_BYTES = 30;
    static final int DATA_DESCRIPTOR = 0x08074B50;
    static final int STORED = 0;
    static final int DEFLATED = 8;

    private static final int FLAG_ENCRYPTED = 0x1;
    private static final int FLAG_DATA_DESCRIPTOR = 0x8;
    private static final int FLAG_COMPRESSED_PATCHED_DATA = 0x20;
    private static final int FLAG_STRONG_ENCRYPTION = 0x40;
    // masked local header values (an encrypted central directory): miniz refuses the whole archive when it reads
    // the directory, whichever entry has it ("unsupported encryption")
    private static final int FLAG_LOCAL_HEADER_MASKED = 0x2000;
    static final long U32_MAX = 0xFFFF_FFFFL;

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ZipChecks() {
    }

    private static CheckpointException unreadable(Location where, String detail) {
        return where.malformed("PytorchStreamReader failed reading zip archive: " + detail);
    }

    /** {@link #unreadable}, for the structures whose failure most often means a cut file or not a zip at all. */
    static CheckpointException truncatedOrNotZip(Location where, String detail) {
        return unreadable(where, detail + " (the file is truncated or not a zip checkpoint)");
    }

    // ---------------------------------------------------------------------------------------------
    // The end of central directory record

    /**
     * The offset of the one end of central directory record whose comment ends exactly at the end of the
     * file. Bytes after it (a payload appended to the archive), a comment length that does not reach the end,
     * or a second record hidden in a comment are refused: each makes readers disagree on where the directory is.
     */
    static long endRecord(MemorySegment file, Location where) throws CheckpointException {
        long size = file.byteSize();
        long found = -1;
        long last = -1;
        // Every offset of the last 64 KiB is a candidate: one copy into an array and a byte compare per offset
        // costs a fraction of a bounds-checked 4-byte read of the file at each (a fixed cost of every load).
        long stop = Math.max(0, size - END_BYTES - MAX_COMMENT);
        byte[] tail = file.asSlice(stop, size - stop).toArray(ValueLayout.JAVA_BYTE);
        for (int i = tail.length - END_BYTES; i >= 0; i--) {
            if (tail[i] != 0x50 || tail[i + 1] != 0x4B || tail[i + 2] != 0x05 || tail[i + 3] != 0x06) {
                continue;
            }
            long at = stop + i;
            if (last < 0) {
                last = at;
            }
            if (at + END_BYTES + (file.get(U16, at + 20) & 0xFFFF) == size) {
                if (found >= 0) {
                    throw unreadable(where, "more than one end of central directory record ends at the end of the"
                            + " file (at offsets " + at + " and " + found + "; one hides in the other's comment)");
                }
                found = at;
            }
        }
        if (found >= 0) {
            return found;
        }
        if (last < 0) {
            throw unreadable(where, "Cannot find zip signature, or the end of central directory record (the file is"
                    + " truncated or not a zip checkpoint)");
        }
        long end = last + END_BYTES + (file.get(U16, last + 20) & 0xFFFF);
        throw unreadable(where, "no end of central directory record ends at the end of the file: the last one, at"
                + " offset " + last + ", ends at " + end + " of " + size + " bytes ("
                + (end < size ? (size - end) + " bytes follow the end of central directory record"
                : "its comment length reaches past the end of the file") + ")");
    }

    /** Where the central directory is and how many entries it holds, from the end record (or its ZIP64 form). */
    record Directory(long offset, long size, long entries) {
    }

    /** The central directory the one end record (and the ZIP64 end record it leads to, if any) describes. */
    static Directory directory(MemorySegment file, Location where) throws CheckpointException {
        long end = endRecord(file, where);
        int disk = u16(file, end + 4);
        int directoryDisk = u16(file, end + 6);
        long diskEntries = u16(file, end + 8);
        long entries = u16(file, end + 10);
        long size = u32(file, end + 12);
        long offset = u32(file, end + 16);
        long limit = end;
        long locator = end - ZIP64_LOCATOR_BYTES;
        if (locator >= 0 && file.get(U32, locator) == ZIP64_LOCATOR) {
            long zip64End = file.get(U64, locator + 8);
            if (zip64End < 0 || zip64End > locator - ZIP64_END_BYTES
                    || file.get(U32, zip64End) != ZIP64_END_OF_CENTRAL_DIRECTORY) {
                throw truncatedOrNotZip(where, "the ZIP64 end of central directory record is not at offset "
                        + Long.toUnsignedString(zip64End));
            }
            if (file.get(U32, locator + 16) != 1) {
                // miniz: the locator's total number of disks must be 1
                throw truncatedOrNotZip(where, "split (multi-disk) archives are not supported (the ZIP64 locator"
                        + " counts " + Integer.toUnsignedString(file.get(U32, locator + 16)) + " disks)");
            }
            disk = file.get(U32, zip64End + 16);
            directoryDisk = file.get(U32, zip64End + 20);
            diskEntries = file.get(U64, zip64End + 24);
            entries = file.get(U64, zip64End + 32);
            size = file.get(U64, zip64End + 40);
            offset = file.get(U64, zip64End + 48);
            limit = zip64End;
        }
        if (disk != 0 || directoryDisk != 0 || diskEntries != entries) {
            throw truncatedOrNotZip(where, "split (multi-disk) archives are not supported");
        }
        if (entries < 0 || size < 0 || offset < 0 || offset > limit || size != limit - offset) {
            throw truncatedOrNotZip(where, "the central directory (offset " + Long.toUnsignedString(offset) + ", "
                    + Long.toUnsignedString(size) + " bytes) lies outside the " + limit
                    + " bytes before the end record");
        }
        if (entries > size / CENTRAL_HEADER_BYTES) {
            throw truncatedOrNotZip(where, "a central directory of " + size + " bytes cannot hold " + entries
                    + " entries");
        }
        if (entries == 0) {
            throw truncatedOrNotZip(where, "Central directory is empty, can't expand corrupt archive.");
        }
        return new Directory(offset, size, entries);
    }

    // ---------------------------------------------------------------------------------------------
    // A central directory entry

    /**
     * The fields of the central directory entry at {@code at} as they are stored, nothing checked: the strict
     * reader checks them ({@link #centralEntry}), the scanner's walk of an archive a load refuses reads them as
     * they are ({@link ZipArchive#forEachStoredRecordOfAnyArchive}).
     */
    record RawEntry(long at, int flags, int method, long crc, long compressed, long size, int nameLength,
            int extraLength, int commentLength, int disk, long externalAttributes, long localHeader) {

        /** Reads the entry at {@code at}, whose fixed part must lie inside {@code file}. */
        static RawEntry read(MemorySegment file, long at) {
            return new RawEntry(at, u16(file, at + 8), u16(file, at + 10), u32(file, at + 16), u32(file, at + 20),
                    u32(file, at + 24), u16(file, at + 28), u16(file, at + 30), u16(file, at + 32),
                    u16(file, at + 34), u32(file, at + 38), u32(file, at + 42));
        }

        long nameOffset() {
            return at + CENTRAL_HEADER_BYTES;
        }

        /** Where the next entry starts. */
        long next() {
            return at + CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
        }
    }

    /**
     * Reads and checks entry {@code index} of {@code count}, at {@code at} in a directory that ends at
     * {@code end} and starts at {@code directoryStart}, and records its values, with the ZIP64 values in place of
     * their 32-bit markers, as record {@code index} of {@code into}. Its name is left in {@code name} (at least
     * {@code min(limits.maxNameBytes(), 65535)} bytes long); no string of it is made unless a message needs one.
     *
     * @return where the next entry starts
     */
    static long centralEntry(MemorySegment file, long at, long end, int index, int count, long directoryStart,
            LoadLimits limits, Location where, RecordTable into, byte[] name) throws CheckpointException {
        if (end - at < CENTRAL_HEADER_BYTES || file.get(U32, at) != CENTRAL_HEADER) {
            throw truncatedOrNotZip(where, "central directory entry " + index + " of " + count + " at offset " + at
                    + " is missing or truncated");
        }
        RawEntry raw = RawEntry.read(file, at);
        if (raw.next() > end) {
            throw truncatedOrNotZip(where, "central directory entry " + index + " at offset " + at
                    + " reaches past the end of the directory");
        }
        checkName(file, raw.nameOffset(), raw.nameLength(), limits, where, name);
        int nameLength = raw.nameLength();
        // miniz, torch's zip reader, refuses a record that starts on any disk but 0 or 1 (0xFFFF included).
        if (raw.disk() != 0 && raw.disk() != 1) {
            throw truncatedOrNotZip(where, "record '" + text(name, nameLength) + "' starts on disk " + raw.disk()
                    + ": split (multi-disk) archives are not supported");
        }
        // miniz takes a record with the DOS directory attribute for a folder and extracts nothing for it:
        // torch then reads the uninitialised buffer it allocated instead of the record's bytes.
        if ((raw.externalAttributes() & 0x10) != 0) {
            throw where.inRecord(text(name, nameLength)).malformed("the record is marked as a directory (DOS attribute 0x10);"
                    + " torch would read no bytes for it");
        }
        long compressed = raw.compressed();
        long size = raw.size();
        long localHeader = raw.localHeader();
        if (compressed == U32_MAX || size == U32_MAX || localHeader == U32_MAX) {
            long[] wide = zip64Extra(file, raw.nameOffset() + raw.nameLength(), raw.extraLength(), size == U32_MAX,
                    compressed == U32_MAX, localHeader == U32_MAX, text(name, nameLength), where);
            size = wide[0] >= 0 ? wide[0] : size;
            compressed = wide[1] >= 0 ? wide[1] : compressed;
            localHeader = wide[2] >= 0 ? wide[2] : localHeader;
        }
        flagsAndMethod(raw.flags(), raw.method(), where, name, nameLength);
        if (raw.method() == STORED && size != compressed) {
            throw where.inRecord(text(name, nameLength)).malformed("STORED record claims " + size + " bytes but occupies "
                    + compressed);
        }
        // miniz refuses the archive when it reads the directory ("invalid header or archive is corrupted"), unless
        // the size is the ZIP64 marker
        if (raw.size() != 0 && raw.size() != U32_MAX && raw.compressed() == 0) {
            throw where.inRecord(text(name, nameLength)).malformed("a DEFLATED record of " + size + " bytes is compressed into 0 bytes");
        }
        // The header, the name and the stored bytes, at least, lie before the directory.
        long minEnd = localHeader > directoryStart ? -1 : localHeader + LOCAL_HEADER_BYTES + raw.nameLength();
        if (minEnd < 0 || minEnd > directoryStart || compressed > directoryStart - minEnd) {
            throw where.inRecord(text(name, nameLength)).malformed("record data (local header at offset " + localHeader + ", "
                    + compressed + " bytes) lies outside the " + directoryStart
                    + " bytes before the central directory");
        }
        into.set(index, raw.flags(), raw.method(), raw.crc(), compressed, size, localHeader, name, nameLength);
        return raw.next();
    }

    /**
     * The ZIP64 values of a directory entry, in the order the format stores them: uncompressed size,
     * compressed size, local header offset, each present only when its 32-bit field is all ones. Missing
     * values are -1.
     */
    private static long[] zip64Extra(MemorySegment file, long at, int length, boolean wantSize,
            boolean wantCompressed, boolean wantOffset, String name, Location where) throws CheckpointException {
        long[] extra = zip64Field(file, at, length);
        if (extra == null) {
            throw truncatedOrNotZip(where, "record '" + name + "' needs a ZIP64 extra field, which is missing");
        }
        long[] values = {-1, -1, -1};
        boolean[] wanted = {wantSize, wantCompressed, wantOffset};
        long field = extra[0];
        for (int i = 0; i < 3; i++) {
            if (!wanted[i]) {
                continue;
            }
            if (extra[0] + extra[1] - field < 8) {
                throw truncatedOrNotZip(where, "the ZIP64 extra field of '" + name + "' is too short");
            }
            values[i] = file.get(U64, field);
            if (values[i] < 0) {
                throw truncatedOrNotZip(where, "the ZIP64 extra field of '" + name
                        + "' holds a size or offset past 2^63");
            }
            field += 8;
        }
        return values;
    }

    /** The name of a directory entry: checked against the limit, strictly decoded, and a plain relative path. */
    static String name(MemorySegment file, long at, int length, LoadLimits limits, Location where)
            throws CheckpointException {
        return name(nameBytes(file, at, length, limits, where), where);
    }

    /** The bytes of a directory entry's name, checked against the limit. */
    static byte[] nameBytes(MemorySegment file, long at, int length, LoadLimits limits, Location where)
            throws CheckpointException {
        if (length > limits.maxNameBytes()) {
            throw where.limit("maxNameBytes", limits.maxNameBytes(), "a record name of " + length + " bytes");
        }
        byte[] raw = new byte[length];
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, at, raw, 0, length);
        return raw;
    }

    /**
     * The checks of {@link #name(MemorySegment, long, int, LoadLimits, Location)}, leaving the name's bytes in
     * {@code into} (at least {@code min(limits.maxNameBytes(), 65535)} long) rather than in a new string: an
     * archive of 300,000 records checks 300,000 names per load, and keeps none of them as strings.
     */
    static void checkName(MemorySegment file, long at, int length, LoadLimits limits, Location where, byte[] into)
            throws CheckpointException {
        if (length > limits.maxNameBytes()) {
            throw where.limit("maxNameBytes", limits.maxNameBytes(), "a record name of " + length + " bytes");
        }
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, at, into, 0, length);
        if (!isPlainAscii(into, length)) {
            name(Arrays.copyOf(into, length), where); // the full checks, which word the message
        }
    }

    /** A checked name ({@link #checkName}) as a string, for a message. */
    static String text(byte[] name, int length) {
        return text(name, 0, length);
    }

    /** {@link #text(byte[], int)} of {@code name[from, from + length)}. */
    static String text(byte[] name, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (name[i] < 0) {
                return new String(name, from, length, StandardCharsets.UTF_8);
            }
        }
        return new String(name, from, length, StandardCharsets.ISO_8859_1);
    }

    /** {@link #name(MemorySegment, long, int, LoadLimits, Location)} of bytes already read. */
    static String name(byte[] raw, Location where) throws CheckpointException {
        if (isPlainAscii(raw, raw.length)) {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
        String name = decodeName(raw, where);
        String problem = nameProblem(name);
        if (problem != null) {
            throw where.malformed("illegal record name " + display(name) + ": " + problem
                    + " (records are found by exact name; a name that could mean another path is refused)");
        }
        return name;
    }

    private static String decodeName(byte[] raw, Location where) throws CheckpointException {
        if (isAscii(raw, raw.length)) {
            // What torch writes; an archive of 300,000 records decodes each name once, without a decoder.
            return new String(raw, StandardCharsets.US_ASCII);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw where.malformed("record name " + display(new String(raw, StandardCharsets.ISO_8859_1))
                    + " is not valid UTF-8");
        }
    }

    /**
     * Whether the name is ASCII and nothing {@link #nameProblem} refuses, checked on the bytes in one pass (what
     * torch writes; an archive of 300,000 records checks 300,000 names per load). For ASCII, bytes and chars are
     * one to one, so this is exactly "ASCII and no problem"; any other name takes the full checks, which also word
     * the message.
     */
    static boolean isPlainAscii(byte[] raw, int n) {
        if (n == 0 || raw[0] == '/' || n >= 2 && raw[1] == ':' && isAsciiLetter(raw[0])) {
            return false;
        }
        int segment = 0;
        for (int i = 0; i < n; i++) {
            byte b = raw[i];
            if (b == '/') {
                if (!plainSegment(raw, segment, i) || i == segment) {
                    return false; // a '.' or '..' segment, or an empty one before a slash
                }
                segment = i + 1;
            } else if (b < 0x20 || b == 0x7F || b == '\\') { // b < 0: not ASCII
                return false;
            }
        }
        return plainSegment(raw, segment, n);
    }

    private static boolean isAsciiLetter(byte b) {
        return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z';
    }

    /** Whether {@code raw[from, to)} is not a '.' or '..' segment. */
    private static boolean plainSegment(byte[] raw, int from, int to) {
        int length = to - from;
        return !(length > 0 && length <= 2 && raw[from] == '.' && raw[to - 1] == '.');
    }

    private static boolean isAscii(byte[] raw, int n) {
        for (int i = 0; i < n; i++) {
            if (raw[i] < 0) {
                return false;
            }
        }
        return true;
    }

    private static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "empty";
        }
        if (name.startsWith("/")) {
            return "an absolute path";
        }
        if (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
            return "a drive letter";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '\\') {
                return "a backslash";
            }
            if (c < 0x20 || c == 0x7F) {
                return "a control character";
            }
        }
        // Segment by segment without splitting: an archive of 300,000 records checks 300,000 names per load.
        for (int start = 0; ; ) {
            int slash = name.indexOf('/', start);
            int end = slash < 0 ? name.length() : slash;
            int length = end - start;
            if (length > 0 && length <= 2 && name.charAt(start) == '.' && name.charAt(end - 1) == '.') {
                return "a '" + name.substring(start, end) + "' segment";
            }
            if (length == 0 && slash >= 0) {
                return "an empty segment";
            }
            if (slash < 0) {
                return null;
            }
            start = slash + 1;
        }
    }

    /** A name for a message: quoted, control characters escaped, bounded. */
    static String display(String name) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < name.length() && sb.length() < 200; i++) {
            char c = name.charAt(i);
            if (c == 0) {
                sb.append("\\0");
            } else if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append(sb.length() >= 200 ? "...'" : "'").toString();
    }

    /**
     * Encryption, patch data and compression methods other than STORED (0) and DEFLATED (8) are refused up front.
     * {@code name[0, nameLength)} is the record's full name (its string and location are made only for a message).
     */
    static void flagsAndMethod(int flags, int method, Location where, byte[] name, int nameLength)
            throws CheckpointException {
        if ((flags & (FLAG_ENCRYPTED | FLAG_COMPRESSED_PATCHED_DATA | FLAG_STRONG_ENCRYPTION
                | FLAG_LOCAL_HEADER_MASKED)) == 0 && (method == STORED || method == DEFLATED)) {
            return;
        }
        flagsAndMethod(flags, method, where.inRecord(text(name, nameLength)));
    }

    private static void flagsAndMethod(int flags, int method, Location at) throws CheckpointException {
        if ((flags & FLAG_ENCRYPTED) != 0) {
            throw at.unsupported("the record is encrypted");
        }
        // miniz, torch's zip reader, refuses these bits too ("Encryption and patch files are not supported").
        int refused = flags & (FLAG_COMPRESSED_PATCHED_DATA | FLAG_STRONG_ENCRYPTION | FLAG_LOCAL_HEADER_MASKED);
        if (refused != 0) {
            throw at.unsupported(String.format("the record has general-purpose flag 0x%x (%s), which zip"
                    + " checkpoints never use", refused,
                    (refused & FLAG_STRONG_ENCRYPTION) != 0 ? "strong encryption"
                            : (refused & FLAG_LOCAL_HEADER_MASKED) != 0 ? "masked local header values, an encrypted"
                            + " central directory" : "compressed patched data"));
        }
        if (method != STORED && method != DEFLATED) {
            throw at.unsupported("compression method " + method + " (torch writes STORED records; DEFLATED is read"
                    + " too)");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The records' placement

    /**
     * Whether the local header offsets strictly ascend in directory order, as {@code torch.save} writes them: then
     * each record ends by the next one's header (or the directory's start), with no table or search.
     *
     * @param headers the local header offsets, in directory order
     * @return true if every offset is larger than the one before
     */
    static boolean inFileOrder(LongPages headers) {
        for (int i = 1; i < headers.length(); i++) {
            if (headers.get(i - 1) >= headers.get(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Where each record may end: records sorted by local header offset must not overlap (a zip bomb counts one
     * payload many times; a record hidden inside another's data is a second file in the same bytes). The
     * directory gives a lower bound of each record's end (header, directory name, compressed size); the exact
     * end is checked against the limit when the record's local header is read.
     *
     * @param headers     the local header offsets, in directory order
     * @param minEnds     the least offset each record can end at, in directory order
     * @param names       the full name of each record (by directory index), made only for a message
     * @param inFileOrder what {@link #inFileOrder} says of {@code headers}
     * @return null if {@code inFileOrder} (each record ends by the next one's header, or the directory's start
     *     for the last: nothing to keep); else for each record, in directory order, the offset its bytes must end
     *     by, the header that follows it in file order or the directory's start
     * @throws CheckpointException if a record's least end passes its limit
     */
    static LongPages limits(LongPages headers, LongPages minEnds, IntFunction<String> names, long directoryStart,
            boolean inFileOrder, Location where) throws CheckpointException {
        int n = headers.length();
        long[] sorted = null; // only for an archive not in file order (not torch's): then a plain array
        LongPages limits = null;
        if (!inFileOrder) {
            sorted = new long[n];
            for (int i = 0; i < n; i++) {
                sorted[i] = headers.get(i);
            }
            Arrays.sort(sorted);
            limits = new LongPages(n);
        }
        for (int i = 0; i < n; i++) {
            long header = headers.get(i);
            long next;
            if (inFileOrder) {
                next = i + 1 < n ? headers.get(i + 1) : directoryStart;
            } else {
                int k = Arrays.binarySearch(sorted, header);
                next = k + 1 < n ? sorted[k + 1] : directoryStart;
                if (k > 0 && sorted[k - 1] == header) {
                    next = header; // another record starts at the same offset
                }
            }
            if (minEnds.get(i) > next) {
                throw where.malformed("record " + display(names.apply(i)) + " (local header at offset " + header
                        + ", at least " + (minEnds.get(i) - header) + " bytes) overlaps " + owner(headers, names, next,
                        i, directoryStart) + "; records must not share bytes");
            }
            if (limits != null) {
                limits.set(i, next);
            }
        }
        return limits;
    }

    /** What starts at {@code offset}, for a message: another record, or the central directory. */
    private static String owner(LongPages headers, IntFunction<String> names, long offset, int not,
            long directoryStart) {
        for (int k = 0; k < headers.length(); k++) {
            if (k != not && headers.get(k) == offset) {
                return "record " + display(names.apply(k)) + " at offset " + offset;
            }
        }
        return offset == directoryStart ? "the central directory at offset " + offset : "offset " + offset;
    }

    // ---------------------------------------------------------------------------------------------
    // A local header and its data descriptor

    /**
     * Checks a record's local header against its directory entry and returns where its data starts. The
     * name, flags and method must be the directory's; without a data descriptor so must the CRC and sizes
     * (ZIP64 sizes from the local extra field), with one they may be zero and the descriptor after the data
     * must repeat the directory's values. The record, descriptor included, must end by {@code limit}. The
     * directory's name is {@code names[nameAt, nameAt + name)} (where {@link RecordTable} keeps it).
     */
    static long localHeader(MemorySegment file, long header, MemorySegment names, long nameAt, int name, int flags,
            int method, long crc, long compressed, long size, long limit, Location at) throws CheckpointException {
        long data = headerOnly(file, header, names, nameAt, name, flags, method, crc, compressed, size, limit, at);
        if (hasDescriptor(flags)) {
            descriptor(file, data + compressed, crc, compressed, size, limit, at);
        }
        return data;
    }

    /** Whether a record's flags say a data descriptor follows its data. */
    static boolean hasDescriptor(int flags) {
        return (flags & FLAG_DATA_DESCRIPTOR) != 0;
    }

    /**
     * The checks of {@link #localHeader} but the data descriptor's, which {@link #descriptor} makes. Every read is
     * at an offset relative to {@code header} or {@code limit}, so the same checks hold on a window of the file
     * ({@code file} a copy of the bytes from some offset on, with {@code header} and {@code limit} moved by it),
     * except that a window shorter than the file can fail where the file would not (never the other way).
     */
    static long headerOnly(MemorySegment file, long header, MemorySegment names, long nameAt, int name, int flags,
            int method, long crc, long compressed, long size, long limit, Location at) throws CheckpointException {
        if (header > file.byteSize() - LOCAL_HEADER_BYTES || file.get(U32, header) != LOCAL_HEADER) {
            throw at.malformed("no local file header at offset " + header + ", where the central directory puts it");
        }
        int localFlags = u16(file, header + 6);
        int localMethod = u16(file, header + 8);
        long localCrc = u32(file, header + 14);
        long localCompressed = u32(file, header + 18);
        long localSize = u32(file, header + 22);
        int nameLength = u16(file, header + 26);
        int extraLength = u16(file, header + 28);
        long data = header + LOCAL_HEADER_BYTES + nameLength + extraLength;
        if (data > limit) {
            throw at.malformed("the local header at offset " + header + " (" + nameLength + " bytes of name, "
                    + extraLength + " of extra field) reaches past offset " + limit
                    + ", where the next record or the central directory starts (records overlap)");
        }
        if (nameLength != name
                || MemorySegment.mismatch(file, header + LOCAL_HEADER_BYTES, header + LOCAL_HEADER_BYTES + nameLength,
                        names, nameAt, nameAt + nameLength) != -1) {
            throw at.malformed("the local header at offset " + header + " names another record than the central"
                    + " directory does");
        }
        if (localFlags != flags || localMethod != method) {
            throw at.malformed(String.format("the local header says flags 0x%x, method %d; the central directory"
                    + " says flags 0x%x, method %d", localFlags, localMethod, flags, method));
        }
        if (localCompressed == U32_MAX || localSize == U32_MAX) {
            long[] wide = zip64(file, header + LOCAL_HEADER_BYTES + nameLength, extraLength);
            if (wide == null) {
                throw at.malformed("the local header needs a ZIP64 extra field, which is missing");
            }
            localSize = localSize == U32_MAX ? wide[0] : localSize;
            localCompressed = localCompressed == U32_MAX ? wide[1] : localCompressed;
        }
        boolean descriptor = (flags & FLAG_DATA_DESCRIPTOR) != 0;
        boolean agrees = localCrc == crc && localCompressed == compressed && localSize == size;
        boolean deferred = descriptor && localCrc == 0 && localCompressed == 0 && localSize == 0;
        if (!agrees && !deferred) {
            throw at.malformed("the local header says CRC " + Long.toHexString(localCrc) + ", " + localCompressed
                    + " bytes stored, " + localSize + " bytes; the central directory says CRC " + Long.toHexString(crc)
                    + ", " + compressed + " stored, " + size);
        }
        if (compressed > limit - data) {
            throw at.malformed("the record's " + compressed + " bytes from offset " + data + " reach past offset "
                    + limit + ", where the next record or the central directory starts (records overlap)");
        }
        return data;
    }

    /**
     * Checks the data descriptor at {@code at} (signature optional, 32- or 64-bit sizes); returns its end. Reads
     * only {@code [at, min(at + 24, limit))}, at offsets relative to {@code at} and {@code limit} (so a window of
     * the file works too, as for {@link #headerOnly}).
     */
    static long descriptor(MemorySegment file, long at, long crc, long compressed, long size, long limit,
            Location where) throws CheckpointException {
        long p = at;
        if (limit - p >= 4 && file.get(U32, p) == DATA_DESCRIPTOR) {
            p += 4;
        }
        if (limit - p >= 12 && u32(file, p) == crc && u32(file, p + 4) == compressed && u32(file, p + 8) == size) {
            return p + 12;
        }
        if (limit - p >= 20 && u32(file, p) == crc && file.get(U64, p + 4) == compressed
                && file.get(U64, p + 12) == size) {
            return p + 20;
        }
        throw where.malformed("the data descriptor at offset " + at + " does not repeat the central directory's CRC"
                + " and sizes, or reaches past offset " + limit);
    }

    // ---------------------------------------------------------------------------------------------
    // Fields shared by the structures

    /** Uncompressed and compressed size from a local header's ZIP64 extra field, or null if there is none. */
    private static long[] zip64(MemorySegment file, long at, int length) {
        long[] field = zip64Field(file, at, length);
        if (field == null || field[1] < 16) {
            return null;
        }
        return new long[] {file.get(U64, field[0]), file.get(U64, field[0] + 8)};
    }

    /**
     * The ZIP64 extended-information field (id 1) among the extra fields at {@code [at, at + length)}: its
     * data's offset and size, or null if there is none (or a field before it reaches past the end).
     */
    static long[] zip64Field(MemorySegment file, long at, int length) {
        long end = at + length;
        while (end - at >= 4) {
            int id = u16(file, at);
            int size = u16(file, at + 2);
            long data = at + 4;
            if (size > end - data) {
                return null;
            }
            if (id == 0x0001) {
                return new long[] {data, size};
            }
            at = data + size;
        }
        return null;
    }

    static int u16(MemorySegment file, long at) {
        return file.get(U16, at) & 0xFFFF;
    }

    static long u32(MemorySegment file, long at) {
        return file.get(U32, at) & U32_MAX;
    }
}
