package dev.weightsonly.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes zip archives byte by byte, for archives that {@link java.util.zip.ZipOutputStream} refuses to
 * write (duplicate names, flag bits, lying sizes, no entries). Classic zip only (no ZIP64): local header,
 * data, central directory, end record. The header encoders are public so that a test can write a large
 * archive straight to a file.
 */
public final class RawZip {

    public static final int STORED = 0;
    public static final int DEFLATED = 8;

    /** One entry; every field may be changed before {@link #bytes()}. */
    public static final class Entry {
        public String name;
        /** The bytes as they are in the archive (compressed for DEFLATED). */
        public byte[] raw;
        public int method = STORED;
        public int flags;
        public long crc;
        public long uncompressedSize;
        public long compressedSize;

        Entry(String name, byte[] data, int method) {
            this.name = name;
            this.method = method;
            this.raw = method == DEFLATED ? deflate(data) : data.clone();
            this.crc = crc(data);
            this.uncompressedSize = data.length;
            this.compressedSize = raw.length;
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    public static RawZip create() {
        return new RawZip();
    }

    public RawZip stored(String name, byte[] data) {
        return add(name, data, STORED, e -> { });
    }

    public RawZip stored(String name, String text) {
        return stored(name, text.getBytes(StandardCharsets.US_ASCII));
    }

    public RawZip deflated(String name, byte[] data) {
        return add(name, data, DEFLATED, e -> { });
    }

    public RawZip add(String name, byte[] data, int method, Consumer<Entry> tweak) {
        Entry e = new Entry(name, data, method);
        tweak.accept(e);
        entries.add(e);
        return this;
    }

    public byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long[] offsets = new long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            offsets[i] = out.size();
            out.writeBytes(localHeader(e.name, e.flags, e.method, e.crc, e.compressedSize, e.uncompressedSize, new byte[0]));
            out.writeBytes(e.raw);
        }
        long cdStart = out.size();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            out.writeBytes(centralHeader(e.name, e.flags, e.method, e.crc, e.compressedSize, e.uncompressedSize, offsets[i]));
        }
        long cdSize = out.size() - cdStart;
        out.writeBytes(endOfCentralDirectory(entries.size(), cdSize, cdStart));
        return out.toByteArray();
    }

    // ---- encoders ---------------------------------------------------------------------------------------

    public static byte[] localHeader(String name, int flags, int method, long crc, long compressedSize,
            long uncompressedSize, byte[] extra) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(30 + n.length + extra.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034B50).putShort((short) 20).putShort((short) flags).putShort((short) method)
                .putShort((short) 0).putShort((short) 0x21) // time 0, date 1980-01-01
                .putInt((int) crc).putInt((int) compressedSize).putInt((int) uncompressedSize)
                .putShort((short) n.length).putShort((short) extra.length).put(n).put(extra);
        return b.array();
    }

    public static byte[] centralHeader(String name, int flags, int method, long crc, long compressedSize,
            long uncompressedSize, long localHeaderOffset) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(46 + n.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x02014B50).putShort((short) 20).putShort((short) 20).putShort((short) flags)
                .putShort((short) method).putShort((short) 0).putShort((short) 0x21)
                .putInt((int) crc).putInt((int) compressedSize).putInt((int) uncompressedSize)
                .putShort((short) n.length).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) localHeaderOffset).put(n);
        return b.array();
    }

    public static byte[] endOfCentralDirectory(int count, long cdSize, long cdOffset) {
        ByteBuffer b = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x06054B50).putShort((short) 0).putShort((short) 0).putShort((short) count)
                .putShort((short) count).putInt((int) cdSize).putInt((int) cdOffset).putShort((short) 0);
        return b.array();
    }

    /** The alignment extra field torch writes ('FB', length, 'Z' * padding). */
    public static byte[] paddingExtra(int padding) {
        ByteBuffer b = ByteBuffer.allocate(4 + padding).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'F').put((byte) 'B').putShort((short) padding);
        for (int i = 0; i < padding; i++) {
            b.put((byte) 'Z');
        }
        return b.array();
    }

    public static long crc(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data);
        return crc.getValue();
    }

    public static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) {
            int n = d.deflate(buf);
            out.write(buf, 0, n);
        }
        d.end();
        return out.toByteArray();
    }
}
