package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.writer.TorchWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copying loads of zip checkpoints read the pickle in place (a temporary mapping of a FileInputStream's
 * file, or the caller's array) and copy the storages, in parallel: what they return owns all its bytes, keeps
 * shared storages shared, and does not change when the file or the array does.
 */
class CopyingLoadTest {

    @TempDir
    Path dir;

    private static String dump(Checkpoint c) {
        return CanonicalDump.toJson(c.root(), 1000, 10_000_000);
    }

    @Test
    void aFileInputStreamLoadOwnsItsBytesAndLeavesTheStreamAtItsEnd() throws IOException {
        Path file = dir.resolve("tied.pt");
        Files.copy(Fixtures.file("sd_embedding_tied"), file);
        String expected;
        try (Checkpoint mapped = Checkpoint.load(file)) {
            expected = dump(mapped);
        }
        Checkpoint c;
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            c = Checkpoint.load(in, "tied.pt");
            assertEquals(-1, in.read(), "the stream is read to its end");
        }
        try (c) {
            assertFalse(c.isMapped());
            Map<String, Tensor> tensors = c.tensors();
            // Tied weights: two entries, one storage, shared after the copy as in the file.
            Tensor embed = tensors.get("embed.weight");
            Tensor head = tensors.get("head.weight");
            assertSame(embed.storage(), head.storage());
            // Overwrite and delete the file: the checkpoint holds its own copy.
            Files.write(file, new byte[(int) Files.size(file)], StandardOpenOption.TRUNCATE_EXISTING);
            Files.delete(file);
            assertEquals(expected, dump(c));
            for (Tensor t : tensors.values()) {
                assertTrue(t.storage().bytes().isNative(), "storages are native memory of the checkpoint");
            }
        }
    }

    @Test
    void aFileInputStreamIsReadFromItsPosition() throws IOException {
        byte[] checkpoint = Fixtures.bytes("train_checkpoint");
        Path file = dir.resolve("prefixed.bin");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write("a header of some other format\n".getBytes());
            out.write(checkpoint);
        }
        String expected;
        try (Checkpoint mapped = Checkpoint.load(Fixtures.file("train_checkpoint"))) {
            expected = dump(mapped);
        }
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            in.skipNBytes(30);
            try (Checkpoint c = Checkpoint.load(in, "prefixed")) {
                assertEquals(expected, dump(c));
            }
        }
    }

    @Test
    void readingAfterCloseOfAFileInputStreamLoadThrows() throws IOException {
        Checkpoint c;
        try (FileInputStream in = new FileInputStream(Fixtures.file("big_tensor").toFile())) {
            c = Checkpoint.load(in, "big_tensor-stream");
        }
        Tensor t = c.tensors().values().iterator().next();
        assertTrue(Float.isFinite(t.getFloat(0)));
        c.close();
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
    }

    @Test
    void aByteArrayLoadDoesNotSeeLaterChangesToTheArray() throws IOException {
        byte[] bytes = Fixtures.bytes("sd_mlp_nested");
        String expected;
        try (Checkpoint mapped = Checkpoint.load(Fixtures.file("sd_mlp_nested"))) {
            expected = dump(mapped);
        }
        try (Checkpoint c = Checkpoint.load(bytes, "sd_mlp_nested")) {
            Arrays.fill(bytes, (byte) 0x55);
            assertEquals(expected, dump(c));
        }
    }

    /** One record over 128 MiB (copied in parallel parts) between small ones (grouped): every byte arrives. */
    @Test
    void largeAndSmallRecordsAreCopiedExactly() throws IOException {
        long big = (300L << 20) / 4 + 3; // floats: not a multiple of the 64 MiB part
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bigBytes = arena.allocate(big * 4, 64);
            for (long i = 0; i < big; i++) {
                bigBytes.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (i % 1_000_003));
            }
            PyDict.Builder root = PyDict.builder(PyDict.Kind.ORDERED_DICT);
            for (int i = 0; i < 50; i++) {
                MemorySegment small = arena.allocate(4L * (i + 1), 4);
                for (int j = 0; j <= i; j++) {
                    small.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j, i * 1000 + j);
                }
                root.put("small." + i, Tensor.contiguousView(Storage.of(small, "s" + i, "cpu"), DType.FLOAT32, 0,
                        i + 1));
                if (i == 25) {
                    root.put("big", Tensor.contiguousView(Storage.of(bigBytes, "big", "cpu"), DType.FLOAT32, 0, big));
                }
            }
            Path file = dir.resolve("mixed.pt");
            TorchWriter.save(root.build(), file);
            try (FileInputStream in = new FileInputStream(file.toFile()); Checkpoint c = Checkpoint.load(in, "mixed")) {
                Map<String, Tensor> tensors = c.tensors();
                MemorySegment copied = tensors.get("big").contiguousBytes();
                assertEquals(-1, MemorySegment.mismatch(bigBytes, 0, big * 4, copied, 0, copied.byteSize()));
                for (int i = 0; i < 50; i++) {
                    float[] expected = new float[i + 1];
                    for (int j = 0; j <= i; j++) {
                        expected[j] = i * 1000 + j;
                    }
                    Tensor t = tensors.get("small." + i);
                    assertArrayEquals(expected, t.toFloatArray(), "small." + i);
                    assertEquals(0, t.storage().bytes().address() % 64, "each record 64-byte aligned");
                    assertNotSame(bigBytes, t.storage().bytes());
                }
            }
        }
    }

    /**
     * A stream of a large archive that the loader reads into the heap (not a FileInputStream): its records are
     * copied into memory made ahead while it was read (Prefaulted) and into fresh memory past that, records
     * larger than what is made ahead included, and every byte arrives; closing the checkpoint releases it all.
     */
    @Test
    void aLargeOpaqueStreamIsCopiedExactlyAndReleasedOnClose() throws IOException {
        int[] floats = new int[60];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = i < 50 ? (3 << 20) / 8 + i : i < 59 ? (6 << 20) / 4 + i : (20 << 20) / 4 + 1;
        }
        Path file = dir.resolve("opaque.pt");
        try (Arena arena = Arena.ofConfined()) {
            PyDict.Builder root = PyDict.builder(PyDict.Kind.ORDERED_DICT);
            for (int i = 0; i < floats.length; i++) {
                MemorySegment bytes = arena.allocate(4L * floats[i], 4);
                for (int j = 0; j < floats[i]; j++) {
                    bytes.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j, i * 7 + j % 1001);
                }
                root.put("t" + i, Tensor.contiguousView(Storage.of(bytes, "s" + i, "cpu"), DType.FLOAT32, 0,
                        floats[i]));
            }
            TorchWriter.save(root.build(), file);
        }
        Checkpoint c;
        try (InputStream in = Files.newInputStream(file); Checkpoint mapped = Checkpoint.load(file)) {
            c = Checkpoint.load(in, "opaque");
            for (int i = 0; i < floats.length; i++) {
                Tensor t = c.tensors().get("t" + i);
                MemorySegment expected = mapped.tensors().get("t" + i).contiguousBytes();
                assertEquals(-1, expected.mismatch(t.contiguousBytes()), "t" + i);
                assertEquals(0, t.storage().bytes().address() % 64, "t" + i + " 64-byte aligned");
                assertTrue(t.storage().bytes().isNative(), "t" + i + " copied out of the heap array");
            }
        }
        Tensor last = c.tensors().get("t59");
        c.close();
        assertThrows(IllegalStateException.class, () -> last.getFloat(0));
    }
}
