package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.scan.Verdict;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.RawZip;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of the bugs the hostile-input work found and fixed in main code, one or more per fix (the
 * adversarial corpus holds the file-level cases). Runs with -Xmx64m (loader-core's small-heap execution):
 * several of these were OutOfMemoryErrors.
 */
class HardeningRegressionTest {

    private static final Location WHERE = Location.of("regression");

    // ---- CanonicalDump ------------------------------------------------------------------------------------------

    /** A list of {@code fanOut} references to the list below it, {@code depth} levels: fanOut^depth leaves. */
    private static Object laughs(int fanOut, int depth, String leaf) throws CheckpointException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        byte[] s = leaf.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < depth; i++) {
            p.write('(');
        }
        p.write('X');
        p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length).array());
        p.writeBytes(s);
        for (int i = 0; i < depth; i++) {
            for (int k = 0; k < fanOut; k++) {
                p.write('2'); // DUP the level below
            }
            p.write('l');    // LIST: fanOut + 1 references to one object
        }
        p.write('.');
        byte[] bytes = p.toByteArray();
        return Unpickler.load(MemorySegment.ofArray(bytes), 0, bytes.length, WHERE,
                TorchUnpicklerHost.plainData(Set.of(), LoadLimits.defaults()),
                LoadLimits.defaults()).value();
    }

    @Test
    void theDumpOfASharedStructureIsBoundedByItsCharacters() throws Exception {
        // 10^9 leaves of a 1 KiB string: before the fix only the 10 million node bound held, and 10 million
        // kilobyte strings do not fit any heap. Now the output bound stops it at once (the default bound is
        // 64 Mi characters; this heap is 64 MiB, so the test asks for 4 Mi).
        Object dag = laughs(9, 9, "x".repeat(1024));
        assertTrue(dag instanceof PyList);
        IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(
                IllegalArgumentException.class, () -> CanonicalDump.toJson(dag, 1000, 10_000_000, 4L << 20)));
        assertTrue(e.getMessage().contains("longer than " + (4L << 20) + " characters"), e.getMessage());
        assertEquals(64L << 20, CanonicalDump.DEFAULT_MAX_CHARS);
        // a smaller structure of the same kind is dumped whole
        String small = CanonicalDump.toJson(laughs(2, 3, "ab"), 1000, 10_000_000);
        assertEquals(28, small.split("\"ab\"", -1).length); // 3^3 leaves
    }

    @Test
    void aStrideZeroViewOfTerabytesIsRefusedByTheDumpNotMaterialised() {
        Storage four = Storage.of(MemorySegment.ofArray(new byte[4]), "0", "cpu");
        Tensor huge = Tensor.of(four, DType.FLOAT32, 0, new long[] {1_000_000, 1_000_000}, new long[] {0, 0});
        IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(IllegalArgumentException.class, () -> CanonicalDump.toJson(huge, 10, 100)));
        assertTrue(e.getMessage().contains("bytes to hash"), e.getMessage());
    }

    @Test
    void aNonContiguousViewIsHashedInSlicesWithTheHashOfItsElements() throws Exception {
        // 5000 rows of the same 1024 floats (a stride-0 dimension): 20 MB of elements over 4 KB, more than one
        // slice, hashed without a copy of the whole and equal to the hash of the elements written out.
        ByteBuffer row = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 1024; i++) {
            row.putFloat(i * 0.5f);
        }
        Storage storage = Storage.of(MemorySegment.ofArray(row.array()), "0", "cpu");
        Tensor expanded = Tensor.of(storage, DType.FLOAT32, 0, new long[] {5000, 1024}, new long[] {0, 1});
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        for (int r = 0; r < 5000; r++) {
            digest.update(row.array());
        }
        String expected = HexFormat.of().formatHex(digest.digest());
        String dump = CanonicalDump.toJson(expanded, 10, 100);
        assertTrue(dump.contains("\"sha256\":\"" + expected + "\""), dump);
    }

    @Test
    void aTensorReachedManyTimesIsHashedOnce() {
        // 2000 references to one 1 MiB tensor: 2 GiB to hash if each reference were hashed, over the budget
        // (1 GiB plus four times the storages); hashed once, the dump is quick.
        Storage storage = Storage.of(MemorySegment.ofArray(new byte[1 << 20]), "0", "cpu");
        Tensor t = Tensor.contiguousView(storage, DType.FLOAT32, 0, 1 << 18);
        List<Object> refs = new ArrayList<>(Collections.nCopies(2000, t));
        PyTuple tuple = PyTuple.of(refs.toArray());
        String dump = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CanonicalDump.toJson(tuple, 10, 10_000));
        assertEquals(2001, dump.split("sha256").length);
    }

    // ---- LegacyTar -------------------------------------------------------------------------------------------------

    @Test
    void aTarWithMoreMembersThanAllowedExceedsTheLimitRatherThanBeingUnreadable() {
        List<String> names = List.of("sys_info", "pickle", "tensors", "storages", "extra");
        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            parts.add(new byte[] {(byte) 0x80, 2, 'N', '.'});
        }
        byte[] tar = HostileInputProperties.assemble(HostileInputProperties.Kind.TAR, names, parts, false);
        LoadOptions three = LoadOptions.builder().limits(LoadLimits.builder().maxArchiveEntries(3).build()).build();
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> Checkpoint.load(tar, "members.pt", three));
        assertEquals("maxArchiveEntries", e.limitName());
        assertTrue(e.getMessage().startsWith("members.pt: more than 3 tar members"), e.getMessage());
    }

    // ---- ZipArchive ------------------------------------------------------------------------------------------------

    private static byte[] pickle() {
        return PickleBuilder.protocol(2).emptyDict().str("w")
                .tensorV2("torch.FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}).op('s').stop().bytes();
    }

    @Test
    void deflatedRecordsMayInflateToAFixedMultipleOfTheFileInAll() throws Exception {
        byte[] zeros = new byte[4 << 20];
        byte[] zip = RawZip.create().stored("a/data.pkl", pickle()).deflated("a/data/0", new byte[16])
                .deflated("a/extra", zeros).stored("a/version", "3\n").bytes();
        // The checkpoint itself never reads a/extra: it loads.
        try (Checkpoint c = Checkpoint.load(zip, "bomb.pt")) {
            assertEquals(1, c.tensorCount());
        }
        // A pickle that needs 4 MiB of zeros inflated from a file of a few KiB exceeds maxInflationRatio.
        byte[] bomb = RawZip.create().stored("a/data.pkl", PickleBuilder.protocol(2).emptyDict().str("w")
                        .tensorV2("torch.FloatStorage", "0", 1 << 20, 0, new long[] {1 << 20}, new long[] {1}).op('s')
                        .stop().bytes())
                .deflated("a/data/0", zeros).stored("a/version", "3\n").bytes();
        assertTrue(bomb.length < 16 << 10, "small: " + bomb.length);
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> Checkpoint.load(bomb, "bomb.pt"));
        assertEquals("maxInflationRatio", e.limitName());
        assertEquals(200, e.limit());
        // Raised, it loads: the limit is the only thing in the way.
        LoadOptions raised = LoadOptions.builder().limits(LoadLimits.builder().maxInflationRatio(10_000).build()).build();
        try (Checkpoint c = Checkpoint.load(bomb, "bomb.pt", raised)) {
            assertEquals(1 << 20, c.stateDict().tensor("w").numel());
        }
    }

    @Test
    void recordNamesLongerThanMaxNameBytesExceedTheLimit() {
        byte[] zip = RawZip.create().stored("a/data.pkl", pickle()).stored("a/data/0", new byte[16])
                .stored("a/" + "n".repeat(300), new byte[0]).stored("a/version", "3\n").bytes();
        LoadOptions small = LoadOptions.builder().limits(LoadLimits.builder().maxNameBytes(256).build()).build();
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> Checkpoint.load(zip, "n.pt", small));
        assertEquals("maxNameBytes", e.limitName());
    }

    // ---- Unpickler -------------------------------------------------------------------------------------------------

    @Test
    void memoSlotsStayReadableWhereverTheyWereWritten() throws Exception {
        // Slot 200 is written while the array holds 64 slots, so it goes to the map (an index never sizes the
        // array); MEMOIZE then fills slots 1..200, the array growing by doubling; slot 200 is read back (MEMOIZE's
        // value), overwritten, and read again.
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.writeBytes(new byte[] {(byte) 0x80, 4, 'K', 7, 'q', (byte) 200, '0', 'K', 1});
        for (int i = 0; i < 200; i++) {
            p.write(0x94);
        }
        p.writeBytes(new byte[] {'0', 'h', (byte) 200, 'K', 9, 'q', (byte) 200, '0', 'h', (byte) 200, (byte) 0x86, '.'});
        byte[] bytes = p.toByteArray();
        Object v = Unpickler.load(MemorySegment.ofArray(bytes), 0, bytes.length, WHERE,
                TorchUnpicklerHost.plainData(Set.of(), LoadLimits.defaults()),
                LoadLimits.defaults()).value();
        assertTrue(v instanceof PyTuple, String.valueOf(v));
        assertEquals(List.of(1L, 9L), ((PyTuple) v).items());
        // A sparse slot is found too, and a far index costs nothing but a map entry.
        byte[] far = {(byte) 0x80, 2, 'K', 5, 'r', 0, 0, 0, 0x40, 'j', 0, 0, 0, 0x40, (byte) 0x86, '.'};
        Object pair = Unpickler.load(MemorySegment.ofArray(far), 0, far.length, WHERE,
                TorchUnpicklerHost.plainData(Set.of(), LoadLimits.defaults()),
                LoadLimits.defaults()).value();
        assertEquals(List.of(5L, 5L), ((PyTuple) pair).items());
    }

    @Test
    void whatCallsReadOfTheirArgumentsCountsAgainstMaxObjects() throws Exception {
        // set() of one 1,000-item list, 30 times: 30,000 items read by calls from a pickle of about 1,100 bytes.
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.writeBytes(new byte[] {(byte) 0x80, 2, ']', '(', 'K', 1});
        p.writeBytes("2".repeat(999).getBytes(StandardCharsets.US_ASCII));
        p.writeBytes(new byte[] {'e', 'q', 0, '0'});
        p.writeBytes("c__builtin__\nset\nq\u0001".getBytes(StandardCharsets.ISO_8859_1));
        p.writeBytes(new byte[] {'0', ']'});
        for (int i = 0; i < 30; i++) {
            p.writeBytes(new byte[] {'h', 1, 'h', 0, (byte) 0x85, 'R', 'a'});
        }
        p.write('.');
        byte[] bytes = p.toByteArray();
        LoadLimits small = LoadLimits.builder().maxObjects(20_000).build();
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> Unpickler.load(
                MemorySegment.ofArray(bytes), 0, bytes.length, WHERE, torchHost(small), small));
        assertEquals("maxObjects", e.limitName());
        assertTrue(e.getMessage().contains("read and copied by calls"), e.getMessage());
        // With room for it, the same pickle loads: 30 one-element sets.
        Object v = Unpickler.load(MemorySegment.ofArray(bytes), 0, bytes.length, WHERE,
                torchHost(LoadLimits.defaults()), LoadLimits.defaults()).value();
        assertEquals(30, ((PyList) v).size());
    }

    private static TorchUnpicklerHost torchHost(LoadLimits limits) {
        return new TorchUnpicklerHost((key, site) -> {
            throw site.malformed("no records here");
        }, false, java.util.Set.of(), limits);
    }

    // ---- GlobalScanner ---------------------------------------------------------------------------------------------

    @Test
    void theScannerStopsTrustingTheMemoWhenItCanNoLongerFollowIt() {
        // 2^18 + 1 memo slots, then a STACK_GLOBAL whose names come from the memo: the scan cannot tell which
        // names they are any more, so it reports them as computed (dangerous) rather than guessing.
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.writeBytes(new byte[] {(byte) 0x80, 4, 'N'});
        for (int i = 0; i <= 1 << 18; i++) {
            p.write('r');
            p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i + 10).array());
        }
        p.write('0');
        byte[] os = "os".getBytes(StandardCharsets.US_ASCII);
        byte[] system = "system".getBytes(StandardCharsets.US_ASCII);
        p.write(0x8C);
        p.write(os.length);
        p.writeBytes(os);
        p.writeBytes(new byte[] {'q', 1, '0'});
        p.write(0x8C);
        p.write(system.length);
        p.writeBytes(system);
        p.writeBytes(new byte[] {'q', 2, '0', 'h', 1, 'h', 2, (byte) 0x93, '.'});
        ScanReport report = GlobalScanner.scan(MemorySegment.ofArray(p.toByteArray()), "memo.pkl", n -> false);
        assertEquals(List.of("<STACK_GLOBAL whose module and name are not string constants>"),
                report.names(Verdict.DANGEROUS), report.toString());
    }

    // ---- LoadLimits ------------------------------------------------------------------------------------------------

    @Test
    void theNewLimitsHaveSafeDefaultsAndABuilder() {
        LoadLimits d = LoadLimits.defaults();
        assertEquals(4096, d.maxNameBytes());
        assertEquals(200, d.maxInflationRatio());
        LoadLimits raised = d.toBuilder().maxNameBytes(10_000).maxInflationRatio(1_000).build();
        assertEquals(10_000, raised.maxNameBytes());
        assertEquals(1_000, raised.maxInflationRatio());
        assertEquals(d.maxStackDepth(), raised.maxStackDepth());
        assertThrows(IllegalArgumentException.class, () -> LoadLimits.builder().maxNameBytes(0).build());
        assertThrows(IllegalArgumentException.class, () -> LoadLimits.builder().maxInflationRatio(-1).build());
    }
}
