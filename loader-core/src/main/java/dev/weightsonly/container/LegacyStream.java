package dev.weightsonly.container;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The legacy stream that {@code torch.save} wrote before PyTorch 1.6 (and with
 * {@code _use_new_zipfile_serialization=False} since): five pickles back to back (magic number, protocol
 * version, sys_info, the object, the sorted list of storage keys), then each storage in key-list order as
 * a little-endian int64 element count followed by its bytes. The blocks are located once and handed out
 * as slices of the file: nothing is copied.
 */
public final class LegacyStream {

    /** The stream's first bytes: PROTO 2, LONG1 of 10 bytes = 0x1950a86a20f9469cfc6c, STOP. */
    public static final byte[] MAGIC_PICKLE = HexFormat.of().parseHex("80028a0a6cfc9c46f9206aa850192e");

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LegacyStream() {
    }

    /** What the object pickle declared for one root storage key. */
    public record Declared(long numel, int elementSize) {
    }

    /**
     * Finds each storage's bytes, starting at {@code start} (just past the key-list pickle).
     *
     * @param keys     the key list, in stream order
     * @param declared what the object pickle declared for each key (its numel decides the block size)
     * @return key to the slice holding exactly its bytes
     */
    public static Map<String, MemorySegment> locateBlocks(MemorySegment file, long start, List<String> keys,
            Map<String, Declared> declared, Location where) throws CheckpointException {
        Map<String, MemorySegment> blocks = new LinkedHashMap<>();
        long pos = start;
        for (String key : keys) {
            Declared d = declared.get(key);
            if (d == null) {
                throw where.malformed("storage '" + key + "' is in the key list but the object pickle never"
                        + " declares it, so its size is unknown");
            }
            if (blocks.containsKey(key)) {
                throw where.malformed("storage '" + key + "' appears twice in the key list");
            }
            if (file.byteSize() - pos < 8) {
                throw where.malformed("the stream ends before the element count of storage '" + key + "' at offset "
                        + pos);
            }
            long count = file.get(I64, pos);
            if (count != d.numel()) {
                throw where.malformed("storage has wrong byte size: storage '" + key + "' is declared with "
                        + d.numel() + " elements but its data block at offset " + pos + " holds " + count);
            }
            long nbytes = Math.multiplyExact(count, (long) d.elementSize());
            long data = pos + 8;
            if (file.byteSize() - data < nbytes) {
                throw where.malformed("storage '" + key + "' needs " + nbytes + " bytes at offset " + data
                        + " but the file ends after " + (file.byteSize() - data));
            }
            blocks.put(key, file.asSlice(data, nbytes));
            pos = data + nbytes;
        }
        for (String key : declared.keySet()) {
            if (!blocks.containsKey(key)) {
                throw where.malformed("storage '" + key + "' is used by the object pickle but has no data in the"
                        + " stream (it is missing from the key list)");
            }
        }
        if (pos != file.byteSize()) {
            // A legacy stream ends with its last storage; whatever follows (a zip appended to make a polyglot,
            // another saved object) is refused, never read.
            throw where.malformed((file.byteSize() - pos) + " bytes follow the last storage block at offset " + pos
                    + "; a legacy checkpoint ends with its last storage");
        }
        return blocks;
    }
}
