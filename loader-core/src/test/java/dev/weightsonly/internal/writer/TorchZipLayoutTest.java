package dev.weightsonly.internal.writer;

import dev.weightsonly.writer.TorchWriter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.Json;
import dev.weightsonly.testing.Python;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The zip layout: byte for byte what PyTorch's writer produces (torch-spec 2.2, 2.3), checked against the
 * committed PyTorch 1.13 files, and zip64 past 4 GiB checked by PyTorch itself.
 */
class TorchZipLayoutTest {

    @TempDir
    Path tmp;

    static Stream<String> zipFixtures() throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode f : Json.parse(Files.readString(Fixtures.dir().resolve("index.json"))).get("fixtures")) {
            String name = f.get("name").asText();
            byte[] head;
            try (var in = Files.newInputStream(Fixtures.file(name))) {
                head = in.readNBytes(2);
            }
            if (head[0] == 'P' && head[1] == 'K' && f.get("expected_source").asText().equals("torch.load")) {
                names.add(name);
            }
        }
        return names.stream();
    }

    /**
     * The same records, in the same order, through {@link TorchZipWriter} give the very bytes PyTorch 1.13
     * wrote: headers, FB padding, data descriptors, central directory, zip64 end records.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("zipFixtures")
    void sameRecordsGiveTheBytesPyTorchWrote(String name) throws IOException {
        Path original = Fixtures.file(name);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipFile zip = new ZipFile(original.toFile())) {
            List<? extends ZipEntry> entries = Collections.list(zip.entries());
            String folder = entries.get(0).getName().substring(0, entries.get(0).getName().indexOf('/'));
            TorchZipWriter writer = new TorchZipWriter(Channels.newChannel(out), folder);
            for (ZipEntry e : entries) {
                writer.add(e.getName().substring(folder.length() + 1), zip.getInputStream(e).readAllBytes());
            }
            writer.finish();
        }
        assertArrayEquals(Files.readAllBytes(original), out.toByteArray());
    }

    /**
     * The pickle itself is PyTorch's, byte for byte, for these fixtures: same opcodes, same memo numbering,
     * same batching. (Elsewhere the bytes differ without changing the value: weightsonly memoizes equal strings
     * once where Python memoizes each string object, and writes a loaded nn.Parameter as the tensor with
     * requires_grad it loads as.)
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"sd_linear", "sd_embedding_tied", "dtypes",
            "python_values", "shared_refs", "tensor_root", "long_containers", "quantized", "sparse"})
    void picklesAreByteForBytePyTorchs(String name) throws IOException {
        Path out = tmp.resolve(name + ".pt");
        try (Checkpoint c = Checkpoint.load(Fixtures.file(name))) {
            TorchWriter.save(c.root(), out);
        }
        try (ZipFile theirs = new ZipFile(Fixtures.file(name).toFile()); ZipFile ours = new ZipFile(out.toFile())) {
            assertArrayEquals(theirs.getInputStream(theirs.getEntry(name + "/data.pkl")).readAllBytes(),
                    ours.getInputStream(ours.getEntry(name + "/data.pkl")).readAllBytes());
        }
    }

    @Test
    void everyRecordIsStoredAlignedAndDescribed() throws IOException {
        Path out = tmp.resolve("layout.pt");
        try (Checkpoint c = Checkpoint.load(Fixtures.file("dtypes"))) {
            TorchWriter.save(c.root(), out);
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        int records = 0;
        int at = 0;
        while (b.getInt(at) == 0x04034b50) {
            int flags = b.getShort(at + 6) & 0xFFFF;
            assertEquals(0, b.getShort(at + 4), "version needed");
            assertEquals(0, b.getShort(at + 8), "STORED");
            assertEquals(0, b.getInt(at + 10), "DOS time and date 0");
            assertEquals(0, b.getInt(at + 14) | b.getInt(at + 18) | b.getInt(at + 22), "CRC and sizes in the descriptor");
            int nameLength = b.getShort(at + 26);
            int extraLength = b.getShort(at + 28);
            String name = new String(b.array(), at + 30, nameLength, StandardCharsets.UTF_8);
            assertTrue(name.startsWith("layout/"), name);
            int extra = at + 30 + nameLength;
            assertEquals('F', b.get(extra));
            assertEquals('B', b.get(extra + 1));
            int pad = b.getShort(extra + 2);
            assertEquals(extraLength, 4 + pad);
            for (int i = 0; i < pad; i++) {
                assertEquals('Z', b.get(extra + 4 + i));
            }
            int data = extra + 4 + pad;
            assertEquals(0, data % 64, name + " data aligned to 64");
            long size;
            try (ZipFile z = new ZipFile(out.toFile())) {
                byte[] content = z.getInputStream(z.getEntry(name)).readAllBytes();
                size = content.length;
                assertArrayEquals(content, Arrays.copyOfRange(b.array(), data, data + content.length));
                CRC32 crc = new CRC32();
                crc.update(content);
                if (size > 0) {
                    assertEquals(0x0808, flags);
                    int d = data + content.length;
                    assertEquals(0x08074b50, b.getInt(d));
                    assertEquals((int) crc.getValue(), b.getInt(d + 4));
                    assertEquals(size, b.getInt(d + 8));
                    assertEquals(size, b.getInt(d + 12));
                    at = d + 16;
                } else {
                    assertEquals(0x0800, flags, "no descriptor for an empty record, as miniz writes it");
                    at = data;
                }
                assertEquals(crc.getValue(), z.getEntry(name).getCrc());
            }
            records++;
        }
        assertEquals(0x02014b50, b.getInt(at), "the central directory follows the last record");
        assertTrue(records > 3);
    }

    /**
     * One storage over 4 GiB (a sparse file, mapped: the writer streams it under the tests' 512 MB heap) and a
     * small one after it: the big record gets zip64 sizes, the small one a zip64 offset, both 8-byte data
     * descriptors; weightsonly, java.util.zip and PyTorch itself read the archive back.
     */
    @Test
    void zip64WhenARecordOrAnOffsetReaches4GiB() throws IOException {
        long bigBytes = (4L << 30) + 16;
        Path sparse = tmp.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(bigBytes);
            f.seek(bigBytes - 8);
            f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            f.seek(0);
            f.write(new byte[] {9, 8, 7});
        }
        Path out = tmp.resolve("huge.pt");
        String before;
        try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(sparse, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, bigBytes, arena);
            Storage big = Storage.of(mapped, "big", "cpu");
            ByteBuffer floats = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f)
                    .putFloat(3f);
            Tensor small = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(floats.array()), "s", "cpu"),
                    DType.FLOAT32, 0, 3);
            PyDict root = PyDict.builder(PyDict.Kind.ORDERED_DICT)
                    .put("tail", Tensor.of(big, DType.UINT8, bigBytes - 12, new long[] {12}, new long[] {1}))
                    .put("head", Tensor.of(big, DType.UINT8, 0, new long[] {2, 2}, new long[] {1, 2}))
                    .put("small", small)
                    .build();
            before = CanonicalDump.toJson(root, 100, 1000);
            TorchWriter.save(root, out);
        } finally {
            Files.delete(sparse);
        }
        try (Checkpoint back = Checkpoint.load(out)) {
            assertEquals(before, CanonicalDump.toJson(back.root(), 100, 1000));
        }
        try (ZipFile z = new ZipFile(out.toFile())) {
            assertEquals(bigBytes, z.getEntry("huge/data/0").getSize());
            assertEquals(12, z.getEntry("huge/data/1").getSize());
        }
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
            long bigHeader = localHeaderOf(ch, "huge/data/0");
            ch.read(h, bigHeader);
            int nameLength = h.getShort(26);
            assertEquals(0x0001, h.getShort(30 + nameLength), "zip64 field first");
            assertEquals(16, h.getShort(32 + nameLength), "with both sizes");
            assertEquals(bigBytes, h.getLong(34 + nameLength));
            assertEquals('F', h.get(50 + nameLength));
            long smallHeader = localHeaderOf(ch, "huge/data/1");
            assertTrue(smallHeader > 0xFFFF_FFFFL);
            h.clear();
            ch.read(h, smallHeader);
            nameLength = h.getShort(26);
            assertEquals(8, h.getShort(32 + nameLength), "the offset only");
            assertEquals(smallHeader, h.getLong(34 + nameLength));
            long data = smallHeader + 30 + nameLength + h.getShort(28);
            assertEquals(0, data % 64);
            ByteBuffer d = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(d, data + 12);
            assertEquals(0x08074b50, d.getInt(0));
            assertEquals(12, d.getLong(8), "8-byte sizes in the descriptor");
        }
        Python.Dump torch = Python.torchDumps(List.of(out)).get(out);
        assertNull(torch.error(), torch.error());
        assertNull(Json.firstDifference(torch.dump(), Json.parse(before)), "PyTorch reads the zip64 archive");
        Files.delete(out);
    }

    /** The local header offset of an entry, from the central directory (java.util.zip does not expose it). */
    private static long localHeaderOf(FileChannel ch, String name) throws IOException {
        long size = ch.size();
        ByteBuffer tail = ByteBuffer.allocate(98).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(tail, size - 98);
        assertEquals(0x06064b50, tail.getInt(0), "zip64 end of central directory");
        long directory = tail.getLong(48);
        long directorySize = tail.getLong(40);
        ByteBuffer cd = ByteBuffer.allocate((int) directorySize).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(cd, directory);
        int at = 0;
        while (at < directorySize) {
            int nameLength = cd.getShort(at + 28);
            int extraLength = cd.getShort(at + 30);
            String entry = new String(cd.array(), at + 46, nameLength, StandardCharsets.UTF_8);
            long offset = cd.getInt(at + 42) & 0xFFFF_FFFFL;
            if (entry.equals(name)) {
                if (offset == 0xFFFF_FFFFL) {
                    int extra = at + 46 + nameLength;
                    assertEquals(1, cd.getShort(extra));
                    int fieldLength = cd.getShort(extra + 2);
                    offset = cd.getLong(extra + 4 + fieldLength - 8);
                }
                return offset;
            }
            at += 46 + nameLength + extraLength;
        }
        throw new AssertionError(name + " not in the central directory");
    }
}
