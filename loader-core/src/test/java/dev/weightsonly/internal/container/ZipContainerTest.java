package dev.weightsonly.internal.container;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.RawZip;
import dev.weightsonly.testing.ZipWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HexFormat;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The zip container and format recognition: how torch's reader finds records (one root folder, exact
 * names, version and byteorder records), what it refuses, and that every other kind of file is named for
 * what it is. Hostile archives are written byte by byte with {@link RawZip}.
 */
class ZipContainerTest {

    private static final String NAME = "crafted.pt";
    private static final float[] W = {1.5f, -2.0f, 0.25f, 1e-3f};

    @TempDir
    Path dir;

    // ---- helpers --------------------------------------------------------------------------------------

    /** {'w': FloatStorage tensor of 4 elements over data/0}. */
    private static byte[] basePickle() {
        return PickleBuilder.protocol(2).emptyDict().str("w")
                .tensorV2("torch.FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .op('s').stop().bytes();
    }

    private static byte[] floats(ByteOrder order, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(order);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private static byte[] longs(ByteOrder order, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(order);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A well-formed archive, root 'a', records in torch's order. */
    private static RawZip base() {
        return RawZip.create().stored("a/data.pkl", basePickle())
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n");
    }

    private static Checkpoint load(byte[] bytes) throws IOException {
        return Checkpoint.load(bytes, NAME);
    }

    private static <T extends CheckpointException> T refused(Class<T> type, byte[] bytes, String... fragments) {
        T e = assertThrows(type, () -> load(bytes));
        assertTrue(e.getMessage().startsWith(NAME + ": "), "names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    private static void assertLoadsW(byte[] bytes) throws IOException {
        try (Checkpoint c = load(bytes)) {
            assertArrayEquals(W, c.stateDict().tensor("w").toFloatArray());
        }
    }

    private static String dump(Checkpoint c) {
        return CanonicalDump.toJson(c.root(), 1000, 10_000_000);
    }

    // ---- DEFLATED re-zip --------------------------------------------------------------------------------

    /** The fixture's records, in its order, re-written DEFLATED as `zip -r` would. */
    private static byte[] rezipDeflated(String fixture) {
        try (ZipFile zip = new ZipFile(Fixtures.file(fixture).toFile())) {
            ZipWriter w = ZipWriter.empty("unused").deflated();
            for (ZipEntry e : Collections.list(zip.entries())) {
                w.record("/" + e.getName(), zip.getInputStream(e).readAllBytes());
            }
            return w.bytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sd_linear", "train_checkpoint", "views", "dtypes", "many_tensors", "buffer_saved",
            "proto4", "sd_embedding_tied"})
    void deflatedCopyOfAFixtureLoadsToTheSameDump(String fixture) throws IOException {
        byte[] deflated = rezipDeflated(fixture);
        try (ZipFile check = new ZipFile(writeTemp("check.zip", deflated).toFile())) {
            assertTrue(Collections.list(check.entries()).stream().allMatch(e -> e.getMethod() == ZipEntry.DEFLATED));
        }
        try (Checkpoint original = Checkpoint.load(Fixtures.file(fixture));
                Checkpoint copy = Checkpoint.load(deflated, fixture + "-deflated")) {
            assertEquals(dump(original), dump(copy));
            assertEquals(original.tensorCount(), copy.tensorCount());
            assertEquals(original.storageCount(), copy.storageCount());
        }
    }

    // ---- root folder, names -----------------------------------------------------------------------------

    @Test
    void recordOutsideTheRootFolderIsRefused() {
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle()).stored("a/version", "3\n")
                .stored("b/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).bytes();
        refused(MalformedCheckpointException.class, zip, "record 'b/data/0' is outside the archive's root folder 'a/'");
    }

    @Test
    void laterRecordWithoutAFolderIsOutsideTheRoot() {
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W))
                .stored("version", "3\n").bytes();
        refused(MalformedCheckpointException.class, zip, "record 'version' is outside the archive's root folder");
    }

    @Test
    void firstEntryWithNoFolderIsRefused() {
        byte[] zip = RawZip.create().stored("data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W))
                .stored("a/version", "3\n").bytes();
        refused(MalformedCheckpointException.class, zip, "file in archive is not in a subdirectory: data.pkl");
        byte[] leadingSlash = RawZip.create().stored("/a/data.pkl", basePickle()).stored("/a/version", "3\n").bytes();
        refused(MalformedCheckpointException.class, leadingSlash, "illegal record name '/a/data.pkl': an absolute path");
    }

    @Test
    void duplicateRecordNamesAreRefusedWhicheverComesFirst() {
        byte[] evil = PickleBuilder.protocol(2).global("os", "system").str("id").op('\u0085').reduce().stop().bytes();
        byte[] evilFirst = RawZip.create().stored("a/data.pkl", evil).stored("a/data.pkl", basePickle())
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        refused(MalformedCheckpointException.class, evilFirst, "record 'a/data.pkl' appears twice");
        byte[] evilLast = RawZip.create().stored("a/data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W))
                .stored("a/version", "3\n").stored("a/data.pkl", evil).bytes();
        refused(MalformedCheckpointException.class, evilLast, "record 'a/data.pkl' appears twice");
        byte[] twoStorages = base().stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, 9, 9, 9, 9)).bytes();
        refused(MalformedCheckpointException.class, twoStorages, "record 'a/data/0' appears twice");
    }

    @Test
    void emptyArchivesAreRefused() {
        // Just an end record: torch (first bytes are not a local header) does not take it for a zip either.
        byte[] endOnly = RawZip.create().bytes();
        assertEquals(22, endOnly.length);
        refused(MalformedCheckpointException.class, endOnly, "Invalid magic number");
        // A local header but a central directory without entries.
        byte[] header = RawZip.localHeader("a/data.pkl", 0, RawZip.STORED, 0, 0, 0, new byte[0]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header);
        out.writeBytes(RawZip.endOfCentralDirectory(0, 0, header.length));
        refused(MalformedCheckpointException.class, out.toByteArray(), "Central directory is empty");
    }

    @Test
    void junkBeforeTheFirstLocalHeaderIsNotAZip() throws IOException {
        // Self-extractor style: java.util.zip would open it, torch would not; neither does weightsonly.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("J".repeat(64).getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(base().bytes());
        refused(MalformedCheckpointException.class, out.toByteArray(), "Invalid magic number");
        assertLoadsW(base().bytes());
    }

    // ---- truncation -------------------------------------------------------------------------------------

    private static void everyPrefixIsRefused(String fixture, int step) {
        byte[] whole = Fixtures.bytes(fixture);
        int count = 0;
        for (int n = 0; n < whole.length; n += step) {
            byte[] prefix = java.util.Arrays.copyOf(whole, n);
            String name = fixture + "-truncated-" + n;
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(prefix, name),
                    "prefix of " + n + " bytes");
            assertInstanceOf(MalformedCheckpointException.class, e, e.getMessage());
            assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
            count++;
        }
        assertTrue(count >= 1);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"many_tensors", "long_containers", "big_tensor", "train_checkpoint", "sd_mlp_nested",
            "dtypes"})
    void everyThousandthPrefixOfAFixtureIsRefusedAsMalformed(String fixture) {
        everyPrefixIsRefused(fixture, 1000);
    }

    @Test
    void finerPrefixesOfASmallFixtureAreRefusedAsMalformed() {
        everyPrefixIsRefused("sd_linear", 7);
    }

    // Corrupted, truncated and spliced checkpoints of every container (these fixtures among them) are the
    // subject of dev.weightsonly.HostileInputProperties, which runs on a 64 MiB heap.

    // ---- required records -------------------------------------------------------------------------------

    @Test
    void missingDataPklIsRefused() {
        byte[] zip = RawZip.create().stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        refused(MalformedCheckpointException.class, zip, "no a/data.pkl record", "data/0", "version");
    }

    @Test
    void missingVersionIsRefused() {
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).bytes();
        refused(MalformedCheckpointException.class, zip, "failed locating file version");
    }

    private static byte[] withVersion(String version) {
        return RawZip.create().stored("a/data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W))
                .stored("a/version", version).bytes();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "3\n", "3", "10", "10\n"})
    void supportedVersionsLoad(String version) throws IOException {
        assertLoadsW(withVersion(version));
    }

    @Test
    void versionsOutsideOneToTenAreUnsupported() {
        refused(UnsupportedCheckpointException.class, withVersion("0"), "a/version",
                "version 0, but the supported versions for reading are 1 to 10");
        refused(UnsupportedCheckpointException.class, withVersion("11\n"), "a/version", "version 11,");
        refused(UnsupportedCheckpointException.class, withVersion("-1"), "version -1,");
    }

    @Test
    void unparsableVersionsAreMalformed() {
        refused(MalformedCheckpointException.class, withVersion("abc"), "a/version", "Couldn't parse the version 'abc'");
        refused(MalformedCheckpointException.class, withVersion(""), "Couldn't parse the version ''");
        refused(MalformedCheckpointException.class, withVersion("99999999999999999999"), "Couldn't parse the version");
        refused(MalformedCheckpointException.class, withVersion("3garbage"), "Couldn't parse the version '3garbage'");
    }

    @Test
    void dotDataVersionIsPreferredOverVersion() throws IOException {
        byte[] goodPreferred = base().stored("a/.data/version", "3\n").bytes();
        byte[] goodPreferredBadFallback = RawZip.create().stored("a/data.pkl", basePickle())
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "abc")
                .stored("a/.data/version", "6\n").bytes();
        assertLoadsW(goodPreferred);
        assertLoadsW(goodPreferredBadFallback);
        byte[] badPreferred = base().stored("a/.data/version", "11\n").bytes();
        refused(UnsupportedCheckpointException.class, badPreferred, "a/.data/version", "version 11,");
        byte[] onlyDotData = RawZip.create().stored("a/data.pkl", basePickle())
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/.data/version", "7\n").bytes();
        assertLoadsW(onlyDotData);
    }

    // ---- byte order -------------------------------------------------------------------------------------

    @Test
    void littleOrAbsentByteorderLoads() throws IOException {
        assertLoadsW(base().bytes());
        assertLoadsW(base().stored("a/byteorder", "little").bytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"middle", "BIG", "little\n", "", "Little", "big "})
    void anyOtherByteorderIsRefused(String order) {
        refused(MalformedCheckpointException.class, base().stored("a/byteorder", order).bytes(), "a/byteorder",
                "Unknown endianness type: " + order);
    }

    @Test
    void bigEndianStoragesAreSwappedPerElement() throws IOException {
        float[] f = {1.5f, -2.0f, 1e-3f, Float.MAX_VALUE, Float.MIN_VALUE};
        long[] l = {1, -2, Long.MAX_VALUE, Long.MIN_VALUE + 5};
        byte[] bf16LittleEndian = {(byte) 0x80, 0x3F, 0x20, (byte) 0xC0}; // 1.0, -2.5 as stored
        byte[] pkl = PickleBuilder.protocol(2).emptyDict()
                .str("f").tensorV2("torch.FloatStorage", "0", 5, 0, new long[] {5}, new long[] {1}).op('s')
                .str("l").tensorV2("torch.LongStorage", "1", 4, 0, new long[] {2, 2}, new long[] {2, 1}).op('s')
                .str("c").tensorV2("torch.ComplexFloatStorage", "2", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("u").global("torch._utils", "_rebuild_tensor_v3").mark()
                .storage("torch.storage.UntypedStorage", "3", "cpu", 4).integer(0).tupleOfInts(2).tupleOfInts(1)
                .bool(false).orderedDict().global("torch", "bfloat16").op('t').reduce().op('s')
                .stop().bytes();
        byte[] zip = RawZip.create().stored("a/data.pkl", pkl).stored("a/byteorder", "big")
                .stored("a/data/0", floats(ByteOrder.BIG_ENDIAN, f))
                .stored("a/data/1", longs(ByteOrder.BIG_ENDIAN, l))
                .stored("a/data/2", floats(ByteOrder.BIG_ENDIAN, 1f, 2f, -3f, 4f))
                .stored("a/data/3", bf16LittleEndian)
                .stored("a/version", "3\n").bytes();
        try (Checkpoint c = load(zip)) {
            Tensor ft = c.stateDict().tensor("f");
            assertArrayEquals(f, ft.toFloatArray());
            Tensor lt = c.stateDict().tensor("l");
            assertEquals(DType.INT64, lt.dtype());
            assertArrayEquals(l, lt.toLongArray());
            assertEquals(Long.MIN_VALUE + 5, lt.getLong(1, 1));
            // Stored bytes after the swap are little-endian.
            assertArrayEquals(floats(ByteOrder.LITTLE_ENDIAN, f), ft.toByteArray());
            Tensor ct = c.stateDict().tensor("c");
            assertEquals(1.0, ct.getReal(0));
            assertEquals(2.0, ct.getImag(0));
            assertEquals(-3.0, ct.getReal(1));
            assertEquals(4.0, ct.getImag(1));
            // torch's quirk: v3 (untyped) storages are never swapped.
            Tensor ut = c.stateDict().tensor("u");
            assertEquals(DType.BFLOAT16, ut.dtype());
            assertEquals(1.0f, ut.getFloat(0));
            assertEquals(-2.5f, ut.getFloat(1));
        }
    }

    // ---- flags, methods, sizes --------------------------------------------------------------------------

    @ParameterizedTest(name = "flag {0}")
    @ValueSource(ints = {0x1, 0x41})
    void encryptedEntriesAreRefused(int flag) {
        byte[] pkl = RawZip.create().add("a/data.pkl", basePickle(), RawZip.STORED, e -> e.flags = flag)
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        refused(UnsupportedCheckpointException.class, pkl, "a/data.pkl", "encrypted");
        byte[] storage = RawZip.create().stored("a/data.pkl", basePickle())
                .add("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W), RawZip.STORED, e -> e.flags = flag)
                .stored("a/version", "3\n").bytes();
        refused(UnsupportedCheckpointException.class, storage, "a/data/0", "encrypted");
    }

    @ParameterizedTest(name = "flag {0}")
    @ValueSource(ints = {0x20, 0x40, 0x2000})
    void patchedDataAndStrongEncryptionFlagsAreRefused(int flag) {
        // miniz (torch) and Python's zipfile refuse these bits; so must a loader (CVE-2025-1945 class). miniz refuses
        // 0x2000 (masked local header values) in any entry of the directory, used or not.
        byte[] zip = RawZip.create().add("a/data.pkl", basePickle(), RawZip.STORED, e -> e.flags = flag)
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        refused(UnsupportedCheckpointException.class, zip, "a/data.pkl", String.format("0x%x", flag));
    }

    @Test
    void anUnusedRecordWithTheMaskedHeaderFlagRefusesTheArchive() {
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W))
                .add("a/unused", new byte[4], RawZip.STORED, e -> e.flags = 0x2000).stored("a/version", "3\n").bytes();
        refused(UnsupportedCheckpointException.class, zip, "a/unused", "0x2000");
    }

    @Test
    void aDeflatedRecordOfSomeBytesCompressedIntoNoneRefusesTheArchive() {
        // miniz's check when it reads the directory (a size but no compressed bytes), for any record, used or not
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle()).stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W))
                .add("a/unused", new byte[0], RawZip.DEFLATED, e -> {
                    e.uncompressedSize = 5;
                    e.compressedSize = 0;
                }).stored("a/version", "3\n")
                .bytes();
        refused(MalformedCheckpointException.class, zip, "a/unused", "compressed into 0 bytes");
    }

    @Test
    void utf8NameFlagAndDataDescriptorFlagAreFine() throws IOException {
        // torch writes 0x0808 in the central directory.
        byte[] zip = RawZip.create().add("a/data.pkl", basePickle(), RawZip.STORED, e -> e.flags = 0x0800)
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        assertLoadsW(zip);
    }

    @Test
    void deflatedBombIsStoppedAtMaxInflatedBytes() {
        LoadOptions small = LoadOptions.builder().limits(LoadLimits.builder().maxInflatedBytes(1 << 20).build()).build();
        byte[] bomb = new byte[8 << 20];
        byte[] honest = RawZip.create().deflated("a/data.pkl", bomb).stored("a/version", "3\n").bytes();
        assertTrue(honest.length < 64 << 10, "a bomb is small: " + honest.length);
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> Checkpoint.load(honest, NAME, small));
        assertEquals("maxInflatedBytes", e.limitName());
        assertEquals(1 << 20, e.limit());
        assertTrue(e.getMessage().startsWith(NAME + ": a/data.pkl: "), e.getMessage());

        // The directory lies about the inflated size: the inflater stops one byte past what it declares.
        byte[] lying = RawZip.create().add("a/data.pkl", bomb, RawZip.DEFLATED, x -> x.uncompressedSize = 100)
                .stored("a/version", "3\n").bytes();
        MalformedCheckpointException e2 = assertThrows(MalformedCheckpointException.class,
                () -> Checkpoint.load(lying, NAME, small));
        assertTrue(e2.getMessage().contains("a/data.pkl: the DEFLATED record inflates to more than the 100 bytes the"
                + " directory declares"), e2.getMessage());

        // A bomb in a storage record.
        byte[] storageBomb = RawZip.create().stored("a/data.pkl", basePickle()).deflated("a/data/0", bomb)
                .stored("a/version", "3\n").bytes();
        LimitExceededException e3 = assertThrows(LimitExceededException.class,
                () -> Checkpoint.load(storageBomb, NAME, small));
        assertTrue(e3.getMessage().contains("a/data/0"), e3.getMessage());
    }

    @Test
    void deflatedRecordInflatingToLessThanDeclaredIsMalformed() {
        byte[] zip = RawZip.create().add("a/data.pkl", basePickle(), RawZip.DEFLATED, x -> x.uncompressedSize += 50)
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        assertThrows(MalformedCheckpointException.class, () -> load(zip));
    }

    @ParameterizedTest(name = "method {0}")
    @ValueSource(ints = {9, 12, 14, 93, 99})
    void otherCompressionMethodsAreUnsupported(int method) {
        byte[] zip = RawZip.create().add("a/data.pkl", basePickle(), RawZip.STORED, e -> e.method = method)
                .stored("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W)).stored("a/version", "3\n").bytes();
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(zip));
        assertInstanceOf(UnsupportedCheckpointException.class, e, e.getMessage());
        assertTrue(e.getMessage().contains("compression method " + method), e.getMessage());
    }

    @Test
    void storedRecordWhoseSizesDisagreeIsMalformed() {
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle())
                .add("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W), RawZip.STORED, e -> e.uncompressedSize = 17)
                .stored("a/version", "3\n").bytes();
        refused(MalformedCheckpointException.class, zip, "a/data/0");
    }

    @Test
    void recordReachingPastTheEndOfTheFileIsMalformed() {
        byte[] zip = RawZip.create().stored("a/data.pkl", basePickle())
                .add("a/data/0", floats(ByteOrder.LITTLE_ENDIAN, W), RawZip.STORED, e -> {
                    e.uncompressedSize = 1_000_000_000;
                    e.compressedSize = 1_000_000_000;
                })
                .stored("a/version", "3\n").bytes();
        refused(MalformedCheckpointException.class, zip);
    }

    // ---- TorchScript and other formats --------------------------------------------------------------------

    @Test
    void torchScriptArchiveIsRefusedWhateverElseItHolds() {
        byte[] ts = base().stored("a/constants.pkl", PickleBuilder.protocol(2).emptyTuple().stop().bytes())
                .stored("a/code/__torch__/m.py", "def forward(self):\n    return torch.ops.aten.zeros([1])\n").bytes();
        UnsupportedCheckpointException e = refused(UnsupportedCheckpointException.class, ts, "TorchScript",
                "a/constants.pkl");
        assertTrue(e.getMessage().contains("weights_only"), e.getMessage());
        // Even with a broken version record: the TorchScript refusal comes first.
        byte[] tsBadVersion = RawZip.create().stored("a/constants.pkl", PickleBuilder.protocol(2).emptyTuple().stop().bytes())
                .stored("a/version", "abc").bytes();
        refused(UnsupportedCheckpointException.class, tsBadVersion, "TorchScript");
    }

    private Path writeTemp(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private <T extends CheckpointException> void refusedFile(Class<T> type, String name, byte[] bytes,
            String fragment) throws IOException {
        Path p = writeTemp(name, bytes);
        T e = assertThrows(type, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().startsWith(p + ": "), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
        assertEquals(p.toString(), e.source());
        assertEquals(-1, e.pickleOffset());
        // A stream of the same bytes gets the same verdict, with its own name.
        T s = assertThrows(type, () -> Checkpoint.load(new java.io.ByteArrayInputStream(bytes), "stream:" + name));
        assertTrue(s.getMessage().startsWith("stream:" + name + ": "), s.getMessage());
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void previewReleaseFormatIsUnsupported() throws IOException {
        refusedFile(UnsupportedCheckpointException.class, "preview.pt", concat(ascii("PYTORCH1"), new byte[100]),
                "unsupported archive format from the preview release");
    }

    @Test
    void sevenZipIsNamed() throws IOException {
        byte[] sevenZ = concat(new byte[] {'7', 'z', (byte) 0xBC, (byte) 0xAF, 0x27, 0x1C, 0, 4}, new byte[40]);
        refusedFile(MalformedCheckpointException.class, "model.7z", sevenZ, "7z archive");
    }

    @Test
    void gzipIsNamed() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(Fixtures.bytes("sd_linear"));
        }
        refusedFile(MalformedCheckpointException.class, "model.pt.gz", out.toByteArray(), "gzip");
    }

    @Test
    void barePickleIsNamed() throws IOException {
        byte[] pkl = PickleBuilder.protocol(2).emptyDict().str("a").integer(1).op('s').stop().bytes();
        refusedFile(MalformedCheckpointException.class, "bare.pkl", pkl, "bare pickle");
    }

    @Test
    void legacyStreamIsRecognised() throws IOException {
        // magic, protocol version 1001, then an empty dict where sys_info goes: the stream ends there.
        byte[] magic = HexFormat.of().parseHex("80028a0a6cfc9c46f9206aa850192e");
        byte[] protocolVersion = HexFormat.of().parseHex("80024de9032e");
        byte[] stream = concat(magic, protocolVersion, PickleBuilder.protocol(2).emptyDict().stop().bytes());
        Path p = writeTemp("legacy.pt", stream);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        // Without a legacy reader: refused by name. With one: this truncated stream is malformed.
        if (e instanceof UnsupportedCheckpointException) {
            assertTrue(e.getMessage().contains("legacy checkpoint format"), e.getMessage());
        } else {
            assertInstanceOf(MalformedCheckpointException.class, e, e.getMessage());
        }
    }

    @Test
    void aTarWithoutCheckpointMembersIsMalformed() throws IOException {
        byte[] tar = new byte[1024];
        byte[] name = ascii("sys_info");
        System.arraycopy(name, 0, tar, 0, name.length);
        byte[] ustar = ascii("ustar\u000000");
        System.arraycopy(ustar, 0, tar, 257, ustar.length);
        // The PyTorch 0.1.x tar format loads (LegacyTarTest); a tar that is not such a checkpoint is refused.
        refusedFile(MalformedCheckpointException.class, "old.tar", tar, "tar");
    }

    @Test
    void safetensorsIsNamed() throws IOException {
        // Safetensors files load (SafetensorsReaderTest); one whose data is cut short is refused by name.
        byte[] header = ascii("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 2).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).putShort((short) 1);
        refusedFile(MalformedCheckpointException.class, "model.safetensors", b.array(), "safetensors");
    }

    @Test
    void emptyAndTinyFilesAreMalformed() throws IOException {
        refusedFile(MalformedCheckpointException.class, "empty.pt", new byte[0], "has 0 bytes");
        refusedFile(MalformedCheckpointException.class, "three.pt", new byte[] {'P', 'K', 3}, "has 3 bytes");
    }

    @Test
    void anythingElseIsAnInvalidMagicNumber() throws IOException {
        refusedFile(MalformedCheckpointException.class, "notes.txt", ascii("hello, world\n"),
                "Invalid magic number; corrupt file?");
    }
}
