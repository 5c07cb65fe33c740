package dev.weightsonly.internal.container;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * The tar container of PyTorch 0.1.x: an uncompressed tar whose members {@code storages}, {@code tensors}
 * and {@code pickle} are found by exact name and handed out as slices of the file (never extracted: member
 * names come from the file).
 */
public final class LegacyTar {

    private final Map<String, MemorySegment> members;

    private LegacyTar(Map<String, MemorySegment> members) {
        this.members = members;
    }

    /** Whether the bytes look like a tar archive ({@code ustar} at offset 257 of the first header). */
    public static boolean looksLikeTar(MemorySegment file) {
        if (file.byteSize() < 512) {
            return false;
        }
        byte[] magic = file.asSlice(257, 5).toArray(ValueLayout.JAVA_BYTE);
        return new String(magic, StandardCharsets.US_ASCII).equals("ustar");
    }

    public static LegacyTar open(MemorySegment file, Location where, int maxEntries) throws CheckpointException {
        Map<String, MemorySegment> members = new HashMap<>();
        try (TarFile tar = new TarFile(new SegmentChannel(file))) {
            int count = 0;
            for (TarArchiveEntry entry : tar.getEntries()) {
                if (++count > maxEntries) {
                    throw where.limit("maxArchiveEntries", maxEntries, "more than " + maxEntries + " tar members");
                }
                // Python's tarfile (torch's reader) refuses a header whose checksum is wrong: the first one makes
                // the file no tar at all, a later one ends the archive. Commons Compress reads on regardless, so a
                // bit flip would load here what torch refuses (difffuzz tar_header_checksum.pt).
                if (!entry.isCheckSumOK()) {
                    throw where.malformed("tar header of member '" + entry.getName() + "' has a wrong checksum");
                }
                if (!entry.isFile()) {
                    continue;
                }
                long offset = entry.getDataOffset();
                long size = entry.getSize();
                if (offset < 0 || size < 0 || offset > file.byteSize() || size > file.byteSize() - offset) {
                    throw where.malformed("tar member '" + entry.getName() + "' (" + size + " bytes at " + offset
                            + ") lies outside the file");
                }
                if (members.put(entry.getName(), file.asSlice(offset, size).asReadOnly()) != null) {
                    throw where.malformed("tar member '" + entry.getName() + "' appears twice");
                }
            }
        } catch (CheckpointException e) {
            throw e; // the verdicts above (a limit, a member outside the file), not the tar reader's failure
        } catch (IOException | RuntimeException e) {
            throw where.malformed("unreadable tar archive: " + e.getMessage());
        }
        return new LegacyTar(members);
    }

    /** Whether the tar has a member of exactly this name. */
    public boolean contains(String name) {
        return members.containsKey(name);
    }

    /** The member's bytes, or an exception naming it. */
    public MemorySegment member(String name, Location where) throws CheckpointException {
        MemorySegment m = members.get(name);
        if (m == null) {
            throw where.malformed("the tar checkpoint has no '" + name + "' member (it has " + members.keySet() + ")");
        }
        return m;
    }
}
