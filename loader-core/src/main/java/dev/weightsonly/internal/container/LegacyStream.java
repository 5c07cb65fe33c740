package dev.weightsonly.internal.container;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;

/**
 * The legacy stream that {@code torch.save} wrote before PyTorch 1.6 (and with
 * {@code _use_new_zipfile_serialization=False} since): five pickles back to back (magic number, protocol
 * version, sys_info, the object, the sorted list of storage keys), then each storage in key-list order as
 * a little-endian int64 element count followed by its bytes. The blocks are located once and handed out
 * as slices of the file; only a storage that the stream writes piecewise (a crafted file: see
 * {@link #readBlocks}) is assembled in a copy.
 */
public final class LegacyStream {

    /** The stream's first bytes: PROTO 2, LONG1 of 10 bytes = 0x1950a86a20f9469cfc6c, STOP. */
    public static final byte[] MAGIC_PICKLE = HexFormat.of().parseHex("80028a0a6cfc9c46f9206aa850192e");

    private static final MemorySegment NO_BYTES = MemorySegment.ofArray(new byte[0]).asReadOnly();
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LegacyStream() {
    }

    /**
     * Where the block of one key of the key list goes: bytes {@code [start, start + length)} of root allocation
     * {@code root}, whose element count is checked with {@code elementSize} (torch's {@code _set_from_file}).
     */
    public record Target(int root, long start, long length, int elementSize) {
    }

    /** One block read into a root allocation. */
    private record Write(long start, MemorySegment bytes) {
    }

    /**
     * Reads each key's block, starting at {@code start} (just past the key-list pickle), into the root
     * allocations, as torch does: in key-list order, a later block overwriting what an earlier one wrote (a key
     * listed twice, or a view key whose slice lies in a root also listed). A root written by one block over its
     * whole size and by nothing after it is that block itself, a slice of the file; any other is a copy holding
     * what torch would hold. A root with bytes no block writes is refused: torch would hand out uninitialised
     * memory.
     *
     * @param keys      the key list, in stream order
     * @param targets   the storage of each key (null for a key no persistent id created)
     * @param rootSizes each root allocation's size in bytes
     * @param rootKeys  the key that created each root (for messages)
     * @return each root's bytes, by root number
     */
    public static List<MemorySegment> readBlocks(MemorySegment file, long start, List<String> keys,
            Function<String, Target> targets, long[] rootSizes, List<String> rootKeys, Location where)
            throws CheckpointException {
        List<List<Write>> writes = new ArrayList<>();
        for (int i = 0; i < rootSizes.length; i++) {
            writes.add(new ArrayList<>(1));
        }
        long pos = start;
        for (String key : keys) {
            Target t = targets.apply(key);
            if (t == null) {
                throw where.malformed("storage '" + key + "' is in the key list but the object pickle never"
                        + " declares it, so its size is unknown");
            }
            if (file.byteSize() - pos < 8) {
                throw where.malformed("the stream ends before the element count of storage '" + key + "' at offset "
                        + pos);
            }
            long count = file.get(I64, pos);
            long nbytes = t.length();
            // torch compares element_size * count, computed in uint64 (wrapping), with the storage's bytes.
            if (count * t.elementSize() != nbytes) {
                throw where.malformed("storage has wrong byte size: storage '" + key + "' holds " + nbytes
                        + " bytes (" + t.elementSize() + " bytes/element) but its data block at offset " + pos
                        + " holds " + count + " elements");
            }
            long data = pos + 8;
            if (file.byteSize() - data < nbytes) {
                throw where.malformed("storage '" + key + "' needs " + nbytes + " bytes at offset " + data
                        + " but the file ends after " + (file.byteSize() - data));
            }
            writes.get(t.root()).add(new Write(t.start(), file.asSlice(data, nbytes)));
            pos = data + nbytes;
        }
        if (pos != file.byteSize()) {
            // A legacy stream ends with its last storage; whatever follows (a zip appended to make a polyglot,
            // another saved object) is refused, never read.
            throw where.malformed((file.byteSize() - pos) + " bytes follow the last storage block at offset " + pos
                    + "; a legacy checkpoint ends with its last storage");
        }
        List<MemorySegment> roots = new ArrayList<>(rootSizes.length);
        for (int r = 0; r < rootSizes.length; r++) {
            roots.add(rootBytes(rootSizes[r], writes.get(r), rootKeys.get(r), where));
        }
        return roots;
    }

    private static MemorySegment rootBytes(long size, List<Write> writes, String key, Location where)
            throws CheckpointException {
        if (size == 0) {
            return NO_BYTES;
        }
        if (writes.isEmpty()) {
            throw where.malformed("storage '" + key + "' is used by the object pickle but has no data in the"
                    + " stream (it is missing from the key list)");
        }
        Write last = writes.getLast();
        if (last.start() == 0 && last.bytes().byteSize() == size) {
            return last.bytes(); // the common case: one block, the whole storage, nothing after it
        }
        // Written piecewise: every byte must be written by some block (the blocks are distinct bytes of the
        // file, so the size is bounded by the file and the copying below by the blocks).
        List<Write> sorted = new ArrayList<>(writes);
        sorted.sort((a, b) -> Long.compare(a.start(), b.start()));
        long covered = 0;
        for (Write w : sorted) {
            if (w.start() > covered) {
                break;
            }
            covered = Math.max(covered, w.start() + w.bytes().byteSize());
        }
        if (covered < size) {
            throw where.malformed("bytes " + covered + " to " + size + " of storage '" + key + "' are written by no"
                    + " block of the stream (PyTorch would leave them uninitialised)");
        }
        MemorySegment out = size < Integer.MAX_VALUE - 8
                ? MemorySegment.ofArray(new byte[(int) size])
                : Arena.ofAuto().allocate(size, 8);
        for (Write w : writes) {
            MemorySegment.copy(w.bytes(), 0, out, w.start(), w.bytes().byteSize());
        }
        return out.asReadOnly();
    }
}
