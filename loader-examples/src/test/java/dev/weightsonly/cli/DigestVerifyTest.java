package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code verify --sha256} and {@code verify --manifest}: a flipped byte anywhere is caught. */
class DigestVerifyTest {

    @TempDir
    Path tmp;

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void aFlippedByteAnywhereFailsTheDigest() throws Exception {
        byte[] original = Files.readAllBytes(Cli.fixture("sd_linear.pt"));
        String hex = sha256(original);
        Path good = Files.write(tmp.resolve("good.pt"), original);
        Cli.Run ok = Cli.run("verify", "--sha256", hex, good.toString());
        assertEquals(0, ok.status(), ok.out() + ok.err());
        assertTrue(ok.out().contains("good.pt: OK"));
        // The first, the middle and the last byte, and one inside the last tensor's storage (zip records are
        // stored uncompressed; the storages sit before the central directory, the last ~1 KiB of this file).
        for (int at : new int[] {0, original.length / 2, original.length - 1, tensorByte(original)}) {
            byte[] bad = original.clone();
            bad[at] ^= (byte) 0x80;
            Path file = Files.write(tmp.resolve("bad-" + at + ".pt"), bad);
            Cli.Run r = Cli.run("verify", "--sha256", hex, file.toString());
            assertEquals(1, r.status(), "flipped at " + at);
            assertTrue(r.out().contains(hex) && r.out().contains(sha256(bad)), r.out());
        }
    }

    /** An offset inside the bytes of the state dict's first tensor, found by its values. */
    static int tensorByte(byte[] file) throws Exception {
        try (dev.weightsonly.Checkpoint c = dev.weightsonly.Checkpoint.load(file, "x")) {
            var t = c.tensors().values().iterator().next();
            byte[] values = dev.weightsonly.internal.writer.TensorBytes.blocks(t).next().bytes()
                    .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            for (int i = 0; i + values.length <= file.length; i++) {
                if (java.util.Arrays.equals(file, i, i + values.length, values, 0, values.length)) {
                    return i + values.length / 2;
                }
            }
        }
        throw new AssertionError("the tensor's bytes are not in the file");
    }

    @Test
    void aManifestChecksEveryFileItListsRelativeToItself() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("repo/sub"));
        byte[] a = Files.readAllBytes(Cli.fixture("sd_linear.pt"));
        byte[] b = "second file".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Files.write(tmp.resolve("repo/a.pt"), a);
        Files.write(dir.resolve("b b.bin"), b);
        Path sums = Files.writeString(tmp.resolve("repo/SHA256SUMS"),
                sha256(a) + "  a.pt\n" + sha256(b).toUpperCase(java.util.Locale.ROOT) + " *sub/b b.bin\n");
        Cli.Run ok = Cli.run("verify", "--manifest", sums.toString());
        assertEquals(0, ok.status(), ok.out() + ok.err());
        assertTrue(ok.out().contains("a.pt: OK") && ok.out().contains("sub/b b.bin: OK"), ok.out());

        // One file only, given by its own path.
        assertEquals(0, Cli.run("verify", "--manifest", sums.toString(), tmp.resolve("repo/a.pt").toString()).status());
        assertEquals(2, Cli.run("verify", "--manifest", sums.toString(), Cli.fixture("sd_linear.pt").toString())
                .status(), "a file the manifest does not list");

        byte[] bad = a.clone();
        bad[tensorByte(a)] ^= 1;
        Files.write(tmp.resolve("repo/a.pt"), bad);
        Cli.Run r = Cli.run("verify", "--manifest", sums.toString());
        assertEquals(1, r.status());
        assertTrue(r.out().contains("a.pt: FAILED") && r.out().contains("sub/b b.bin: OK"), r.out());

        Files.delete(dir.resolve("b b.bin"));
        assertEquals(2, Cli.run("verify", "--manifest", sums.toString()).status(), "a listed file is missing");
    }

    @Test
    void aMalformedManifestOrDigestIsAUsageError() throws Exception {
        Path sums = Files.writeString(tmp.resolve("SUMS"), "not a digest  a.pt\n");
        Cli.Run r = Cli.run("verify", "--manifest", sums.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("line 1"), r.err());
        assertEquals(2, Cli.run("verify", "--sha256", "abc", Cli.fixture("sd_linear.pt").toString()).status());
        assertEquals(2, Cli.run("verify", Cli.fixture("sd_linear.pt").toString()).status(), "no mode");
    }
}
