package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.RawZip;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB checkpoint loaded under surefire's -Xmx512m: a load that copied tensor bytes could not even fit,
 * so loading at all, with the heap barely moving and every storage a slice of the mapping, shows that the
 * mapped load copies nothing. The file is written sparse (only the non-zero values hit the disk), with
 * correct CRCs and torch's 64-byte data alignment.
 */
class ZeroCopyLoadTest {

    private static final int TENSORS = 256;
    private static final int ELEMENTS = 1 << 20;
    private static final int RECORD_BYTES = ELEMENTS * Float.BYTES;
    private static final String ROOT = "big";

    /** tensor index -> (element index -> value); everything else is 0. */
    private static final Map<Integer, Map<Integer, Float>> KNOWN = new TreeMap<>(Map.of(
            0, new TreeMap<>(Map.of(0, 1.5f, 1, -0.0f, ELEMENTS - 1, 7.0f)),
            17, Map.of(12345, -2.25f),
            128, new TreeMap<>(Map.of(ELEMENTS / 2, Float.MIN_VALUE, ELEMENTS / 2 + 1, Float.MAX_VALUE)),
            200, Map.of(999_999, Float.NEGATIVE_INFINITY),
            255, new TreeMap<>(Map.of(0, 0.1f, ELEMENTS - 1, 42.0f))));

    @TempDir
    Path dir;

    private static String name(int i) {
        return String.format("layers.%03d.weight", i);
    }

    private static byte[] statePickle() {
        PickleBuilder p = PickleBuilder.protocol(2).orderedDict().mark();
        for (int i = 0; i < TENSORS; i++) {
            p.str(name(i)).tensorV2("torch.FloatStorage", Integer.toString(i), ELEMENTS, 0,
                    new long[] {ELEMENTS}, new long[] {1});
        }
        return p.op('u').stop().bytes();
    }

    /** Writes the archive: local header, 64-byte aligned data, central directory, end record. */
    private static void writeCheckpoint(Path file) throws IOException {
        byte[] zeros = new byte[RECORD_BYTES];
        CRC32 zeroCrc = new CRC32();
        zeroCrc.update(zeros);
        List<String> names = new ArrayList<>();
        List<long[]> meta = new ArrayList<>(); // crc, size, header offset
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            long cursor = 0;
            List<Object[]> records = new ArrayList<>();
            records.add(new Object[] {"data.pkl", statePickle()});
            for (int i = 0; i < TENSORS; i++) {
                records.add(new Object[] {"data/" + i, i});
            }
            records.add(new Object[] {"version", "3\n".getBytes(StandardCharsets.US_ASCII)});
            records.add(new Object[] {"byteorder", "little".getBytes(StandardCharsets.US_ASCII)});
            for (Object[] r : records) {
                String full = ROOT + "/" + r[0];
                byte[] nameBytes = full.getBytes(StandardCharsets.UTF_8);
                long start = cursor + 30 + nameBytes.length + 4;
                int padding = (int) ((64 - start % 64) % 64);
                long dataOffset = start + padding;
                long crc;
                long size;
                if (r[1] instanceof byte[] data) {
                    crc = RawZip.crc(data);
                    size = data.length;
                    ch.write(ByteBuffer.wrap(data), dataOffset);
                } else {
                    int t = (Integer) r[1];
                    size = RECORD_BYTES;
                    Map<Integer, Float> values = KNOWN.get(t);
                    if (values == null) {
                        crc = zeroCrc.getValue();
                    } else {
                        ByteBuffer view = ByteBuffer.wrap(zeros).order(ByteOrder.LITTLE_ENDIAN);
                        values.forEach((index, value) -> view.putFloat(index * Float.BYTES, value));
                        CRC32 c = new CRC32();
                        c.update(zeros);
                        crc = c.getValue();
                        for (var e : values.entrySet()) {
                            ByteBuffer four = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                                    .putFloat(e.getValue()).flip();
                            ch.write(four, dataOffset + (long) e.getKey() * Float.BYTES);
                            view.putFloat(e.getKey() * Float.BYTES, 0f);
                        }
                    }
                }
                ch.write(ByteBuffer.wrap(RawZip.localHeader(full, 0x0800, RawZip.STORED, crc, size, size,
                        RawZip.paddingExtra(padding))), cursor);
                names.add(full);
                meta.add(new long[] {crc, size, cursor});
                cursor = dataOffset + size;
            }
            long cdStart = cursor;
            for (int i = 0; i < names.size(); i++) {
                long[] m = meta.get(i);
                byte[] central = RawZip.centralHeader(names.get(i), 0x0800, RawZip.STORED, m[0], m[1], m[1], m[2]);
                ch.write(ByteBuffer.wrap(central), cursor);
                cursor += central.length;
            }
            ch.write(ByteBuffer.wrap(RawZip.endOfCentralDirectory(names.size(), cursor - cdStart, cdStart)), cursor);
        }
    }

    /**
     * Used heap after full collections. (The tests run patched into the named module, which does not read
     * java.management, so this asks {@link Runtime} rather than the MemoryMXBean: the same figure.)
     */
    private static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    /**
     * Bytes of {@code file}'s mappings resident in this process (Linux /proc/self/smaps): pages count only once
     * the process has touched them, so this tells whether a load read tensor data.
     */
    static long residentBytesOf(Path file) throws IOException {
        String path = file.toRealPath().toString();
        long kib = 0;
        boolean inFile = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inFile = line.endsWith(" " + path);
            } else if (inFile && line.startsWith("Rss:")) {
                kib += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kib * 1024;
    }

    @Test
    void readingATensorMakesItsBytesResidentWhichTheMeasurementSees() throws IOException {
        Path file = dir.resolve("control.pt");
        try {
            writeCheckpoint(file);
            try (Checkpoint c = Checkpoint.load(file)) {
                long before = residentBytesOf(file);
                float[] values = c.stateDict().tensor(name(100)).toFloatArray();
                assertEquals(ELEMENTS, values.length);
                long after = residentBytesOf(file);
                assertTrue(after - before >= (long) RECORD_BYTES - (1 << 16),
                        "reading " + RECORD_BYTES + " bytes made only " + (after - before) + " more resident");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aGibibyteCheckpointLoadsMappedWithoutCopyingUnderASmallHeap() throws IOException {
        Path file = dir.resolve("big.pt");
        try {
            writeCheckpoint(file);
            assertTrue(Files.size(file) > (long) TENSORS * RECORD_BYTES, "file is over 1 GiB");
            long maxHeap = Runtime.getRuntime().maxMemory();
            assertTrue(maxHeap < Files.size(file), "the heap (" + maxHeap + ") must be smaller than the file");

            long before = usedHeapAfterGc();
            try (Checkpoint c = Checkpoint.load(file)) {
                long after = usedHeapAfterGc();
                assertTrue(after - before < 64L << 20, "heap grew by " + ((after - before) >> 20) + " MiB");

                assertTrue(c.isMapped());
                // The load read the pickle and the zip directory, and no tensor byte: almost none of the
                // mapping is resident in this process.
                long resident = residentBytesOf(file);
                assertTrue(resident < 16L << 20, "the load made " + (resident >> 20) + " MiB of the file resident");
                assertEquals(TENSORS, c.tensorCount());
                assertEquals(TENSORS, c.storageCount());
                StateDict sd = c.stateDict();
                assertEquals(TENSORS, sd.size());
                List<String> expectedNames = new ArrayList<>();
                for (int i = 0; i < TENSORS; i++) {
                    expectedNames.add(name(i));
                }
                assertEquals(expectedNames, List.copyOf(sd.names()));
                assertEquals((long) TENSORS * RECORD_BYTES, sd.totalBytes());

                Set<Storage> storages = Collections.newSetFromMap(new IdentityHashMap<>());
                for (int i = 0; i < TENSORS; i++) {
                    Tensor t = sd.tensor(name(i));
                    assertEquals(DType.FLOAT32, t.dtype());
                    assertEquals(1, t.dim());
                    assertEquals(ELEMENTS, t.numel());
                    assertEquals(0, t.storageOffset());
                    assertTrue(t.isContiguous());
                    assertTrue(t.storage().bytes().isMapped(), "storage of " + name(i) + " is a slice of the mapping");
                    assertTrue(t.storage().bytes().isNative());
                    assertTrue(t.storage().bytes().isReadOnly());
                    assertTrue(t.contiguousBytes().isMapped());
                    assertEquals(RECORD_BYTES, t.storage().byteSize());
                    assertEquals(Integer.toString(i), t.storage().key());
                    assertEquals("cpu", t.storage().location());
                    assertTrue(storages.add(t.storage()), "tensor " + i + " has a storage of its own");
                }
                assertEquals(TENSORS, storages.size());

                for (var e : KNOWN.entrySet()) {
                    Tensor t = sd.tensor(name(e.getKey()));
                    for (var v : e.getValue().entrySet()) {
                        assertEquals(Float.floatToRawIntBits(v.getValue()),
                                Float.floatToRawIntBits(t.getFloat(v.getKey())),
                                name(e.getKey()) + "[" + v.getKey() + "]");
                    }
                }
                Tensor last = sd.tensor(name(TENSORS - 1));
                assertEquals(42.0f, last.getFloat(ELEMENTS - 1));
                assertEquals(0.1f, last.getFloat(0));
                assertEquals(0.0f, last.getFloat(ELEMENTS - 2));
                assertEquals(0.0f, sd.tensor(name(17)).getFloat(12344));
                assertEquals(0.0f, sd.tensor(name(1)).getFloat(ELEMENTS / 2));
                assertThrows(IndexOutOfBoundsException.class, () -> last.getFloat(ELEMENTS));

                // The archive is a valid zip by java.util.zip's reading too, with right CRCs.
                try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
                    assertEquals(TENSORS + 3, zip.size());
                    for (int i : new int[] {0, 1, 17, 128, 255}) {
                        CRC32 crc = new CRC32();
                        crc.update(sd.tensor(name(i)).contiguousBytes().asByteBuffer());
                        assertEquals(zip.getEntry(ROOT + "/data/" + i).getCrc(), crc.getValue(), "CRC of data/" + i);
                    }
                }

                long afterReads = usedHeapAfterGc();
                assertTrue(afterReads - before < 64L << 20, "heap grew by " + ((afterReads - before) >> 20) + " MiB");
            }
        } finally {
            Files.deleteIfExists(file);
        }
        assertFalse(Files.exists(file));
    }
}
