package dev.weightsonly.container;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.archivers.zip.ZipMethod;

/**
 * The zip container of {@code torch.save} (PyTorch 1.6 and later): records under one root folder, found
 * by exact name through the central directory. A STORED record, which is what torch writes, is a slice
 * of the file's bytes, never a copy; a DEFLATED one (a checkpoint re-zipped by another tool) is inflated
 * into memory within {@link LoadLimits#maxInflatedBytes()}.
 */
public final class ZipArchive {

    private static final int FLAG_COMPRESSED_PATCHED_DATA = 0x20;
    private static final int FLAG_STRONG_ENCRYPTION = 0x40;

    private final MemorySegment file;
    private final Location where;
    private final LoadLimits limits;
    private final String root;
    private final Map<String, ZipArchiveEntry> records;
    private final ZipFile zip;

    private ZipArchive(MemorySegment file, Location where, LoadLimits limits, String root,
            Map<String, ZipArchiveEntry> records, ZipFile zip) {
        this.file = file;
        this.where = where;
        this.limits = limits;
        this.root = root;
        this.records = records;
        this.zip = zip;
    }

    /** Whether the bytes start as torch's zip checkpoints do (a local file header at offset 0). */
    public static boolean looksLikeZip(MemorySegment file) {
        return file.byteSize() >= 4
                && file.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0)
                == 0x04034B50;
    }

    /** Reads the central directory of {@code file}. */
    public static ZipArchive open(MemorySegment file, Location where, LoadLimits limits) throws CheckpointException {
        ZipFile zip;
        try {
            zip = ZipFile.builder().setSeekableByteChannel(new SegmentChannel(file)).setIgnoreLocalFileHeader(false).get();
        } catch (IOException | RuntimeException e) {
            throw where.malformed("PytorchStreamReader failed reading zip archive: " + messages(e)
                    + " (the file is truncated or not a zip checkpoint)");
        }
        Map<String, ZipArchiveEntry> byName = new LinkedHashMap<>();
        String root = null;
        int count = 0;
        Enumeration<ZipArchiveEntry> entries = zip.getEntries();
        while (entries.hasMoreElements()) {
            ZipArchiveEntry entry = entries.nextElement();
            if (++count > limits.maxArchiveEntries()) {
                throw where.limit("maxArchiveEntries", limits.maxArchiveEntries(), "more than "
                        + limits.maxArchiveEntries() + " records in the archive");
            }
            String name = entry.getName();
            if (root == null) {
                int slash = name.indexOf('/');
                if (slash <= 0) {
                    throw where.malformed("file in archive is not in a subdirectory: " + name);
                }
                root = name.substring(0, slash + 1);
            }
            if (!name.startsWith(root)) {
                throw where.malformed("record '" + name + "' is outside the archive's root folder '" + root + "'");
            }
            if (byName.putIfAbsent(name.substring(root.length()), entry) != null) {
                throw where.malformed("record '" + name + "' appears twice in the archive");
            }
        }
        if (root == null) {
            throw where.malformed("archive does not contain any files");
        }
        return new ZipArchive(file, where, limits, root, Collections.unmodifiableMap(byName), zip);
    }

    /** The messages of {@code e} and its causes, which say what the zip reader found wrong. */
    private static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 5; t = t.getCause(), depth++) {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (sb.indexOf(m) < 0) {
                sb.append(sb.isEmpty() ? "" : ": ").append(m);
            }
        }
        return sb.toString();
    }

    /** The root folder, with its trailing slash ({@code archive/}, {@code model/}). */
    public String rootFolder() {
        return root;
    }

    /** Record names relative to the root folder, in central-directory order. */
    public List<String> recordNames() {
        return new ArrayList<>(records.keySet());
    }

    public boolean contains(String name) {
        return records.containsKey(name);
    }

    /** The full name of a record, as error messages show it. */
    public String fullName(String name) {
        return root + name;
    }

    /** The bytes of a record (relative name), or empty if there is no such record. */
    public Optional<MemorySegment> record(String name) throws CheckpointException {
        ZipArchiveEntry entry = records.get(name);
        if (entry == null) {
            return Optional.empty();
        }
        Location at = where.inRecord(fullName(name));
        if (entry.getGeneralPurposeBit().usesEncryption()) {
            throw at.unsupported("the record is encrypted");
        }
        // miniz, torch's zip reader, refuses these bits too ("Encryption and patch files are not supported").
        int refusedFlags = entry.getRawFlag() & (FLAG_COMPRESSED_PATCHED_DATA | FLAG_STRONG_ENCRYPTION);
        if (refusedFlags != 0) {
            throw at.unsupported(String.format("the record has general-purpose flag 0x%x (%s), which zip"
                    + " checkpoints never use", refusedFlags,
                    (refusedFlags & FLAG_STRONG_ENCRYPTION) != 0 ? "strong encryption" : "compressed patched data"));
        }
        long size = entry.getSize();
        long compressed = entry.getCompressedSize();
        long offset = entry.getDataOffset();
        if (size < 0 || compressed < 0 || offset < 0 || offset > file.byteSize()
                || compressed > file.byteSize() - offset) {
            throw at.malformed("record data (offset " + offset + ", " + compressed
                    + " bytes) lies outside the file of " + file.byteSize() + " bytes");
        }
        return switch (ZipMethod.getMethodByCode(entry.getMethod())) {
            case STORED -> {
                if (size != compressed) {
                    throw at.malformed("STORED record claims " + size + " bytes but occupies " + compressed);
                }
                yield Optional.of(file.asSlice(offset, size));
            }
            case DEFLATED -> Optional.of(inflate(entry, at));
            case null, default -> throw at.unsupported("compression method " + entry.getMethod()
                    + " (torch writes STORED records; DEFLATED is read too)");
        };
    }

    private MemorySegment inflate(ZipArchiveEntry entry, Location at) throws CheckpointException {
        long max = limits.maxInflatedBytes();
        if (entry.getSize() > max) {
            throw at.limit("maxInflatedBytes", max, "a DEFLATED record of " + entry.getSize() + " bytes");
        }
        // Grow as bytes arrive rather than trusting the declared size.
        try (InputStream in = zip.getInputStream(entry)) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(
                    (int) Math.min(Math.max(entry.getSize(), 0), 1 << 20));
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                if (total > max || total > Integer.MAX_VALUE - 8) {
                    throw at.limit("maxInflatedBytes", Math.min(max, Integer.MAX_VALUE - 8),
                            "a DEFLATED record inflating past the limit");
                }
                out.write(buffer, 0, n);
            }
            if (entry.getSize() >= 0 && total != entry.getSize()) {
                throw at.malformed("DEFLATED record inflated to " + total + " bytes, the directory says "
                        + entry.getSize());
            }
            return MemorySegment.ofArray(out.toByteArray()).asReadOnly();
        } catch (CheckpointException e) {
            throw e; // the limit or size verdict above, not an inflater failure
        } catch (IOException | RuntimeException e) {
            throw at.malformed("DEFLATED record cannot be inflated: " + e.getMessage());
        }
    }
}
