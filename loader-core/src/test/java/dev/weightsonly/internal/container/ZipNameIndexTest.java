package dev.weightsonly.internal.container;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.testing.RawZip;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The name index of {@link ZipArchive} ({@link RecordTable}), which compares names as bytes of the directory:
 * lookups ignore ASCII case and nothing else, as torch's (miniz's) do; {@code containsExactly} compares exactly;
 * names past ASCII are found by their UTF-8 bytes; a string no directory name can be (a lone surrogate) finds
 * nothing; names that differ only in ASCII case are refused, names that differ in the case of other letters are
 * two records; and names stored across several chunks (a large directory) are all found.
 */
class ZipNameIndexTest {

    private static ZipArchive open(RawZip zip) throws CheckpointException {
        return ZipArchive.open(MemorySegment.ofArray(zip.bytes()), Location.of("test.pt"), LoadLimits.defaults());
    }

    private static String text(MemorySegment record) {
        return new String(record.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    @Test
    void lookupsIgnoreAsciiCaseOnlyAndContainsExactlyComparesExactly() throws CheckpointException {
        ZipArchive archive = open(RawZip.create().stored("archive/data.pkl", "pickle").stored("archive/Data/0", "zero")
                .stored("archive/é", "e acute").stored("archive/É", "E acute").stored("archive/data/日本", "japan"));
        assertEquals("archive/", archive.rootFolder());
        assertEquals(List.of("data.pkl", "Data/0", "é", "É", "data/日本"), archive.recordNames());
        assertEquals("zero", text(archive.record("data/0").orElseThrow()));
        assertEquals("zero", text(archive.record("DATA/0").orElseThrow()));
        assertEquals("pickle", text(archive.record("DATA.PKL").orElseThrow()));
        assertTrue(archive.contains("data/0"));
        assertFalse(archive.containsExactly("data/0"));
        assertTrue(archive.containsExactly("Data/0"));
        assertTrue(archive.containsExactly("data.pkl"));
        assertFalse(archive.containsExactly("Data.pkl"));
        // Letters past ASCII keep their case: two records, each found by its own name only.
        assertEquals("e acute", text(archive.record("é").orElseThrow()));
        assertEquals("E acute", text(archive.record("É").orElseThrow()));
        assertEquals("japan", text(archive.record("DATA/日本").orElseThrow()));
        assertTrue(archive.containsExactly("data/日本"));
        assertFalse(archive.containsExactly("DATA/日本"));
        assertTrue(archive.record("data/日").isEmpty());
        assertTrue(archive.record("data/1").isEmpty());
        assertTrue(archive.record("data/").isEmpty());
        assertTrue(archive.record("").isEmpty());
        assertTrue(archive.record("archive/data.pkl").isEmpty()); // names are relative to the root folder
        assertFalse(archive.contains("\uD800"));
        assertFalse(archive.contains("data/\uDC00"));
        assertFalse(archive.contains("data/?")); // what a lone surrogate would become if replaced
    }

    @Test
    void aNameAskedForInTwoPartsIsFoundAsTheirJoin() throws CheckpointException {
        ZipArchive archive = open(RawZip.create().stored("archive/data/0", "zero").stored("archive/data/日本", "japan")
                .stored("archive/data/\uD83D\uDE00", "smile"));
        assertEquals("zero", text(archive.record("data/", "0").orElseThrow()));
        assertEquals("zero", text(archive.record("DATA/", "0").orElseThrow()));
        assertEquals("zero", text(archive.record("da", "TA/0").orElseThrow()));
        assertEquals("zero", text(archive.record("", "data/0").orElseThrow()));
        assertEquals("zero", text(archive.record("data/0", "").orElseThrow()));
        assertEquals("japan", text(archive.record("data/", "日本").orElseThrow()));
        assertEquals("japan", text(archive.record("data/日", "本").orElseThrow()));
        // a surrogate pair split between the parts is one character of the joined name
        assertEquals("smile", text(archive.record("data/\uD83D", "\uDE00").orElseThrow()));
        assertTrue(archive.record("data/", "00").isEmpty());
        assertTrue(archive.record("data", "0").isEmpty());
        assertTrue(archive.record("data/", "\uDE00").isEmpty());
    }

    @Test
    void namesThatDifferOnlyInAsciiCaseAreRefusedWithBothNames() {
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> open(RawZip.create()
                .stored("archive/data/ABC", "1").stored("archive/data/é", "2").stored("archive/DATA/abc", "3")));
        assertTrue(e.getMessage().contains("records 'archive/data/ABC' and 'archive/DATA/abc' differ only in case"),
                e.getMessage());
        MalformedCheckpointException twice = assertThrows(MalformedCheckpointException.class, () -> open(RawZip
                .create().stored("archive/data/é", "1").stored("archive/data/é", "2")));
        assertTrue(twice.getMessage().contains("record 'archive/data/é' appears twice in the archive"),
                twice.getMessage());
    }

    @Test
    void everyRecordOfALargeDirectoryIsFound() throws CheckpointException {
        // More than a megabyte of names: the table keeps them in several chunks.
        RawZip zip = RawZip.create();
        List<String> names = new ArrayList<>();
        String padding = "x".repeat(200);
        for (int i = 0; i < 6_000; i++) {
            names.add("data/" + padding + i);
            zip.stored("archive/data/" + padding + i, Integer.toString(i));
        }
        ZipArchive archive = open(zip);
        assertEquals(names, archive.recordNames());
        for (int i = 0; i < names.size(); i++) {
            assertArrayEquals(Integer.toString(i).getBytes(StandardCharsets.US_ASCII),
                    archive.record(names.get(i).toUpperCase()).orElseThrow().toArray(ValueLayout.JAVA_BYTE));
            assertTrue(archive.containsExactly(names.get(i)));
        }
        assertTrue(archive.record("data/" + padding + 6_000).isEmpty());
    }

    /**
     * Records named data/N, which torch.save writes one per storage, are found by their number without the name
     * index; a name that only looks like one (a leading zero, another case, a number past the record count) is
     * found as any other name is, and a key that only looks like a number finds only its own record.
     */
    @Test
    void numberedDataRecordsAndTheirLookAlikes() throws CheckpointException {
        ZipArchive archive = open(RawZip.create().stored("archive/data.pkl", "pickle").stored("archive/data/0", "zero")
                .stored("archive/data/2", "two").stored("archive/data/07", "oh seven").stored("archive/DATA/3", "three")
                .stored("archive/data/123456", "big").stored("archive/data/+1", "plus one"));
        assertEquals("zero", text(archive.record("data/", "0").orElseThrow()));
        assertEquals("two", text(archive.record("data/", "2").orElseThrow()));
        assertEquals("two", text(archive.record("DATA/", "2").orElseThrow()));
        assertEquals("oh seven", text(archive.record("data/", "07").orElseThrow()));
        assertTrue(archive.record("data/", "7").isEmpty());
        assertEquals("three", text(archive.record("data/", "3").orElseThrow())); // by its name, case ignored
        assertTrue(archive.containsExactly("DATA/3"));
        assertFalse(archive.containsExactly("data/3"));
        assertEquals("big", text(archive.record("data/", "123456").orElseThrow())); // past the count: by name
        assertEquals("plus one", text(archive.record("data/", "+1").orElseThrow()));
        assertTrue(archive.record("data/", "1").isEmpty());
        assertTrue(archive.record("data/", "00").isEmpty());
        assertTrue(archive.record("data/", "").isEmpty());
        assertTrue(archive.containsExactly("data/0"));
        assertTrue(archive.containsExactly("data/2"));
    }
}
