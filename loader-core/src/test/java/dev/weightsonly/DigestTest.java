package dev.weightsonly;

import dev.weightsonly.internal.io.Sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.testing.Fixtures;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LoadOptions.Builder#expectSha256}: the file's digest is checked before anything of it is used. */
class DigestTest {

    @TempDir
    Path tmp;

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Where a flipped byte lands: the first, the middle, the last, and one inside a tensor's storage. */
    static List<Long> flipOffsets(byte[] file) throws CheckpointException {
        ZipArchive zip = ZipArchive.open(MemorySegment.ofArray(file), Location.of("t"), LoadLimits.defaults());
        String storage = zip.recordNames().stream().filter(n -> n.startsWith("data/")).findFirst().orElseThrow();
        MemorySegment record = zip.record(storage).orElseThrow();
        long tensorByte = record.address() + record.byteSize() / 2; // a heap slice's address is its array offset
        return List.of(0L, (long) file.length / 2, file.length - 1L, tensorByte);
    }

    @Test
    void theRightDigestLoadsFromAPathAStreamAndAnArray() throws Exception {
        byte[] file = Fixtures.bytes("sd_linear");
        String hex = sha256(file).toUpperCase(java.util.Locale.ROOT); // either case
        LoadOptions options = LoadOptions.builder().expectSha256(hex).build();
        assertEquals(hex.toLowerCase(java.util.Locale.ROOT), options.expectedSha256());
        try (Checkpoint a = Checkpoint.load(Fixtures.file("sd_linear"), options);
             InputStream in = new ByteArrayInputStream(file);
             Checkpoint b = Checkpoint.load(in, "s", options);
             Checkpoint c = Checkpoint.load(file, "a", options)) {
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
            assertEquals(a.tensors().keySet(), c.tensors().keySet());
        }
    }

    @Test
    void aFlippedByteAnywhereIsRefusedNamingBothDigests() throws Exception {
        byte[] original = Fixtures.bytes("sd_linear");
        String expected = sha256(original);
        LoadOptions options = LoadOptions.builder().expectSha256(expected).build();
        for (long at : flipOffsets(original)) {
            byte[] bad = original.clone();
            bad[(int) at] ^= 0x01;
            String actual = sha256(bad);
            Path file = Files.write(tmp.resolve("flipped-" + at + ".pt"), bad);
            List<Executable> loads = List.of(
                    () -> Checkpoint.load(file, options).close(),
                    () -> {
                        try (FileInputStream in = new FileInputStream(file.toFile())) {
                            Checkpoint.load(in, "f", options).close();
                        }
                    },
                    () -> Checkpoint.load(new ByteArrayInputStream(bad), "s", options).close(),
                    () -> Checkpoint.load(bad, "a", options).close());
            for (Executable load : loads) {
                UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, load::run,
                        "flipped byte at " + at);
                assertTrue(e.getMessage().contains(expected) && e.getMessage().contains(actual), e.getMessage());
            }
        }
    }

    @Test
    void withoutADigestAFlippedTensorByteLoadsSilently() throws Exception {
        // Why the digest matters: the byte inside the storage changes a weight, and nothing else notices.
        byte[] bad = Fixtures.bytes("sd_linear");
        long at = flipOffsets(bad).get(3);
        bad[(int) at] ^= 0x01;
        try (Checkpoint c = Checkpoint.load(bad, "a")) {
            assertTrue(c.tensorCount() > 0);
        }
    }

    @Test
    void aShardedLoadRefusesOneDigestForSeveralFiles() {
        LoadOptions options = LoadOptions.builder().expectSha256("0".repeat(64)).build();
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.loadSharded(tmp.resolve("x.index.json"), options));
    }

    @Test
    void aDigestIsSixtyFourHexDigits() {
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.builder().expectSha256("abc"));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.builder().expectSha256("z".repeat(64)));
        assertEquals(null, LoadOptions.builder().expectSha256(null).build().expectedSha256());
    }

    @Test
    void theDigestIsSha256sums() throws IOException {
        // sha256sum of the empty input, a published constant
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Sha256.of(Files.write(tmp.resolve("empty"), new byte[0])));
    }

    interface Executable {
        void run() throws Exception;
    }
}
