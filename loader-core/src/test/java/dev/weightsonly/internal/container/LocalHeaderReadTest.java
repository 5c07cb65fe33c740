package dev.weightsonly.internal.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.RawZip;
import dev.weightsonly.writer.TorchWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ZipArchive#readLocalHeaders}: reading the local headers and data descriptors with positional reads gives
 * every record exactly what reading them through the mapping gives (its bytes, or the same refusal), for dense
 * archives (many small records, several 64 KiB reads), sparse ones (large records, one small read each), long
 * extra fields, and archives whose headers or descriptors were damaged; and a record never asked for is not
 * refused because its header is bad, as without positional reads.
 */
class LocalHeaderReadTest {

    @TempDir
    Path dir;

    /** A state dict of {@code count} float32 tensors of {@code elements} elements each, written as torch does. */
    private Path checkpoint(String name, int count, int elements) throws IOException {
        PyDict.Builder root = PyDict.builder(PyDict.Kind.ORDERED_DICT);
        for (int i = 0; i < count; i++) {
            ByteBuffer b = ByteBuffer.allocate(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int j = 0; j < elements; j++) {
                b.putFloat(i + j / 1000f);
            }
            Storage storage = Storage.of(MemorySegment.ofArray(b.array()), "s" + i, "cpu");
            root.put("t" + i, Tensor.contiguousView(storage, DType.FLOAT32, 0, elements));
        }
        Path file = dir.resolve(name);
        TorchWriter.save(root.build(), file);
        return file;
    }

    /** What each record gives through the mapping alone, and with positional reads first: must be the same. */
    private static int assertSameOutcomes(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            Location where = Location.of(file.toString());
            ZipArchive mapped = ZipArchive.open(bytes, where, LoadLimits.defaults());
            ZipArchive read = ZipArchive.open(bytes, where, LoadLimits.defaults());
            read.readLocalHeaders(channel);
            List<String> names = mapped.recordNames();
            for (String name : names) {
                assertEquals(outcome(mapped, name), outcome(read, name), name);
            }
            return read.positionallyChecked();
        }
    }

    private static String outcome(ZipArchive archive, String name) {
        try {
            MemorySegment record = archive.record(name).orElseThrow();
            return "offset " + record.address() + ", " + record.byteSize() + " bytes";
        } catch (CheckpointException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** The offset of {@code name}'s local header, from the central directory. */
    private static long localHeader(Path file, String name) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            byte[] wanted = name.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (long at = 0; at + 4 <= bytes.byteSize(); at++) {
                if (bytes.get(ZipChecks.U32, at) == 0x02014B50 && bytes.get(ZipChecks.U16, at + 28) == wanted.length
                        && MemorySegment.mismatch(bytes, at + 46, at + 46 + wanted.length,
                                MemorySegment.ofArray(wanted), 0, wanted.length) == -1) {
                    return bytes.get(ZipChecks.U32, at + 42) & 0xFFFF_FFFFL;
                }
            }
        }
        throw new AssertionError("no " + name);
    }

    private Path damaged(Path file, String suffix, long offset, byte value) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[Math.toIntExact(offset)] = value;
        Path out = dir.resolve(file.getFileName() + "." + suffix);
        Files.write(out, bytes);
        return out;
    }

    private static short u16(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(b, offset);
            return b.getShort(0);
        }
    }

    @Test
    void denseAndSparseArchivesAreCheckedByPositionalReadsAlone() throws IOException {
        Path dense = checkpoint("dense.pt", 2500, 3);    // ~2,500 records within a few 64 KiB reads
        Path sparse = checkpoint("sparse.pt", 6, 60_000); // 240 KB records: one small read each
        assertEquals(2503, assertSameOutcomes(dense), "every record of the dense archive checked without the mapping");
        assertEquals(9, assertSameOutcomes(sparse), "every record of the sparse archive checked without the mapping");
        try (Checkpoint c = Checkpoint.load(dense)) {
            assertEquals(2500, c.tensorCount());
            assertEquals(2499.002f, c.stateDict().tensor("t2499").toFloatArray()[2]);
        }
    }

    @Test
    void damagedHeadersAndDescriptorsGetTheSameRefusal() throws IOException {
        Path file = checkpoint("base.pt", 300, 5);
        String root = "base/";
        List<Path> variants = new ArrayList<>();
        for (String record : new String[] {"data/0", "data/150", "data/299", "data.pkl"}) {
            long header = localHeader(file, root + record);
            int nameLength = u16(file, header + 26);
            int extraLength = u16(file, header + 28);
            long data = header + 30 + nameLength + extraLength;
            String tag = record.replace('/', '_');
            variants.add(damaged(file, tag + ".signature", header, (byte) 0x51));
            variants.add(damaged(file, tag + ".name", header + 30 + nameLength - 1, (byte) 'x'));
            variants.add(damaged(file, tag + ".flags", header + 6, (byte) 0x00));
            variants.add(damaged(file, tag + ".extra", header + 29, (byte) 0x40)); // extra field 16 KiB longer
            long size = record.equals("data.pkl") ? -1 : 20;
            if (size > 0) {
                variants.add(damaged(file, tag + ".descriptor", data + size + 5, (byte) 0x7F)); // its CRC
            }
        }
        for (Path variant : variants) {
            int checked = assertSameOutcomes(variant);
            assertTrue(checked >= 300, variant + ": only " + checked + " records checked by positional reads");
            String viaFile = refusal(() -> Checkpoint.load(variant).close());
            String viaBytes = refusal(() -> Checkpoint.load(Files.readAllBytes(variant), variant.toString()).close());
            assertEquals(viaBytes, viaFile, variant.toString());
        }
    }

    @Test
    void aLongExtraFieldIsReadInFull() throws IOException {
        // data/0 has a 3,000-byte padding field, more than one guess of a header's length covers.
        byte[] pickle = PickleBuilder.protocol(2).emptyDict().str("w")
                .tensorV2("torch.FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}).op('s').stop().bytes();
        byte[] floats = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array();
        String[] names = {"a/data.pkl", "a/data/0", "a/version"};
        byte[][] data = {pickle, floats, "3\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)};
        byte[][] extras = {new byte[0], RawZip.paddingExtra(3000), RawZip.paddingExtra(7)};
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        long[] offsets = new long[names.length];
        for (int i = 0; i < names.length; i++) {
            offsets[i] = out.size();
            out.writeBytes(RawZip.localHeader(names[i], 0, RawZip.STORED, RawZip.crc(data[i]), data[i].length,
                    data[i].length, extras[i]));
            out.writeBytes(data[i]);
        }
        long directory = out.size();
        for (int i = 0; i < names.length; i++) {
            out.writeBytes(RawZip.centralHeader(names[i], 0, RawZip.STORED, RawZip.crc(data[i]), data[i].length,
                    data[i].length, offsets[i]));
        }
        out.writeBytes(RawZip.endOfCentralDirectory(names.length, out.size() - directory, directory));
        Path file = dir.resolve("extra-long.pt");
        Files.write(file, out.toByteArray());
        assertEquals(3, assertSameOutcomes(file));
        try (Checkpoint c = Checkpoint.load(file)) {
            assertEquals(-2f, c.stateDict().tensor("w").toFloatArray()[1]);
        }
    }

    @Test
    void aBadHeaderOfARecordNeverReadIsNotRefused() throws IOException {
        // The pickle names data/0 only; the record a/extra, whose local header names another record than the
        // directory does, is never asked for: torch never reads that header, and neither does a load here.
        byte[] pickle = PickleBuilder.protocol(2).emptyDict().str("w")
                .tensorV2("torch.FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}).op('s').stop().bytes();
        byte[] floats = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array();
        byte[] bytes = RawZip.create().stored("a/data.pkl", pickle).stored("a/data/0", floats)
                .stored("a/extra", new byte[100]).stored("a/version", "3\n").bytes();
        Path out = dir.resolve("unused.pt");
        Files.write(out, bytes);
        long header = localHeader(out, "a/extra");
        bytes[Math.toIntExact(header + 30 + 2)] = 'X';
        Files.write(out, bytes);
        try (Checkpoint c = Checkpoint.load(out)) {
            assertEquals(-2f, c.stateDict().tensor("w").toFloatArray()[1]);
        }
        assertEquals(3, assertSameOutcomes(out), "all but a/extra checked by positional reads");
    }

    private interface Load {
        void run() throws IOException;
    }

    private static String refusal(Load load) {
        try {
            load.run();
            return "loaded";
        } catch (IOException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }
}
