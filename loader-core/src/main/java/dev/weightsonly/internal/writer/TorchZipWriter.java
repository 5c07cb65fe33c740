package dev.weightsonly.internal.writer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Writes a zip archive byte for byte as PyTorch's {@code PyTorchStreamWriter} (miniz in zip64 mode) does,
 * streaming: records are written in order, each record's bytes go straight from its memory segment to the
 * channel with the CRC-32 computed on the way, and only the central directory (a few dozen bytes per
 * record) is held until the end. Nothing is ever read back or sought.
 *
 * <p>The layout (torch-spec 2.2, 2.3, checked against files written by PyTorch 1.13): every record STORED,
 * DOS time and date 0, local header with CRC and sizes 0 and general-purpose flags {@code 0x0808} (sizes
 * in a data descriptor, UTF-8 name), or {@code 0x0800} and no descriptor for an empty record; the extra
 * field is a zip64 field when the record is 4 GiB or more or starts at 4 GiB or more, then the {@code FB}
 * field whose {@code 'Z'} padding puts the data at a multiple of 64; the data descriptor has 8-byte sizes
 * exactly when the zip64 field is there; the central directory repeats the zip64 field; the end is a zip64
 * end-of-central-directory record, its locator, and the classic record with counts and offsets clamped.
 */
public final class TorchZipWriter {

    /** Where each record's data starts: a multiple of 64 bytes, as PyTorch aligns it for memory mapping. */
    public static final int ALIGNMENT = 64;
    private static final long MAX32 = 0xFFFF_FFFFL;
    private static final int CHUNK = 8 << 20;

    /** Receives the count of data bytes written, for progress reports. */
    @FunctionalInterface
    public interface Written {
        /**
         * Reports that more of a record's data reached the channel.
         *
         * @param n how many bytes were written since the last call
         * @throws IOException to abandon the write
         */
        void bytes(long n) throws IOException;
    }

    private final WritableByteChannel out;
    private final String folder;
    private final ByteArrayOutputStream central = new ByteArrayOutputStream();
    private long position;
    private long entries;

    /**
     * A writer at the start of an empty archive.
     *
     * @param out where the archive's bytes go, in one pass; never closed here
     * @param folder the folder every record name is under, as {@code torch.save} names it after the file
     */
    public TorchZipWriter(WritableByteChannel out, String folder) {
        this.out = out;
        this.folder = folder;
    }

    /**
     * How much of the archive has been written, which is where the next record's header starts.
     *
     * @return the bytes written so far
     */
    public long position() {
        return position;
    }

    /**
     * Where the data of a record would start if added now, for tests and for checking the alignment.
     *
     * @param name the record's name inside the folder
     * @param size the record's size in bytes (a record of 4 GiB or more gets a zip64 field)
     * @return the offset of its first data byte in the archive, a multiple of {@link #ALIGNMENT}
     */
    public long dataOffset(String name, long size) {
        long start = position + 30 + fullName(name).length + zip64ExtraLength(size, position) + 4;
        return start + padding(start);
    }

    /**
     * Writes one small record held in memory ({@code data.pkl}, {@code byteorder}, {@code version}).
     *
     * @param name the record's name inside the folder
     * @param data its bytes
     * @throws IOException if the channel fails
     */
    public void add(String name, byte[] data) throws IOException {
        add(name, MemorySegment.ofArray(data), n -> { });
    }

    /**
     * Writes one record: local header, data (CRC-32 computed while writing), data descriptor.
     *
     * @param name the record's name inside the folder, such as {@code data/0}
     * @param data its bytes, streamed a chunk at a time
     * @param written told after each chunk, for progress reports
     * @throws IOException if the channel fails, {@code written} does, or the full name is over the zip format's
     *     65,535 bytes
     */
    public void add(String name, MemorySegment data, Written written) throws IOException {
        byte[] fullName = fullName(name);
        if (fullName.length > 0xFFFF) {
            throw new IOException("record name of " + fullName.length + " bytes is too long for a zip archive");
        }
        long size = data.byteSize();
        long headerOffset = position;
        boolean bigSize = size >= MAX32;
        boolean bigOffset = headerOffset >= MAX32;
        int zip64Length = zip64ExtraLength(size, headerOffset);
        long start = headerOffset + 30 + fullName.length + zip64Length + 4;
        int pad = padding(start);
        int flags = size > 0 ? 0x0808 : 0x0800;

        ByteBuffer header = le(30 + fullName.length + zip64Length + 4 + pad);
        header.putInt(0x04034b50).putShort((short) 0).putShort((short) flags).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0) // time, date
                .putInt(0).putInt(0).putInt(0) // CRC and sizes: in the data descriptor
                .putShort((short) fullName.length).putShort((short) (zip64Length + 4 + pad))
                .put(fullName);
        putZip64(header, size, headerOffset, bigSize, bigOffset);
        header.put((byte) 'F').put((byte) 'B').putShort((short) pad);
        for (int i = 0; i < pad; i++) {
            header.put((byte) 'Z');
        }
        write(header.flip());

        CRC32 crc = new CRC32();
        for (long at = 0; at < size; at += CHUNK) {
            long n = Math.min(CHUNK, size - at);
            ByteBuffer chunk = buffer(data.asSlice(at, n));
            crc.update(chunk.duplicate());
            write(chunk);
            written.bytes(n);
        }
        int crcValue = (int) crc.getValue();

        if (size > 0) {
            boolean wide = zip64Length > 0;
            ByteBuffer descriptor = le(wide ? 24 : 16);
            descriptor.putInt(0x08074b50).putInt(crcValue);
            if (wide) {
                descriptor.putLong(size).putLong(size);
            } else {
                descriptor.putInt((int) size).putInt((int) size);
            }
            write(descriptor.flip());
        }

        ByteBuffer entry = le(46 + fullName.length + zip64Length);
        entry.putInt(0x02014b50).putShort((short) 0).putShort((short) 0).putShort((short) flags)
                .putShort((short) 0).putShort((short) 0).putShort((short) 0) // method, time, date
                .putInt(crcValue).putInt((int) Math.min(size, MAX32)).putInt((int) Math.min(size, MAX32))
                .putShort((short) fullName.length).putShort((short) zip64Length).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt(0) // disk, internal and external attributes
                .putInt((int) Math.min(headerOffset, MAX32))
                .put(fullName);
        putZip64(entry, size, headerOffset, bigSize, bigOffset);
        central.write(entry.array(), 0, entry.position());
        entries++;
    }

    /**
     * Writes the central directory and the end records; the archive is complete afterwards and nothing more may
     * be added.
     *
     * @throws IOException if the channel fails
     */
    public void finish() throws IOException {
        long directoryOffset = position;
        long directorySize = central.size();
        write(ByteBuffer.wrap(central.toByteArray()));
        long zip64EndOffset = position;
        ByteBuffer end = le(56 + 20 + 22);
        end.putInt(0x06064b50).putLong(44).putShort((short) 0x031E).putShort((short) 0x002D)
                .putInt(0).putInt(0).putLong(entries).putLong(entries).putLong(directorySize).putLong(directoryOffset);
        end.putInt(0x07064b50).putInt(0).putLong(zip64EndOffset).putInt(1);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) Math.min(entries, 0xFFFF)).putShort((short) Math.min(entries, 0xFFFF))
                .putInt((int) Math.min(directorySize, MAX32)).putInt((int) Math.min(directoryOffset, MAX32))
                .putShort((short) 0);
        write(end.flip());
    }

    private byte[] fullName(String name) {
        return (folder + "/" + name).getBytes(StandardCharsets.UTF_8);
    }

    /** miniz's zip64 extended-information field: sizes when the record is 4 GiB or more, offset when it starts past 4 GiB. */
    private static int zip64ExtraLength(long size, long headerOffset) {
        boolean bigSize = size >= MAX32;
        boolean bigOffset = headerOffset >= MAX32;
        return bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
    }

    private static void putZip64(ByteBuffer b, long size, long headerOffset, boolean bigSize, boolean bigOffset) {
        if (!bigSize && !bigOffset) {
            return;
        }
        b.putShort((short) 0x0001).putShort((short) ((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)));
        if (bigSize) {
            b.putLong(size).putLong(size);
        }
        if (bigOffset) {
            b.putLong(headerOffset);
        }
    }

    private static int padding(long start) {
        return (int) ((ALIGNMENT - start % ALIGNMENT) % ALIGNMENT);
    }

    /**
     * A chunk (at most a few megabytes) as a buffer: a view of mapped, native and {@code byte[]} memory, a copy
     * of memory backed by other heap arrays ({@code long[]}, {@code double[]}, ...), which cannot be viewed as bytes.
     *
     * @param chunk the bytes to hand to a channel
     * @return a buffer of the chunk's bytes, positioned at 0
     */
    public static ByteBuffer buffer(MemorySegment chunk) {
        try {
            return chunk.asByteBuffer();
        } catch (UnsupportedOperationException notBytes) {
            return ByteBuffer.wrap(chunk.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }

    private static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            position += out.write(b);
        }
    }
}
