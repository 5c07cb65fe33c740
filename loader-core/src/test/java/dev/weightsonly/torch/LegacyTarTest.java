package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tar format of PyTorch 0.1.x (fixtures/tar/gen_tar.py; PyTorch 1.13's own reader agrees with it). */
class LegacyTarTest {

    static final Path FILE = Fixtures.dir().resolve("tar/tar_checkpoint.pt");

    @Test
    void loadsToTheSameDumpAsPyTorch() throws IOException {
        try (Checkpoint c = Checkpoint.load(FILE)) {
            String dump = CanonicalDump.toJson(c.root(), 100, 100_000);
            String expected = Files.readString(Fixtures.dir().resolve("tar/tar_checkpoint.expected.json"));
            assertNull(Json.firstDifference(Json.parse(dump), Json.parse(expected)));
            PyDict root = (PyDict) c.root();
            // Views of one storage share it, and every storage is a slice of the mapped file.
            assertSame(((Tensor) root.get("weight")).storage(), ((Tensor) root.get("row")).storage());
            assertTrue(((Tensor) root.get("bias")).storage().bytes().isMapped());
        }
    }

    /** Rewrites the int64 at {@code offsetInMember} of the tensors member (the tar stores members at 512-byte blocks). */
    private static Path corrupt(Path dir, String member, int offsetInMember, long value) throws IOException {
        byte[] bytes = Files.readAllBytes(FILE);
        int header = 0;
        while (true) {
            String name = new String(bytes, header, 100, java.nio.charset.StandardCharsets.US_ASCII).trim()
                    .replace("\0", "");
            long size = Long.parseLong(new String(bytes, header + 124, 11, java.nio.charset.StandardCharsets.US_ASCII)
                    .trim(), 8);
            int data = header + 512;
            if (name.equals(member)) {
                ByteBuffer.wrap(bytes, data + offsetInMember, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
                break;
            }
            header = data + (int) ((size + 511) / 512 * 512);
        }
        Path out = dir.resolve("corrupt.pt");
        Files.write(out, bytes);
        return out;
    }

    @Test
    void aStorageCountLargerThanTheMemberIsRefused(@TempDir Path dir) throws IOException {
        // storages member: pickle(5 storages) = 80 02 4B 05 2E (5 bytes), then pickle((1000, 'cpu', FloatStorage)).
        byte[] bytes = Files.readAllBytes(FILE);
        Path file = dir.resolve("t.pt");
        Files.write(file, bytes);
        try (Checkpoint c = Checkpoint.load(file)) {
            assertTrue(c.tensorCount() == 5);
        }
        // Find the first storage's element count: it follows the (key, location, type) pickle; search for 12L.
        int member = indexOfMember(bytes, "storages");
        int at = indexOfLong(bytes, member, 12L);
        Path bad = corrupt(dir, "storages", at - member, Long.MAX_VALUE / 2);
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(bad));
        assertTrue(e.getMessage().contains("claims"), e.getMessage());
    }

    private static int indexOfMember(byte[] bytes, String member) {
        int header = 0;
        while (true) {
            String name = new String(bytes, header, 100, java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "");
            long size = Long.parseLong(new String(bytes, header + 124, 11, java.nio.charset.StandardCharsets.US_ASCII)
                    .trim(), 8);
            if (name.equals(member)) {
                return header + 512;
            }
            header = header + 512 + (int) ((size + 511) / 512 * 512);
        }
    }

    private static int indexOfLong(byte[] bytes, int from, long value) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i + 8 <= bytes.length; i++) {
            if (b.getLong(i) == value) {
                return i;
            }
        }
        throw new AssertionError("no " + value);
    }

    @Test
    void aTensorViewOutsideItsStorageIsRefused(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(FILE);
        int member = indexOfMember(bytes, "tensors");
        // The first tensor is weight, shape (3, 4): its sizes are the int64s 3 and 4; make it (3, 400).
        int at = indexOfLong(bytes, member, 3L);
        Path bad = corrupt(dir, "tensors", at + 8 - member, 400L);
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(bad));
        assertTrue(e.getMessage().contains("tensors") && e.getMessage().contains("storage"), e.getMessage());
    }
}
