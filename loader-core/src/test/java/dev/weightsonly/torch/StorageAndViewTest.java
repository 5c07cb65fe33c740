package dev.weightsonly.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.StateDict;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.ZipWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * torch's rules for storages (persistent ids, record sizes, sharing by key) and tensors (rebuild
 * functions, views, flags), on small crafted checkpoints whose every byte the test chose.
 */
class StorageAndViewTest {

    private static final String NAME = "crafted.pt";
    private static final float[] W = {1.5f, -2.0f, 0.25f, 8.0f};

    // ---- helpers --------------------------------------------------------------------------------------

    static byte[] le(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] le(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    /** A checkpoint with root 'a', records given as key, bytes, key, bytes... */
    static byte[] ckpt(byte[] pkl, Object... records) {
        ZipWriter w = ZipWriter.checkpoint("a", pkl);
        for (int i = 0; i < records.length; i += 2) {
            w.record("data/" + records[i], (byte[]) records[i + 1]);
        }
        return w.bytes();
    }

    /** {'w': value} where value is written by {@code value}; record data/0 holds {@link #W}. */
    static byte[] underW(Consumer<PickleBuilder> value) {
        PickleBuilder p = PickleBuilder.protocol(2).emptyDict().str("w");
        value.accept(p);
        return p.op('s').stop().bytes();
    }

    static byte[] wTensor(long offset, long[] shape, long[] stride) {
        return ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 4, offset, shape, stride)), "0", le(W));
    }

    static Checkpoint load(byte[] zip) throws IOException {
        return Checkpoint.load(zip, NAME);
    }

    /** Checkpoints opened by {@link #loadW}, closed after each test (their tensors die with them). */
    private final java.util.List<Checkpoint> open = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void closeCheckpoints() {
        open.forEach(Checkpoint::close);
    }

    Tensor loadW(byte[] zip) throws IOException {
        Checkpoint c = load(zip);
        open.add(c);
        return c.stateDict().tensor("w");
    }

    static <T extends CheckpointException> T refused(Class<T> type, byte[] zip, String... fragments) {
        return refused(type, zip, LoadOptions.defaults(), fragments);
    }

    static <T extends CheckpointException> T refused(Class<T> type, byte[] zip, LoadOptions options,
            String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(zip, NAME, options));
        assertInstanceOf(type, e, e.getMessage());
        assertTrue(e.getMessage().startsWith(NAME + ": a/data.pkl: at pickle offset "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        }
        return type.cast(e);
    }

    static long[] dims(long... d) {
        return d;
    }

    /** _rebuild_tensor_v2 with a 7th (metadata) argument written by {@code metadata}. */
    static PickleBuilder v2WithMetadata(PickleBuilder p, String storageClass, String key, long numel, long[] shape,
            long[] stride, Consumer<PickleBuilder> metadata) {
        p.global("torch._utils", "_rebuild_tensor_v2").mark().storage(storageClass, key, "cpu", numel).integer(0)
                .tupleOfInts(shape).tupleOfInts(stride).bool(false).orderedDict();
        metadata.accept(p);
        return p.op('t').reduce();
    }

    /** _rebuild_tensor_v3 over an UntypedStorage of {@code nbytes}. */
    static PickleBuilder v3(PickleBuilder p, String key, long nbytes, long offset, long[] shape, long[] stride,
            Consumer<PickleBuilder> dtype) {
        p.global("torch._utils", "_rebuild_tensor_v3").mark().storage("torch.storage.UntypedStorage", key, "cpu", nbytes)
                .integer(offset).tupleOfInts(shape).tupleOfInts(stride).bool(false).orderedDict();
        dtype.accept(p);
        return p.op('t').reduce();
    }

    /** A persistent id tuple written by {@code items}, then BINPERSID, as the storage of a v2 tensor of 4 floats. */
    static byte[] withPid(int protocol, Consumer<PickleBuilder> items) {
        PickleBuilder p = PickleBuilder.protocol(protocol).emptyDict().str("w")
                .global("torch._utils", "_rebuild_tensor_v2").mark().mark();
        items.accept(p);
        p.op('t').op('Q').integer(0).tupleOfInts(4).tupleOfInts(1).bool(false).orderedDict().op('t').reduce();
        return ckpt(p.op('s').stop().bytes(), "0", le(W));
    }

    // ---- record sizes (CVE-2026-24747 part 2) ----------------------------------------------------------

    @ParameterizedTest(name = "{0}-byte record for 4 floats")
    @ValueSource(ints = {20, 12, 10, 0, 15, 17, 1 << 12})
    void recordSizeMustEqualNumelTimesElementSize(int recordBytes) {
        byte[] zip = ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1))),
                "0", new byte[recordBytes]);
        refused(MalformedCheckpointException.class, zip, "record size (" + recordBytes + " bytes)",
                "does not match expected size (16 bytes = 4 elements * 4 bytes/element)", "storage '0'",
                "(building the value of key 'w')");
    }

    @Test
    void declaringNothingOverANonEmptyRecordIsRefused() {
        byte[] zip = ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 0, 0, dims(0), dims(1))), "0", le(W));
        refused(MalformedCheckpointException.class, zip, "record size (16 bytes)", "does not match expected size (0 bytes");
    }

    @Property(tries = 200)
    void onlyTheExactRecordSizeLoads(@ForAll @IntRange(min = 0, max = 64) int numel,
            @ForAll @IntRange(min = 0, max = 300) int recordBytes) throws IOException {
        byte[] zip = ckpt(underW(p -> p.tensorV2("torch.DoubleStorage", "0", numel, 0, dims(0), dims(1))),
                "0", new byte[recordBytes]);
        if (recordBytes == numel * 8) {
            assertEquals(numel * 8L, loadW(zip).storage().byteSize());
        } else {
            refused(MalformedCheckpointException.class, zip, "record size (" + recordBytes + " bytes)");
        }
    }

    // ---- storage keys and declarations -----------------------------------------------------------------

    @ParameterizedTest(name = "key [{0}]")
    @ValueSource(strings = {"7", "../data.pkl", "../version", "0/../0", "/etc/passwd", "", "00", "0\u0000", "data/0"})
    void storageKeyNamingNoRecordIsRefused(String key) {
        byte[] zip = ckpt(underW(p -> p.tensorV2("torch.FloatStorage", key, 4, 0, dims(4), dims(1))), "0", le(W));
        refused(MalformedCheckpointException.class, zip, "storage key '" + key + "' names record 'a/data/" + key
                + "', which the archive does not have");
    }

    /**
     * torch's {@code _load.persistent_load}: {@code if key in loaded_storages: typed_storage = loaded_storages[key]}.
     * A key declared again (another dtype, another size, a dtype of the same size) is the storage loaded first;
     * the later declaration is ignored, and PyTorch 2.6 loads such a file (adversarial D15_key_two_dtypes).
     */
    @ParameterizedTest(name = "{0} x {1}")
    @org.junit.jupiter.params.provider.CsvSource({"torch.DoubleStorage, 2", "torch.FloatStorage, 2",
            "torch.IntStorage, 4", "torch.FloatStorage, 9"})
    void sameKeyDeclaredAgainIsTheStorageLoadedFirst(String storageClass, long numel) throws IOException {
        byte[] pkl = PickleBuilder.protocol(2).emptyDict()
                .str("a").tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).op('s')
                .str("b").tensorV2(storageClass, "0", numel, 0, dims(2), dims(1)).op('s')
                .stop().bytes();
        try (Checkpoint c = load(ckpt(pkl, "0", le(W)))) {
            Tensor a = c.stateDict().tensor("a");
            Tensor b = c.stateDict().tensor("b");
            assertSame(a.storage(), b.storage());
            assertEquals(DType.FLOAT32, b.dtype());
            assertArrayEquals(new float[] {W[0], W[1]}, b.toFloatArray());
            assertEquals(1, c.storageCount());
        }
    }

    @ParameterizedTest(name = "{0} x {1}")
    @org.junit.jupiter.params.provider.CsvSource({"torch.DoubleStorage, 2305843009213693952",
            "torch.FloatStorage, 4611686018427387904", "torch.ComplexDoubleStorage, 1152921504606846976",
            "torch.LongStorage, 9223372036854775807"})
    void numelTimesElementSizeOverflowingLongIsRefused(String storageClass, long numel) {
        // 2^61 * 8 wraps to 0 in 64 bits: an empty record would "match" without overflow checks.
        byte[] zip = ckpt(underW(p -> p.tensorV2(storageClass, "0", numel, 0, dims(1024), dims(1))), "0", new byte[0]);
        refused(MalformedCheckpointException.class, zip, "storage '0' declares " + numel + " elements",
                "more bytes than a file can hold");
    }

    @Test
    void numelThatIsNotANonNegativeIntIsRefused() {
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage")
                .global("torch", "FloatStorage").str("0").str("cpu").integer(-1)), "storage numel", "-1");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage")
                .global("torch", "FloatStorage").str("0").str("cpu").bool(true)), "storage numel");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage")
                .global("torch", "FloatStorage").str("0").str("cpu").op('G').raw(new byte[] {0x40, 0x10, 0, 0, 0, 0, 0, 0})),
                "storage numel");
        // LONG1 with 9 bytes: 2^70.
        byte[] twoTo70 = {0, 0, 0, 0, 0, 0, 0, 0, 0x40};
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage")
                .global("torch", "FloatStorage").str("0").str("cpu").op(0x8A).raw(9).raw(twoTo70)),
                "storage numel 1180591620717411303424 is too large");
    }

    // ---- views -------------------------------------------------------------------------------------------

    @Test
    void viewOneElementPastTheEndIsRefused() {
        refused(MalformedCheckpointException.class, wTensor(1, dims(4), dims(1)),
                "storage '0' holds 16 bytes", "(building the value of key 'w')");
        refused(MalformedCheckpointException.class, wTensor(0, dims(5), dims(1)), "holds 16 bytes");
        refused(MalformedCheckpointException.class, wTensor(0, dims(2, 2), dims(3, 1)), "holds 16 bytes");
        refused(MalformedCheckpointException.class, wTensor(4, dims(), dims()), "holds 16 bytes");
        refused(MalformedCheckpointException.class, wTensor(0, dims(2, 3), dims(1, 2)), "holds 16 bytes");
    }

    @Test
    void viewsThatJustFitLoad() throws IOException {
        assertArrayEquals(new float[] {-2.0f, 0.25f, 8.0f}, loadW(wTensor(1, dims(3), dims(1))).toFloatArray());
        Tensor t = loadW(wTensor(0, dims(2, 2), dims(2, 1)));
        assertEquals(8.0f, t.getFloat(1, 1));
        Tensor tr = loadW(wTensor(0, dims(2, 2), dims(1, 2)));
        assertFalse(tr.isContiguous());
        assertEquals(0.25f, tr.getFloat(0, 1));
        assertArrayEquals(new float[] {1.5f, 0.25f, -2.0f, 8.0f}, tr.toFloatArray());
    }

    @Property(tries = 300)
    void aViewLoadsExactlyWhenItsLastElementIsInsideTheStorage(
            @ForAll @IntRange(min = 0, max = 6) int offset,
            @ForAll @IntRange(min = 0, max = 4) int size0, @ForAll @IntRange(min = 0, max = 4) int size1,
            @ForAll @IntRange(min = 0, max = 4) int stride0, @ForAll @IntRange(min = 0, max = 4) int stride1)
            throws IOException {
        byte[] zip = wTensor(offset, dims(size0, size1), dims(stride0, stride1));
        boolean empty = size0 == 0 || size1 == 0;
        long last = offset + (size0 - 1L) * stride0 + (size1 - 1L) * stride1;
        if (empty || last < 4) {
            Tensor t = loadW(zip);
            assertEquals((long) size0 * size1, t.numel());
            if (!empty) {
                assertEquals(W[(int) last], t.getFloat(size0 - 1, size1 - 1));
                assertEquals(W[offset], t.getFloat(0, 0));
            }
        } else {
            refused(MalformedCheckpointException.class, zip, "holds 16 bytes", "key 'w'");
        }
    }

    @Test
    void negativeSizesStridesAndOffsetsAreRefused() {
        refused(MalformedCheckpointException.class, wTensor(0, dims(-1), dims(1)), "negative");
        refused(MalformedCheckpointException.class, wTensor(0, dims(-2, -3), dims(1, 1)), "negative");
        refused(MalformedCheckpointException.class, wTensor(3, dims(4), dims(-1)), "negative");
        refused(MalformedCheckpointException.class, wTensor(0, dims(4), dims(-1)), "negative");
        refused(MalformedCheckpointException.class, wTensor(-1, dims(4), dims(1)), "storage_offset", "-1");
        refused(MalformedCheckpointException.class, wTensor(Long.MIN_VALUE, dims(4), dims(1)), "storage_offset");
        // an empty view with a negative size elsewhere is still refused
        refused(MalformedCheckpointException.class, wTensor(0, dims(0, -1), dims(1, 1)), "negative");
    }

    @Test
    void overflowingSizeProductsAreRefused() {
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0,
                dims(1L << 32, 1L << 32), dims(0, 0))), "0", le(1f)), "(building the value of key 'w')");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0,
                dims(1L << 31, 1L << 32), dims(0, 0))), "0", le(1f)));
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0,
                dims(Long.MAX_VALUE / 2, 2), dims(0, 0))), "0", le(1f)));
        // in bytes: 2^62 float32 elements fit a long as a count, not as bytes
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0,
                dims(1L << 62), dims(0))), "0", le(1f)));
        // the extent overflows although the element count does not
        refused(MalformedCheckpointException.class, wTensor(0, dims(2, 2), dims(Long.MAX_VALUE, 1)));
        refused(MalformedCheckpointException.class, wTensor(Long.MAX_VALUE, dims(2), dims(1)));
    }

    @Test
    void strideZeroViewBeyondMaxTensorElementsIsALimit() {
        byte[] defaultsBeyond = ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0,
                dims(1L << 21, 1L << 21), dims(0, 0))), "0", le(1f));
        LimitExceededException e = refused(LimitExceededException.class, defaultsBeyond, "4398046511104 elements",
                "key 'w'");
        assertEquals("maxTensorElements", e.limitName());
        assertEquals(1L << 40, e.limit());

        LoadOptions small = LoadOptions.builder().limits(LoadLimits.builder().maxTensorElements(1000).build()).build();
        byte[] expanded = ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0, dims(100, 100), dims(0, 0))),
                "0", le(1f));
        LimitExceededException e2 = refused(LimitExceededException.class, expanded, small, "10000 elements");
        assertEquals(1000, e2.limit());
    }

    @Test
    void strideZeroViewWithinTheLimitLoadsAsAView() throws IOException {
        byte[] zip = ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 1, 0, dims(1_000_000, 1_000_000),
                dims(0, 0))), "0", le(3.5f));
        Tensor t = loadW(zip);
        assertEquals(1_000_000_000_000L, t.numel());
        assertEquals(4, t.storage().byteSize());
        assertEquals(3.5f, t.getFloat(999_999, 999_999));
        assertEquals(3.5f, t.getFloat(0, 0));
        // copying it out is refused rather than attempted
        assertThrows(IllegalStateException.class, t::toFloatArray);
    }

    @Test
    void emptyTensorsNeedNoCapacityWhateverTheirOffset() throws IOException {
        Tensor t = loadW(wTensor(1_000_000, dims(0), dims(1)));
        assertEquals(0, t.numel());
        assertEquals(1_000_000, t.storageOffset());
        assertEquals(0, t.contiguousBytes().byteSize());
        assertEquals(0, t.toFloatArray().length);
        Tensor wide = loadW(wTensor(1L << 40, dims(0, 3), dims(3, 1)));
        assertEquals(0, wide.numel());
        assertArrayEquals(dims(0, 3), wide.shape());
        Tensor huge = loadW(wTensor(0, dims(0, 1L << 62, 1L << 62), dims(1, 1, 1)));
        assertEquals(0, huge.numel());
        // an empty record with an empty tensor
        Tensor none = loadW(ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 0, 7, dims(2, 0), dims(1, 1))),
                "0", new byte[0]));
        assertEquals(0, none.numel());
    }

    @Test
    void zeroDimTensorsReadTheirOneElement() throws IOException {
        Tensor t = loadW(wTensor(2, dims(), dims()));
        assertEquals(0, t.dim());
        assertEquals(1, t.numel());
        assertEquals(0.25f, t.getFloat());
        assertEquals(8.0f, loadW(wTensor(3, dims(), dims())).getFloat());
        assertThrows(IllegalArgumentException.class, () -> t.getFloat(0));
    }

    @Test
    void malformedSizeAndStrideValuesAreRefused() {
        refused(MalformedCheckpointException.class, wTensor(0, dims(4), dims(1, 1)), "dimensions");
        byte[] floatSize = ckpt(underW(p -> p.global("torch._utils", "_rebuild_tensor_v2").mark()
                .storage("torch.FloatStorage", "0", "cpu", 4).integer(0)
                .mark().op('G').raw(new byte[] {0x40, 0x10, 0, 0, 0, 0, 0, 0}).op('t').tupleOfInts(1)
                .bool(false).orderedDict().op('t').reduce()), "0", le(W));
        refused(MalformedCheckpointException.class, floatSize, "size must hold ints");
        byte[] boolSize = ckpt(underW(p -> p.global("torch._utils", "_rebuild_tensor_v2").mark()
                .storage("torch.FloatStorage", "0", "cpu", 4).integer(0)
                .mark().bool(true).op('t').tupleOfInts(1).bool(false).orderedDict().op('t').reduce()), "0", le(W));
        refused(MalformedCheckpointException.class, boolSize, "size must hold ints");
        byte[] noneStride = ckpt(underW(p -> p.global("torch._utils", "_rebuild_tensor_v2").mark()
                .storage("torch.FloatStorage", "0", "cpu", 4).integer(0).tupleOfInts(4).none()
                .bool(false).orderedDict().op('t').reduce()), "0", le(W));
        refused(MalformedCheckpointException.class, noneStride, "stride must be a tuple of ints");
    }

    // ---- sharing -----------------------------------------------------------------------------------------

    @Test
    void tensorsOverOneKeyShareOneStorage() throws IOException {
        byte[] pkl = PickleBuilder.protocol(2).emptyDict()
                .str("a").tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).op('s')
                .str("b").tensorV2("torch.FloatStorage", "0", 4, 2, dims(2), dims(1)).op('s')
                .str("c").tensorV2("torch.FloatStorage", "1", 4, 0, dims(4), dims(1)).op('s')
                .stop().bytes();
        try (Checkpoint c = load(ckpt(pkl, "0", le(W), "1", le(W)))) {
            StateDict sd = c.stateDict();
            assertSame(sd.tensor("a").storage(), sd.tensor("b").storage());
            assertNotSame(sd.tensor("a").storage(), sd.tensor("c").storage());
            assertEquals(3, c.tensorCount());
            assertEquals(2, c.storageCount());
            assertEquals(0.25f, sd.tensor("b").getFloat(0));
        }
    }

    @Test
    void tiedEmbeddingFixtureSharesOneStorage() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("sd_embedding_tied"))) {
            StateDict sd = c.stateDict();
            Tensor embed = sd.tensor("embed.weight");
            Tensor head = sd.tensor("head.weight");
            assertSame(embed.storage(), head.storage());
            assertNotSame(embed.storage(), sd.tensor("norm.weight").storage());
            assertNotSame(embed.storage(), sd.tensor("head.bias").storage());
            assertArrayEquals(embed.toFloatArray(), head.toFloatArray());
            assertEquals(4, c.storageCount());
        }
    }

    @Test
    void viewsFixtureSharesStoragesAsSaved() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("views"))) {
            StateDict sd = c.stateDict();
            Tensor base = sd.tensor("base");
            for (String view : new String[] {"slice", "transpose", "row", "column", "step"}) {
                assertSame(base.storage(), sd.tensor(view).storage(), view);
            }
            // (the dump numbers both empty storages alike only because torch gives both data_ptr 0)
            assertEquals(0, sd.tensor("empty_0x3").storage().byteSize());
            assertEquals(0, sd.tensor("empty_2x0").numel());
            assertNotSame(base.storage(), sd.tensor("expand").storage());
            assertNotSame(base.storage(), sd.tensor("scalar").storage());
            Tensor slice = sd.tensor("slice");
            Tensor transpose = sd.tensor("transpose");
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(base.getFloat(1 + i, 2 + j), slice.getFloat(i, j));
                }
            }
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 6; j++) {
                    assertEquals(base.getFloat(i, j), transpose.getFloat(j, i));
                }
                assertEquals(base.getFloat(i, 1), sd.tensor("column").getFloat(i));
            }
            assertEquals(base.getFloat(2, 5), sd.tensor("row").getFloat(5));
            assertEquals(base.getFloat(4, 3), sd.tensor("step").getFloat(2, 1));
            Tensor expand = sd.tensor("expand");
            assertArrayEquals(dims(0, 0), expand.strides());
            assertEquals(4, expand.storage().byteSize());
            assertTrue(sd.tensor("leaf_requires_grad").requiresGrad());
            assertTrue(sd.tensor("param").requiresGrad());
            assertFalse(sd.tensor("param_frozen").requiresGrad());
            assertFalse(base.requiresGrad());
        }
    }

    // ---- rebuild functions -----------------------------------------------------------------------------

    @Test
    void rebuildTensorV3ReadsBfloat16FromAnUntypedStorage() throws IOException {
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x20, (byte) 0xC0, 0x49, 0x40, (byte) 0x80, 0x7F}; // 1, -2.5, 3.140625, inf
        byte[] zip = ckpt(underW(p -> v3(p, "0", 8, 0, dims(4), dims(1), q -> q.global("torch", "bfloat16"))), "0", bf16);
        Tensor t = loadW(zip);
        assertEquals(DType.BFLOAT16, t.dtype());
        assertArrayEquals(new float[] {1.0f, -2.5f, 3.140625f, Float.POSITIVE_INFINITY}, t.toFloatArray());
        // offsets and strides count bfloat16 elements
        Tensor strided = loadW(ckpt(underW(p -> v3(p, "0", 8, 1, dims(2), dims(2), q -> q.global("torch", "bfloat16"))),
                "0", bf16));
        assertArrayEquals(new float[] {-2.5f, Float.POSITIVE_INFINITY}, strided.toFloatArray());
        // the view must fit the bytes in units of the v3 dtype
        refused(MalformedCheckpointException.class, ckpt(underW(p -> v3(p, "0", 8, 1, dims(4), dims(1),
                q -> q.global("torch", "bfloat16"))), "0", bf16), "holds 8 bytes");
    }

    @Test
    void rebuildTensorV3ReadsFloat8E4M3fn() throws IOException {
        byte[] f8 = {0x38, (byte) 0xC0, 0x7E, 0x01, 0x7F, 0x00, (byte) 0x80, 0x40};
        byte[] zip = ckpt(underW(p -> v3(p, "0", 8, 0, dims(2, 4), dims(4, 1), q -> q.global("torch", "float8_e4m3fn"))),
                "0", f8);
        Tensor t = loadW(zip);
        assertEquals(DType.FLOAT8_E4M3FN, t.dtype());
        assertEquals(1.0f, t.getFloat(0, 0));
        assertEquals(-2.0f, t.getFloat(0, 1));
        assertEquals(448.0f, t.getFloat(0, 2));
        assertEquals(0.001953125f, t.getFloat(0, 3)); // 2^-9, the smallest subnormal
        assertTrue(Float.isNaN(t.getFloat(1, 0)));
        assertEquals(0.0f, t.getFloat(1, 1));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(t.getFloat(1, 2)));
        assertEquals(2.0f, t.getFloat(1, 3));
    }

    @Test
    void rebuildTensorV3ChecksItsDtypeAndBytes() throws IOException {
        refused(MalformedCheckpointException.class, ckpt(underW(p -> v3(p, "0", 4, 0, dims(1), dims(1),
                q -> q.global("torch", "float64"))), "0", new byte[4]), "holds 4 bytes");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> v3(p, "0", 4, 0, dims(1), dims(1),
                q -> q.str("float64"))), "0", new byte[4]), "_rebuild_tensor_v3 expects a dtype, got str");
        // reinterpreting a typed storage with a smaller dtype is legal
        Tensor halves = loadW(ckpt(underW(p -> p.global("torch._utils", "_rebuild_tensor_v3").mark()
                .storage("torch.FloatStorage", "0", "cpu", 4).integer(0).tupleOfInts(8).tupleOfInts(1).bool(false)
                .orderedDict().global("torch", "float16").op('t').reduce()), "0", le(W)));
        assertEquals(DType.FLOAT16, halves.dtype());
        assertEquals(8, halves.numel());
        // float32 1.5 is 0x3FC00000: halves 0x0000 and 0x3FC0 (1.9375); -2.0 is 0xC0000000: 0x0000, 0xC000 (-2.0)
        assertEquals(0.0f, halves.getFloat(0));
        assertEquals(1.9375f, halves.getFloat(1));
        assertEquals(-2.0f, halves.getFloat(3));
    }

    @Test
    void conjMetadataOnComplexNegatesImaginaryParts() throws IOException {
        byte[] zip = ckpt(underW(p -> v2WithMetadata(p, "torch.ComplexFloatStorage", "0", 2, dims(2), dims(1),
                m -> m.emptyDict().str("conj").bool(true).op('s'))), "0", le(1f, 2f, 3f, -4f));
        Tensor t = loadW(zip);
        assertEquals(DType.COMPLEX64, t.dtype());
        assertTrue(t.isConj());
        assertEquals(1.0, t.getReal(0));
        assertEquals(-2.0, t.getImag(0));
        assertEquals(3.0, t.getReal(1));
        assertEquals(4.0, t.getImag(1));
        Tensor resolved = t.resolveConjAndNeg();
        assertFalse(resolved.isConj());
        assertEquals(-2.0, resolved.getImag(0));
        assertEquals(4.0, resolved.getImag(1));
        // the stored bytes are untouched
        assertArrayEquals(le(1f, 2f, 3f, -4f), t.toByteArray());
    }

    @Test
    void negMetadataNegatesValues() throws IOException {
        Tensor t = loadW(ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4, dims(4), dims(1),
                m -> m.emptyDict().str("neg").bool(true).op('s'))), "0", le(W)));
        assertTrue(t.isNeg());
        assertArrayEquals(new float[] {-1.5f, 2.0f, -0.25f, -8.0f}, t.toFloatArray());
        Tensor off = loadW(ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4, dims(4), dims(1),
                m -> m.emptyDict().str("conj").bool(false).op('s'))), "0", le(W)));
        assertFalse(off.isConj());
        Tensor none = loadW(ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4, dims(4), dims(1),
                PickleBuilder::none)), "0", le(W)));
        assertArrayEquals(W, none.toFloatArray());
    }

    @Test
    void badMetadataIsRefused() {
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4,
                dims(4), dims(1), m -> m.emptyDict().str("foo").bool(true).op('s'))), "0", le(W)),
                "tensor metadata key 'foo'");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4,
                dims(4), dims(1), m -> m.emptyDict().str("conj").bool(true).op('s'))), "0", le(W)),
                "conjugate bit needs a complex dtype");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4,
                dims(4), dims(1), m -> m.emptyDict().str("neg").integer(1).op('s'))), "0", le(W)),
                "tensor metadata 'neg' must be a bool");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> v2WithMetadata(p, "torch.FloatStorage", "0", 4,
                dims(4), dims(1), m -> m.emptyList())), "0", le(W)), "tensor metadata must be a dict");
    }

    @Test
    void parameterViaRebuildParameterSetsRequiresGrad() throws IOException {
        for (boolean flag : new boolean[] {true, false}) {
            Tensor t = loadW(ckpt(underW(p -> p.global("torch._utils", "_rebuild_parameter").mark()
                    .tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).bool(flag).orderedDict()
                    .op('t').reduce()), "0", le(W)));
            assertEquals(flag, t.requiresGrad());
            assertArrayEquals(W, t.toFloatArray());
        }
    }

    @Test
    void parameterViaNewobjOfTheClassSetsRequiresGrad() throws IOException {
        Tensor withFlag = loadW(ckpt(underW(p -> p.global("torch.nn.parameter", "Parameter").mark()
                .tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).bool(true).op('t').op(0x81)), "0", le(W)));
        assertTrue(withFlag.requiresGrad());
        Tensor defaulted = loadW(ckpt(underW(p -> p.global("torch.nn.parameter", "Parameter").mark()
                .tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).op('t').op(0x81)), "0", le(W)));
        assertTrue(defaulted.requiresGrad(), "Parameter(data) defaults to requires_grad=True");
        Tensor frozen = loadW(ckpt(underW(p -> p.global("torch.nn.parameter", "Parameter").mark()
                .tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).bool(false).op('t').reduce()), "0", le(W)));
        assertFalse(frozen.requiresGrad());
    }

    @Test
    void parameterOfSomethingElseIsRefused() {
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.global("torch._utils", "_rebuild_parameter")
                .mark().integer(5).bool(true).orderedDict().op('t').reduce())), "_rebuild_parameter expects a tensor, got int");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.global("torch.nn.parameter", "Parameter")
                .mark().str("x").op('t').op(0x81))), "Parameter expects a tensor, got str");
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> p.global("torch._utils", "_rebuild_parameter")
                .mark().tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).bool(true)
                .emptyDict().str("hook").integer(1).op('s').op('t').reduce()), "0", le(W)), "backward hooks");
    }

    @Test
    void parameterWithStateIsRefusedUnlessTheStateIsEmpty() throws IOException {
        Consumer<PickleBuilder> tensor = p -> p.tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1));
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> {
            p.global("torch._utils", "_rebuild_parameter_with_state").mark();
            tensor.accept(p);
            p.bool(true).orderedDict().emptyDict().str("foo").integer(1).op('s').op('t').reduce();
        }), "0", le(W)), "_rebuild_parameter_with_state", "non-empty state");
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> {
            p.global("torch._utils", "_rebuild_parameter_with_state").mark();
            tensor.accept(p);
            p.bool(true).orderedDict().mark().emptyDict().emptyDict().str("__class__").str("x").op('s')
                    .op('t').op('t').reduce();
        }), "0", le(W)), "non-empty state");
        Tensor t = loadW(ckpt(underW(p -> {
            p.global("torch._utils", "_rebuild_parameter_with_state").mark();
            tensor.accept(p);
            p.bool(true).orderedDict().emptyDict().op('t').reduce();
        }), "0", le(W)));
        assertTrue(t.requiresGrad());
    }

    private static void fromTypeV2(PickleBuilder p, Consumer<PickleBuilder> type, Consumer<PickleBuilder> state) {
        p.global("torch._tensor", "_rebuild_from_type_v2").mark().global("torch._utils", "_rebuild_tensor_v2");
        type.accept(p);
        p.mark().storage("torch.FloatStorage", "0", "cpu", 4).integer(0).tupleOfInts(4).tupleOfInts(1).bool(false)
                .orderedDict().op('t');
        state.accept(p);
        p.op('t').reduce();
    }

    @Test
    void rebuildFromTypeV2WithTorchTensorOrParameterWorks() throws IOException {
        Tensor t = loadW(ckpt(underW(p -> fromTypeV2(p, q -> q.global("torch", "Tensor"), PickleBuilder::emptyDict)),
                "0", le(W)));
        assertArrayEquals(W, t.toFloatArray());
        Tensor none = loadW(ckpt(underW(p -> fromTypeV2(p, q -> q.global("torch", "Tensor"), PickleBuilder::none)),
                "0", le(W)));
        assertArrayEquals(W, none.toFloatArray());
        Tensor param = loadW(ckpt(underW(p -> fromTypeV2(p, q -> q.global("torch.nn.parameter", "Parameter"),
                PickleBuilder::emptyDict)), "0", le(W)));
        assertArrayEquals(W, param.toFloatArray());
    }

    @Test
    void rebuildFromTypeV2WithAnotherClassIsRefused() {
        UnsupportedGlobalException notAllowed = refused(UnsupportedGlobalException.class, ckpt(underW(p -> fromTypeV2(p,
                q -> q.global("mypkg", "MyTensor"), PickleBuilder::emptyDict)), "0", le(W)), "mypkg.MyTensor");
        assertEquals("mypkg.MyTensor", notAllowed.globalName());
        LoadOptions allowed = LoadOptions.builder().allowGlobal("mypkg.MyTensor").build();
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> fromTypeV2(p,
                q -> q.global("mypkg", "MyTensor"), PickleBuilder::emptyDict)), "0", le(W)), allowed,
                "a tensor subclass", "mypkg.MyTensor");
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> fromTypeV2(p,
                q -> q.global("torch", "FloatTensor"), PickleBuilder::emptyDict)), "0", le(W)), "a tensor subclass");
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> fromTypeV2(p,
                q -> q.global("torch", "Tensor"), s -> s.emptyDict().str("x").integer(1).op('s'))), "0", le(W)),
                "non-empty state");
        refused(UnsafeCheckpointException.class, ckpt(underW(p -> p.global("torch._tensor", "_rebuild_from_type_v2")
                .mark().integer(1).global("torch", "Tensor").emptyTuple().emptyDict().op('t').reduce())),
                "_rebuild_from_type_v2 of something that is not an allowed function");
    }

    // ---- persistent ids --------------------------------------------------------------------------------

    @Test
    void intPersistentIdIsRefused() {
        MalformedCheckpointException e = refused(MalformedCheckpointException.class,
                ckpt(underW(p -> p.integer(7).op('Q')), "0", le(W)), "persistent", "int");
        assertFalse(e.getMessage().contains("tuple or int, but got int"), "must not call an int both right and wrong: "
                + e.getMessage());
    }

    @Test
    void moduleTypenameIsUnsafe() {
        refused(UnsafeCheckpointException.class, withPid(2, p -> p.str("module").global("collections", "OrderedDict")
                .str("x").str("y")), "Only persistent_load of storage is allowed, but got 'module'");
    }

    @Test
    void legacySixFieldIdIsUnsupported() {
        // The 6-field form belongs to the legacy stream; inside a zip archive it is malformed.
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage").global("torch", "FloatStorage")
                .str("0").str("cpu").integer(4).none()), "a storage id in the zip format has 5 fields", "got 6");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage").global("torch", "FloatStorage")
                .str("0").str("cpu")), "5 fields", "got 4");
        refused(MalformedCheckpointException.class, ckpt(underW(p -> p.emptyTuple().op('Q')), "0", le(W)),
                "empty persistent id");
    }

    @Test
    void wrongStorageTypeIsRefused() {
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage").global("torch", "float32")
                .str("0").str("cpu").integer(4)), "storage type must be a torch storage class");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage").global("torch", "Tensor")
                .str("0").str("cpu").integer(4)), "storage type must be a torch storage class");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage")
                .global("collections", "OrderedDict").str("0").str("cpu").integer(4)),
                "storage type must be a torch storage class");
        refused(UnsupportedGlobalException.class, withPid(2, p -> p.str("storage").global("torch", "FooStorage")
                .str("0").str("cpu").integer(4)), "torch.FooStorage");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage").global("torch", "FloatStorage")
                .integer(0).str("cpu").integer(4)), "storage key must be str");
        refused(MalformedCheckpointException.class, withPid(2, p -> p.str("storage").global("torch", "FloatStorage")
                .str("0").integer(0).integer(4)), "storage location must be str");
    }

    @Test
    void bytesStorageTypenameAndLocationAreAccepted() throws IOException {
        byte[] storage = "storage".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] cpu = "cpu".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Tensor t = loadW(withPid(3, p -> p.op('C').raw(storage.length).raw(storage).global("torch", "FloatStorage")
                .str("0").op('C').raw(cpu.length).raw(cpu).integer(4)));
        assertArrayEquals(W, t.toFloatArray());
        assertEquals("cpu", t.storage().location());
    }

    @Test
    void tensorAsPersistentIdIsRefusedWithoutPrintingIt() {
        MalformedCheckpointException e = refused(MalformedCheckpointException.class, ckpt(underW(p ->
                p.tensorV2("torch.FloatStorage", "0", 4, 0, dims(4), dims(1)).op('Q')), "0", le(W)), "persistent");
        assertFalse(e.getMessage().contains("1.5"), e.getMessage());
    }

    @Test
    void textPersistentIdOfProtocolZeroResolvesThroughTheAllowlist() throws IOException {
        PickleBuilder p = PickleBuilder.bare().op('(').op('d').str("w") // protocol 0 style: MARK DICT
                .global("torch._utils", "_rebuild_tensor_v2").mark()
                .op('P').line("('storage', <class 'torch.FloatStorage'>, '0', 'cpu', 4)")
                .integer(0).tupleOfInts(4).tupleOfInts(1).bool(false).orderedDict().op('t').reduce().op('s').stop();
        Tensor t = loadW(ckpt(p.bytes(), "0", le(W)));
        assertArrayEquals(W, t.toFloatArray());
        PickleBuilder evil = PickleBuilder.bare().op('(').op('d').str("w")
                .global("torch._utils", "_rebuild_tensor_v2").mark()
                .op('P').line("('storage', <class 'os.system'>, '0', 'cpu', 4)")
                .integer(0).tupleOfInts(4).tupleOfInts(1).bool(false).orderedDict().op('t').reduce().op('s').stop();
        refused(UnsupportedGlobalException.class, ckpt(evil.bytes(), "0", le(W)), "os.system", "blocked");
    }

    // ---- constructs not rebuilt ------------------------------------------------------------------------

    @Test
    void wrapperSubclassesAreRefusedByName() {
        byte[] zip = ckpt(underW(p -> p.global("torch._utils", "_rebuild_wrapper_subclass").mark()
                .global("torch", "float32").tupleOfInts(1L << 40).tupleOfInts(1).bool(false).op('t').reduce()));
        refused(UnsupportedCheckpointException.class, zip,
                "a tensor wrapper subclass (a tensor with no storage of its own) (torch._utils._rebuild_wrapper_subclass)",
                "key 'w'");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({"_rebuild_qtensor, _rebuild_qtensor takes 7 arguments",
            "_rebuild_sparse_tensor, _rebuild_sparse_tensor takes 2 arguments",
            "_rebuild_device_tensor_from_cpu_tensor, expects (tensor, dtype, device, requires_grad)"})
    void rebuildFunctionsRefuseArgumentsOfTheWrongShape(String function, String message) {
        byte[] zip = ckpt(underW(p -> p.global("torch._utils", function).mark().global("torch", "float32")
                .tupleOfInts(1L << 40).tupleOfInts(1).bool(false).op('t').reduce()));
        refused(MalformedCheckpointException.class, zip, message, "key 'w'");
    }

    /**
     * PyTorch 1.13's {@code _rebuild_sparse_csr_tensor(layout, (crow_indices, col_indices, values, size))}, which
     * 1.13 allowlists: a CSR tensor of shape (2, 4) over records 0 (crow), 1 (col), 2 (values); col is given.
     */
    private static byte[] csr113(String layout, long... col) {
        ByteBuffer cols = ByteBuffer.allocate(col.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long c : col) {
            cols.putLong(c);
        }
        byte[] pkl = underW(p -> p.global("torch._utils", "_rebuild_sparse_csr_tensor")
                .global("torch.serialization", "_get_layout").str(layout).op(0x85).reduce()
                .mark()
                .tensorV2("torch.LongStorage", "0", 3, 0, dims(3), dims(1))
                .tensorV2("torch.LongStorage", "1", col.length, 0, dims(col.length), dims(1))
                .tensorV2("torch.FloatStorage", "2", 3, 0, dims(3), dims(1))
                .global("torch", "Size").tupleOfInts(2, 4).op(0x85).reduce()
                .op('t').op(0x86).reduce());
        return ckpt(pkl, "0", le(0L, 2L, 3L), "1", cols.array(), "2", le(1f, 2f, 3f));
    }

    @Test
    void csrTensorsOfPyTorch113LoadWithTheirIndicesChecked() throws IOException {
        try (Checkpoint c = Checkpoint.load(csr113("torch.sparse_csr", 0, 3, 2), NAME)) {
            SparseTensor s = assertInstanceOf(SparseTensor.class, ((PyDict) c.root()).get("w"));
            assertEquals(TorchLayout.SPARSE_CSR, s.layout());
            assertArrayEquals(new float[] {1, 0, 0, 2, 0, 0, 3, 0}, s.toDense().toFloatArray());
        }
        refused(MalformedCheckpointException.class, csr113("torch.sparse_csr", 0, 4, 2), "key 'w'");
        refused(UnsupportedCheckpointException.class, csr113("torch.sparse_csc", 0, 3, 2),
                "_rebuild_sparse_csr_tensor rebuilds only torch.sparse_csr");
    }

    @Test
    void metaTensorsLoadAsShapeOnly() throws IOException {
        byte[] zip = ckpt(underW(p -> p.global("torch._utils", "_rebuild_meta_tensor_no_storage").mark()
                .global("torch", "float32").tupleOfInts(1L << 40, 3).tupleOfInts(3, 1).bool(true).op('t').reduce()));
        try (Checkpoint c = Checkpoint.load(zip, NAME)) {
            MetaTensor m = assertInstanceOf(MetaTensor.class, ((dev.weightsonly.python.PyDict) c.root()).get("w"));
            assertArrayEquals(new long[] {1L << 40, 3}, m.shape());
            assertTrue(m.requiresGrad());
        }
    }

    @Test
    void quantizedFixtureLoadsWithItsQuantizer() throws IOException {
        try (Checkpoint c = Checkpoint.load(Fixtures.file("quantized"))) {
            assertTrue(c.stateDict().tensor("q_u8").quantizer().isPresent());
        }
    }

    // ---- mutation of tensors (CVE-2026-24747 part 1) ----------------------------------------------------

    @Test
    void setitemOntoATensorIsUnsafe() {
        refused(UnsafeCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 4, 0, dims(4),
                dims(1)).integer(1).integer(0x41414141).op('s')), "0", le(W)), "Can only SETITEM", "Tensor");
        refused(UnsafeCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 4, 0, dims(4),
                dims(1)).mark().integer(1).integer(0x41414141).op('u')), "0", le(W)), "Can only SETITEMS", "Tensor");
        refused(UnsafeCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 4, 0, dims(4),
                dims(1)).integer(1).op('a')), "0", le(W)), "Can only append to lists");
    }

    @Test
    void buildOnATensorIsRefused() {
        refused(UnsupportedCheckpointException.class, ckpt(underW(p -> p.tensorV2("torch.FloatStorage", "0", 4, 0,
                dims(4), dims(1)).emptyDict().str("x").integer(1).op('s').op('b')), "0", le(W)),
                "Can only BUILD an OrderedDict, a Counter or an object of a caller-allowed class, not a tensor");
    }

    // ---- user-allowed globals ---------------------------------------------------------------------------

    private static byte[] thing() {
        return PickleBuilder.protocol(2).emptyDict()
                .str("new").global("mypkg", "Thing").mark().integer(1).str("a").op('t').op(0x81)
                .emptyDict().str("x").integer(2).op('s').op('b').op('s')
                .str("call").global("mypkg", "Thing").mark().integer(3).op('t').reduce().op('s')
                .stop().bytes();
    }

    @Test
    void userAllowedGlobalLoadsAsAnInertObject() throws IOException {
        LoadOptions options = LoadOptions.builder().allowGlobal("mypkg.Thing").build();
        try (Checkpoint c = Checkpoint.load(ckpt(thing()), NAME, options)) {
            PyDict root = (PyDict) c.root();
            PyObject made = (PyObject) root.get("new");
            assertEquals("mypkg.Thing", made.className());
            assertEquals(PyTuple.of(1L, "a"), made.args());
            PyDict state = (PyDict) made.state();
            assertEquals(2L, state.get("x"));
            PyObject called = (PyObject) root.get("call");
            assertEquals(PyTuple.of(3L), called.args());
            assertSame(dev.weightsonly.python.PyNone.NONE, called.state());
        }
    }

    @Test
    void theSameGlobalIsRefusedWithoutTheAllowance() {
        UnsupportedGlobalException e = refused(UnsupportedGlobalException.class, ckpt(thing()),
                LoadOptions.defaults(),
                "GLOBAL mypkg.Thing was not an allowed global by default");
        assertEquals("mypkg.Thing", e.globalName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"os.system", "builtins.eval", "subprocess.Popen", "posix.system", "nt.system",
            "builtins.exec", "__builtin__.eval", "sys.modules", "os.path.join", "torch.load", "pickle.loads",
            "not a name", "eval", ""})
    void dangerousOrMalformedNamesCannotBeAllowed(String name) {
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.builder().allowGlobal(name));
    }

    @Test
    void systemGlobalsInThePickleAreRefused() {
        byte[] zip = ckpt(underW(p -> p.global("os", "system").str("id").op(0x85).reduce()));
        UnsupportedGlobalException e = refused(UnsupportedGlobalException.class, zip, "os.system");
        assertEquals("os.system", e.globalName());
        byte[] posix = ckpt(underW(p -> p.global("posix", "system").str("id").op(0x85).reduce()));
        refused(UnsupportedGlobalException.class, posix, "posix.system", "blocked");
    }
}
