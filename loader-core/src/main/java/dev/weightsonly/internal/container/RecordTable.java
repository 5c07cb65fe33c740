package dev.weightsonly.internal.container;

import dev.weightsonly.internal.paged.IntPages;
import dev.weightsonly.internal.paged.LongPages;
import java.lang.foreign.MemorySegment;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * What {@link ZipArchive} keeps of its central directory, in directory order: per record the values the
 * directory gives (flags, method, CRC, sizes, local header offset) in primitive arrays, the bytes of the names
 * copied into a few large arrays, and an index of the names that compares those bytes in place.
 *
 * <p>Why arrays and bytes rather than an object, a name string and a map node per record: an optimizer state
 * of 300,000 tensors is an archive of 300,000 records, and its directory is live for the whole load; as objects
 * it was about a million of them, which the garbage collector copies from region to region while the load
 * builds its tensors (a third of such a load's time with the default collector). As arrays it is a dozen.
 * Strings of names are made only where an API hands them out ({@link #relativeName}) or a message needs one.
 *
 * <p>Names compare as torch's lookups do (miniz's {@code mz_zip_reader_locate_file}): ASCII letters without
 * regard to case, every other byte exactly ({@link ZipArchive#fold}). The directory's names are strict UTF-8
 * ({@link ZipChecks#name}), so two names are equal strings exactly when their bytes are equal, and fold to
 * equal strings exactly when their bytes are equal but for the case of ASCII letters (the bytes of a
 * character past ASCII are all 0x80 or more). A name to look up is compared through its UTF-8 bytes, a string
 * that is not well-formed UTF-16 (a lone surrogate) matching nothing, as no name of the directory is one.
 */
final class RecordTable {

    // Names are kept in chunks of this size (a name, at most 65,535 bytes, never spans two): heap arrays, as
    // comparing bytes of an array costs a fraction of reading them one at a time from the mapping (a lookup per
    // tensor compared in the mapping took twice the time of the map of strings it replaces).
    // 256 KiB: under half of G1's smallest region, so never a humongous array (dev.weightsonly.internal.paged).
    private static final int CHUNK_BITS = 18;
    private static final int CHUNK = 1 << CHUNK_BITS;

    // Paged (dev.weightsonly.internal.paged): 300,000 records would make each of them an array G1 allocates as
    // humongous, and a load of such an archive a dozen of them.
    private final IntPages flagsAndMethod; // flags << 16 | method, both 16-bit fields
    private final IntPages crc;
    private final LongPages compressed;
    private final LongPages size;
    private final LongPages localHeader;
    private final IntPages nameLength;
    // Where each full name is in the chunks: chunk index << CHUNK_BITS | offset in it.
    private final LongPages nameAt;
    private byte[][] chunks;
    private MemorySegment[] chunkMemory; // each chunk as a segment, for MemorySegment.mismatch
    private int chunkCount;
    private int chunkUsed;
    // Name index: open addressing with linear probing over a power-of-two table of record index + 1 (0 empty),
    // hashed over the relative name's folded bytes; the hash of each record is kept to skip most compares.
    private final IntPages hashes;
    // FNV-1a's offset basis, drawn once per process: with the public basis a file could hold a million names in
    // one probe cluster (the index needs only the low bits to agree) and make opening it quadratic; a secret
    // basis leaves nothing to aim at (no hash reaches an output), as PyHash's secret does for dicts.
    private static final int BASIS = 0x811C9DC5 ^ new SecureRandom().nextInt();
    private final IntPages slots;
    // Bytes of the root folder (with its slash) at the start of every name: lookups take names relative to it.
    private int rootLength;
    // torch.save names its storages' records data/0, data/1, ...: the record of data/N (exactly those bytes, N in
    // canonical decimal below the record count) plus one, at N, or 0. A load asks for one such record per storage;
    // this answers without hashing the name or probing the index. Made when the first such record is indexed.
    private IntPages dataNumbered;
    private static final String DATA = "data/";

    /** A table of {@code count} records from a directory of {@code directoryBytes} bytes (which bound its names). */
    RecordTable(int count, long directoryBytes) {
        flagsAndMethod = new IntPages(count);
        crc = new IntPages(count);
        compressed = new LongPages(count);
        size = new LongPages(count);
        localHeader = new LongPages(count);
        nameLength = new IntPages(count);
        nameAt = new LongPages(count);
        chunks = new byte[][] {new byte[(int) Math.min(CHUNK, directoryBytes)]};
        chunkMemory = new MemorySegment[] {MemorySegment.ofArray(chunks[0])};
        chunkCount = 1;
        hashes = new IntPages(count);
        slots = new IntPages(Integer.highestOneBit(Math.max(1, count)) << 2); // at most half full
    }

    /** Records the directory's values of record {@code i} and its full name, {@code name[0, nameLength)}. */
    void set(int i, int flags, int method, long crc, long compressed, long size, long localHeader, byte[] name,
            int nameLength) {
        flagsAndMethod.set(i, flags << 16 | method);
        this.crc.set(i, (int) crc);
        this.compressed.set(i, compressed);
        this.size.set(i, size);
        this.localHeader.set(i, localHeader);
        this.nameLength.set(i, nameLength);
        if (nameLength > chunks[chunkCount - 1].length - chunkUsed) {
            if (chunkCount == chunks.length) {
                chunks = Arrays.copyOf(chunks, 2 * chunkCount);
                chunkMemory = Arrays.copyOf(chunkMemory, 2 * chunkCount);
            }
            chunks[chunkCount] = new byte[CHUNK];
            chunkMemory[chunkCount] = MemorySegment.ofArray(chunks[chunkCount]);
            chunkCount++;
            chunkUsed = 0;
        }
        System.arraycopy(name, 0, chunks[chunkCount - 1], chunkUsed, nameLength);
        nameAt.set(i, (long) (chunkCount - 1) << CHUNK_BITS | chunkUsed);
        chunkUsed += nameLength;
    }

    int count() {
        return hashes.length();
    }

    int flags(int i) {
        return flagsAndMethod.get(i) >>> 16;
    }

    int method(int i) {
        return flagsAndMethod.get(i) & 0xFFFF;
    }

    long crc(int i) {
        return crc.get(i) & ZipChecks.U32_MAX;
    }

    long compressed(int i) {
        return compressed.get(i);
    }

    long size(int i) {
        return size.get(i);
    }

    long localHeader(int i) {
        return localHeader.get(i);
    }

    /** The local header offsets in directory order (the table's own pages: not to be changed). */
    LongPages localHeaders() {
        return localHeader;
    }

    int nameLength(int i) {
        return nameLength.get(i);
    }

    private byte[] chunk(int i) {
        return chunks[(int) (nameAt.get(i) >>> CHUNK_BITS)];
    }

    private int start(int i) {
        return (int) nameAt.get(i) & (CHUNK - 1);
    }

    /** The memory that holds record {@code i}'s full name, as the directory gives it, from {@link #nameStart}. */
    MemorySegment nameMemory(int i) {
        return chunkMemory[(int) (nameAt.get(i) >>> CHUNK_BITS)];
    }

    /** Where in {@link #nameMemory} record {@code i}'s name starts (it is {@link #nameLength} bytes long). */
    int nameStart(int i) {
        return start(i);
    }

    /** Sets the length of the root folder's name (slash included), before the first {@link #index}. */
    void rootLength(int length) {
        rootLength = length;
    }

    /** Record {@code i}'s full name (checked strict UTF-8 by the directory's reading). */
    String fullName(int i) {
        return ZipChecks.text(chunk(i), start(i), nameLength.get(i));
    }

    /** Record {@code i}'s name relative to the root folder. */
    String relativeName(int i) {
        return ZipChecks.text(chunk(i), start(i) + rootLength, nameLength.get(i) - rootLength);
    }

    /**
     * Adds record {@code i}, whose name starts with the root folder, to the name index, unless an earlier
     * record's relative name folds to the same: then returns that record (and adds nothing), else -1.
     */
    int index(int i) {
        byte[] chunk = chunk(i);
        int from = start(i) + rootLength;
        int n = nameLength.get(i) - rootLength;
        int hash = BASIS;
        for (int k = 0; k < n; k++) {
            hash = step(hash, chunk[from + k]);
        }
        hash = finish(hash);
        hashes.set(i, hash);
        int mask = slots.length() - 1;
        for (int s = hash & mask; ; s = (s + 1) & mask) {
            int j = slots.get(s) - 1;
            if (j < 0) {
                slots.set(s, i + 1);
                int number = dataNumber(chunk, from, n);
                if (number >= 0) {
                    if (dataNumbered == null) {
                        dataNumbered = new IntPages(hashes.length());
                    }
                    dataNumbered.set(number, i + 1);
                }
                return -1;
            }
            if (hashes.get(j) == hash && nameLength.get(j) == nameLength.get(i) && sameFolded(j, chunk, from, n)) {
                return j;
            }
        }
    }

    private boolean sameFolded(int j, byte[] name, int from, int n) {
        byte[] chunk = chunk(j);
        int at = start(j) + rootLength;
        for (int k = 0; k < n; k++) {
            if (fold(chunk[at + k]) != fold(name[from + k])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The record whose relative name folds to what {@code folder + name} folds to, or -1; with {@code exactly},
     * only a record whose relative name is {@code folder + name} itself, case included. The two parts are
     * compared in turn, not joined (a load asks for {@code "data/" + key} once per storage).
     */
    int find(String folder, String name, boolean exactly) {
        if (dataNumbered != null && DATA.equals(folder)) {
            int number = StorageNumber.of(name, hashes.length());
            if (number >= 0 && dataNumbered.get(number) > 0) {
                return dataNumbered.get(number) - 1; // these very bytes: the answer whether or not case may differ
            }
        }
        String first = folder;
        String second = name;
        if (!isAscii(folder) || !isAscii(name)) {
            // Past ASCII: the UTF-8 bytes of the whole (a part alone may end inside a surrogate pair).
            String whole = asBytes(folder + name);
            if (whole == null) {
                return -1;
            }
            first = "";
            second = whole;
        }
        int n = first.length() + second.length();
        int hash = finish(hash(second, hash(first, BASIS)));
        int mask = slots.length() - 1;
        for (int s = hash & mask; ; s = (s + 1) & mask) {
            int j = slots.get(s) - 1;
            if (j < 0) {
                return -1;
            }
            if (hashes.get(j) == hash && nameLength.get(j) - rootLength == n) {
                byte[] chunk = chunk(j);
                int at = start(j) + rootLength;
                int same = compare(chunk, at, first, compare(chunk, at + first.length(), second, 1));
                if (same != 0) {
                    // Names are unique under folding: the folded match is the only candidate.
                    return same > 0 || !exactly ? j : -1;
                }
            }
        }
    }

    /** N if {@code name[from, from + n)} is exactly {@code data/N}, N in canonical decimal below the record count; else -1. */
    private int dataNumber(byte[] name, int from, int n) {
        int digits = n - DATA.length();
        if (digits < 1 || digits > 9 || (digits > 1 && name[from + DATA.length()] == '0')) {
            return -1;
        }
        for (int k = 0; k < DATA.length(); k++) {
            if (name[from + k] != DATA.charAt(k)) {
                return -1;
            }
        }
        long value = 0;
        for (int k = DATA.length(); k < n; k++) {
            int d = name[from + k] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value < hashes.length() ? (int) value : -1;
    }

    private static int hash(String bytes, int hash) {
        for (int k = 0; k < bytes.length(); k++) {
            hash = step(hash, (byte) bytes.charAt(k));
        }
        return hash;
    }

    /**
     * How {@code chunk[at, ...)} compares with {@code bytes}, given how the rest compared ({@code so}): 0 if they
     * differ after folding (or the rest did); 1 if equal and the rest was; -1 if equal after folding only.
     */
    private static int compare(byte[] chunk, int at, String bytes, int so) {
        int result = so;
        for (int k = 0; k < bytes.length() && result != 0; k++) {
            byte b = chunk[at + k];
            byte q = (byte) bytes.charAt(k);
            if (b != q) {
                result = fold(b) != fold(q) ? 0 : -1;
            }
        }
        return result;
    }

    /**
     * The UTF-8 bytes of {@code s}, one char per byte (so that ASCII, nearly every name asked for, needs no
     * copy); null if {@code s} is not well-formed UTF-16 and so can be no name of the directory.
     */
    private static String asBytes(String s) {
        if (isAscii(s)) {
            return s;
        }
        try {
            var encoded = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(s));
            byte[] raw = new byte[encoded.remaining()];
            encoded.get(raw);
            return new String(raw, StandardCharsets.ISO_8859_1);
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static boolean isAscii(String s) {
        for (int k = 0; k < s.length(); k++) {
            if (s.charAt(k) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static byte fold(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }

    private static int step(int hash, byte b) {
        return (hash ^ fold(b)) * 0x01000193; // FNV-1a
    }

    private static int finish(int hash) {
        hash ^= hash >>> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >>> 13;
        return hash;
    }
}
