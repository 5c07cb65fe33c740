package dev.weightsonly.testkit;

import static dev.weightsonly.testkit.PickleBytes.ascii;
import static dev.weightsonly.testkit.PickleBytes.cat;
import static dev.weightsonly.testkit.PickleBytes.integer;
import static dev.weightsonly.testkit.PickleBytes.pickle;
import static dev.weightsonly.testkit.PickleBytes.str;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * The three checkpoint containers, written byte by byte as the corpus generator writes them: a zip archive
 * (torch.save since 1.6), the legacy stream (before 1.6) and the tar of PyTorch 0.1.x.
 */
final class ContainerBytes {

    private ContainerBytes() {
    }

    /** One zip entry: its name, its data, and optionally a compressed form and a declared size that lies. */
    record ZipEntry(String name, byte[] data, int method, byte[] stored, long declaredSize) {
        static ZipEntry stored(String name, byte[] data) {
            return new ZipEntry(name, data, 0, data, data.length);
        }

        static ZipEntry deflated(String name, byte[] data) {
            Deflater deflater = new Deflater(9, true);
            deflater.setInput(data);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[1 << 16];
            while (!deflater.finished()) {
                out.write(chunk, 0, deflater.deflate(chunk));
            }
            deflater.end();
            return new ZipEntry(name, data, 8, out.toByteArray(), data.length);
        }
    }

    /** A classic zip: local headers and data, the central directory, the end record (no zip64, no comment). */
    static byte[] zip(List<ZipEntry> entries) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        ByteArrayOutputStream directory = new ByteArrayOutputStream();
        for (ZipEntry e : entries) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(e.data());
            int offset = body.size();
            body.write(le().putInt(0x04034B50).putShort((short) 20).putShort((short) 0)
                    .putShort((short) e.method()).putShort((short) 0).putShort((short) 0x21).putInt((int) crc.getValue())
                    .putInt(e.stored().length).putInt((int) e.declaredSize()).putShort((short) name.length)
                    .putShort((short) 0).array(), 0, 30);
            body.writeBytes(name);
            body.writeBytes(e.stored());
            directory.write(le().putInt(0x02014B50).putShort((short) 0x031E).putShort((short) 20)
                    .putShort((short) 0).putShort((short) e.method()).putShort((short) 0).putShort((short) 0x21)
                    .putInt((int) crc.getValue()).putInt(e.stored().length).putInt((int) e.declaredSize())
                    .putShort((short) name.length).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt(offset).array(), 0, 46);
            directory.writeBytes(name);
        }
        byte[] end = le().putInt(0x06054B50).putShort((short) 0).putShort((short) 0)
                .putShort((short) entries.size()).putShort((short) entries.size()).putInt(directory.size())
                .putInt(body.size()).putShort((short) 0).array();
        return cat(body.toByteArray(), directory.toByteArray(), java.util.Arrays.copyOf(end, 22));
    }

    private static ByteBuffer le() {
        return ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The records torch.save writes, in its order: data.pkl, byteorder, data/&lt;key&gt;..., version. */
    static List<ZipEntry> checkpointEntries(String root, byte[] dataPickle, Map<String, byte[]> records) {
        List<ZipEntry> entries = new ArrayList<>();
        entries.add(ZipEntry.stored(root + "/data.pkl", dataPickle));
        entries.add(ZipEntry.stored(root + "/byteorder", ascii("little")));
        records.forEach((key, bytes) -> entries.add(ZipEntry.stored(root + "/data/" + key, bytes)));
        entries.add(ZipEntry.stored(root + "/version", ascii("3\n")));
        return entries;
    }

    static byte[] checkpoint(byte[] dataPickle, Map<String, byte[]> records) {
        return zip(checkpointEntries("archive", dataPickle, records));
    }

    static Map<String, byte[]> records(Object... keysAndBytes) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndBytes.length; i += 2) {
            out.put((String) keysAndBytes[i], (byte[]) keysAndBytes[i + 1]);
        }
        return out;
    }

    /** The number torch.save writes first in a legacy stream. */
    private static final java.math.BigInteger LEGACY_MAGIC = new java.math.BigInteger("1950A86A20F9469CFC6C", 16);

    /** The legacy stream: magic, protocol 1001, sys_info, the object pickle, the storage keys, the storages. */
    static byte[] legacy(byte[] objectBody, Map<String, byte[]> storages, Map<String, Long> declaredElements) {
        byte[] magic = integer(LEGACY_MAGIC);
        byte[] sysInfo = cat(ascii("}("), str("protocol_version"), integer(1001), str("little_endian"),
                new byte[] {(byte) 0x88}, str("type_sizes"), ascii("}("), str("short"), integer(2), str("int"),
                integer(4), str("long"), integer(4), ascii("uu"));
        ByteArrayOutputStream keys = new ByteArrayOutputStream();
        storages.keySet().forEach(k -> keys.writeBytes(str(k)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(pickle(magic));
        out.writeBytes(pickle(integer(1001)));
        out.writeBytes(pickle(sysInfo));
        out.writeBytes(pickle(objectBody));
        out.writeBytes(pickle(cat(ascii("]("), keys.toByteArray(), ascii("e"))));
        storages.forEach((k, raw) -> {
            out.writeBytes(PickleBytes.le64(declaredElements.get(k)));
            out.writeBytes(raw);
        });
        return out.toByteArray();
    }

    /** PyTorch 0.1.x's tar: sys_info, pickle, tensors and storages members with ustar headers. */
    static byte[] tar(byte[] objectPickle) {
        byte[] storages = cat(pickle(integer(1)),
                pickle(PickleBytes.tuple(integer(1000), str("cpu"), PickleBytes.global("torch", "FloatStorage"))),
                PickleBytes.le64(4), PickleBytes.floats(1, 2, 3, 4), pickle(ascii("]")));
        byte[] tensors = cat(pickle(integer(1)),
                pickle(PickleBytes.tuple(integer(1), integer(1000), PickleBytes.global("torch", "FloatTensor"))),
                PickleBytes.le32(1), new byte[4], PickleBytes.le64(4), PickleBytes.le64(1), PickleBytes.le64(0));
        byte[] sysInfo = pickle(cat(ascii("}("), str("protocol_version"), integer(1000), str("little_endian"),
                new byte[] {(byte) 0x88}, ascii("u")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object[] member : new Object[][] {{"sys_info", sysInfo}, {"pickle", objectPickle},
                {"tensors", tensors}, {"storages", storages}}) {
            byte[] data = (byte[]) member[1];
            out.writeBytes(tarHeader((String) member[0], data.length));
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static byte[] tarHeader(String name, int size) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644\0");
        put(h, 108, "0000000\0");
        put(h, 116, "0000000\0");
        put(h, 124, String.format("%011o", size) + "\0");
        put(h, 136, "00000000000\0");
        put(h, 148, "        ");
        h[156] = '0';
        put(h, 257, "ustar\0");
        put(h, 263, "00");
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        put(h, 148, String.format("%06o", sum) + "\0 ");
        return h;
    }

    private static void put(byte[] header, int at, String text) {
        byte[] bytes = ascii(text);
        System.arraycopy(bytes, 0, header, at, bytes.length);
    }
}
