package dev.weightsonly.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes small zip checkpoints for tests: records STORED (as torch does) or DEFLATED (as re-zipping does). */
public final class ZipWriter {

    private final String root;
    private final Map<String, byte[]> records = new LinkedHashMap<>();
    private boolean deflate;

    private ZipWriter(String root) {
        this.root = root;
    }

    /** A checkpoint archive with root folder {@code root}, holding {@code data.pkl} and {@code version}. */
    public static ZipWriter checkpoint(String root, byte[] dataPkl) {
        ZipWriter w = new ZipWriter(root);
        w.record("data.pkl", dataPkl);
        w.record("version", "3\n".getBytes());
        return w;
    }

    public static ZipWriter empty(String root) {
        return new ZipWriter(root);
    }

    public ZipWriter record(String name, byte[] data) {
        records.put(name, data);
        return this;
    }

    public ZipWriter remove(String name) {
        records.remove(name);
        return this;
    }

    public ZipWriter deflated() {
        deflate = true;
        return this;
    }

    public byte[] bytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
                for (Map.Entry<String, byte[]> e : records.entrySet()) {
                    ZipEntry entry = new ZipEntry(e.getKey().startsWith("/") ? e.getKey().substring(1) : root + "/" + e.getKey());
                    if (!deflate) {
                        CRC32 crc = new CRC32();
                        crc.update(e.getValue());
                        entry.setMethod(ZipEntry.STORED);
                        entry.setSize(e.getValue().length);
                        entry.setCompressedSize(e.getValue().length);
                        entry.setCrc(crc.getValue());
                    }
                    zip.putNextEntry(entry);
                    zip.write(e.getValue());
                    zip.closeEntry();
                }
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
