package dev.weightsonly.internal.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.weightsonly.AdversarialCorpusTest;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.MalformedCheckpointException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Why the zip reader is the project's own (docs/design.md, "Zip: a strict reader of our own"): Commons Compress,
 * which loader-core depends on for the 0.1.x tar format, opens and reads nearly every archive of the adversarial
 * corpus that the strict reader refuses for its zip structure. If a new Commons Compress refuses more of them,
 * this test fails and design.md's figures are to be updated.
 */
class CommonsCompressLeniencyTest {

    /** The corpus's archives refused for their zip structure (not for their pickle or their storages). */
    private static final List<String> REFUSED_FOR_THEIR_STRUCTURE = List.of(
            "E13_local_name", "E13_local_method", "E13_local_flags", "E13_local_crc", "E13_local_size",
            "E13_descriptor", "E16a_duplicate_first_evil", "E16b_duplicate_last_evil", "E19b_suffix_payload",
            "E20a_eocd_count_low", "E20b_cd_offset_shifted", "E20c_fake_eocd_in_comment",
            "E20d_comment_length_past_end", "E22_traverse", "E22_abs", "E22_bslash", "E22_drive", "E22_nul",
            "E22_dot", "E22_dslash", "E22_bad_utf8_name", "E23_csize", "E23_stored", "E40a_case_twin_data_pkl",
            "E40b_case_twin_storage", "F09_second_root_decoy", "C13_overlapping_entries",
            "C13b_entry_inside_another", "C14c_entry_count_lie", "C12c_stored_usize_4g", "C12b_deflate_lying_size",
            "E18a_first_entry_no_folder", "E18b_record_outside_root");

    /**
     * Whether Commons Compress's {@code ZipFile} opens the archive and hands out every entry's bytes (their first
     * 64 KiB: some entries claim gigabytes).
     */
    private static boolean commonsCompressReads(Path file) {
        try (ZipFile zip = ZipFile.builder().setPath(file).get()) {
            for (Enumeration<ZipArchiveEntry> e = zip.getEntries(); e.hasMoreElements(); ) {
                try (InputStream in = zip.getInputStream(e.nextElement())) {
                    in.readNBytes(1 << 16);
                }
            }
            return true;
        } catch (IOException | RuntimeException refused) {
            return false;
        }
    }

    @Test
    void commonsCompressReadsWhatTheStrictReaderRefuses() {
        Set<String> refusedByCommonsCompress = new TreeSet<>();
        for (String name : REFUSED_FOR_THEIR_STRUCTURE) {
            Path file = AdversarialCorpusTest.dir().resolve(name + ".pt");
            assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(file).close(), name);
            if (!commonsCompressReads(file)) {
                refusedByCommonsCompress.add(name);
            }
        }
        assertEquals(33, REFUSED_FOR_THEIR_STRUCTURE.size());
        assertEquals(Set.of("E20b_cd_offset_shifted", "E23_csize"), refusedByCommonsCompress,
                "Commons Compress reads 31 of the 33 (docs/design.md)");
    }
}
