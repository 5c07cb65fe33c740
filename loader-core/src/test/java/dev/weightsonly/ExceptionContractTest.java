package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.PickleBuilder;
import dev.weightsonly.testing.ZipWriter;
import dev.weightsonly.writer.TorchWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, class 14: what public methods throw on hostile input or misuse. A shard whose root is not a state
 * dict is a {@link MalformedCheckpointException} naming the shard; every failure of a load is a
 * {@link CheckpointException} naming the file, a path or stream that cannot be read an
 * {@link UnreadableCheckpointException} (issue 14); {@code close()} during a read on another
 * thread neither leaks the memory nor lets the reader touch released memory; and every kind of storage
 * (mapped, copied, inflated, byte-swapped) is unreadable after {@code close()}.
 */
class ExceptionContractTest {

    @TempDir
    Path tmp;

    /** Threads of their own: the common pool may have a single worker on a small machine. */
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private static final float[] VALUES = {1.5f, -2.25f, 3.0f, 1e-3f, 7.0f, -0.0f};

    /** A checkpoint of one float32 tensor "w" of shape [2, 3] written by the Java writer, as torch writes it. */
    private Path written() throws IOException {
        MemorySegment bytes = MemorySegment.ofArray(new byte[4 * VALUES.length]);
        for (int i = 0; i < VALUES.length; i++) {
            bytes.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, VALUES[i]);
        }
        Path file = tmp.resolve("w.pt");
        TorchWriter.save(Map.of("w", Tensor.contiguousView(Storage.of(bytes, "0", "cpu"), DType.FLOAT32, 0, 2, 3)),
                file);
        return file;
    }

    private static Map<String, byte[]> records(Path zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                try (InputStream in = z.getInputStream(entry)) {
                    out.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return out;
    }

    private static ZipWriter rewrite(Map<String, byte[]> records) {
        ZipWriter w = ZipWriter.empty("unused");
        records.forEach((name, data) -> w.record("/" + name, data));
        return w;
    }

    /** The same checkpoint with every record DEFLATED (as re-zipping a checkpoint makes it). */
    private Path deflated() throws IOException {
        Path file = tmp.resolve("deflated.pt");
        Files.write(file, rewrite(records(written())).deflated().bytes());
        return file;
    }

    /** The same checkpoint as a big-endian host writes it: byteorder "big" and each float's bytes swapped. */
    private Path bigEndian() throws IOException {
        Map<String, byte[]> records = records(written());
        for (Map.Entry<String, byte[]> e : records.entrySet()) {
            if (e.getKey().endsWith("/byteorder")) {
                e.setValue("big".getBytes());
            } else if (e.getKey().endsWith("/data/0")) {
                byte[] swapped = e.getValue().clone();
                ByteBuffer.wrap(swapped).asFloatBuffer().put(VALUES); // ByteBuffer's default order is big-endian
                e.setValue(swapped);
            }
        }
        assertTrue(records.keySet().stream().anyMatch(k -> k.endsWith("/byteorder")), "the writer writes byteorder");
        Path file = tmp.resolve("big.pt");
        Files.write(file, rewrite(records).bytes());
        return file;
    }

    private static void readableUntilClosed(Checkpoint c) {
        Tensor w = c.stateDict().tensor("w");
        assertArrayEquals(VALUES, w.toFloatArray());
        c.close();
        assertThrows(IllegalStateException.class, w::toFloatArray, c.toString());
        assertThrows(IllegalStateException.class, () -> w.getFloat(0, 0), c.toString());
        assertFalse(w.storage().bytes().scope().isAlive(), c + ": the storage's memory is released");
    }

    @Test
    void everyKindOfStorageIsUnreadableAfterClose() throws IOException {
        for (Path file : List.of(written(), deflated(), bigEndian())) {
            readableUntilClosed(Checkpoint.load(file));                                   // mapped
            readableUntilClosed(Checkpoint.load(Files.readAllBytes(file), file.toString())); // copied from an array
            readableUntilClosed(Checkpoint.load(new ByteArrayInputStream(Files.readAllBytes(file)), "stream"));
            try (InputStream in = Files.newInputStream(file)) {
                readableUntilClosed(Checkpoint.load(in, "file stream"));
            }
            try (InputStream in = new java.io.FileInputStream(file.toFile())) {
                readableUntilClosed(Checkpoint.load(in, "mapped stream")); // copied through a temporary mapping
            }
        }
    }

    /** Streams the bytes of "w" into a pipe nobody reads yet: the write blocks holding the checkpoint's memory. */
    private CompletableFuture<Long> blockedWrite(Checkpoint c, Pipe pipe) {
        ByteBuffer bytes = c.stateDict().tensor("big").contiguousBytes().asByteBuffer();
        return CompletableFuture.supplyAsync(() -> {
            long n = 0;
            try {
                while (bytes.hasRemaining()) {
                    n += pipe.sink().write(bytes);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return n;
        }, threads);
    }

    private Path oneMebibyte() throws IOException {
        Path file = tmp.resolve("mib.pt");
        MemorySegment bytes = MemorySegment.ofArray(new byte[1 << 20]);
        TorchWriter.save(Map.of("big", Tensor.contiguousView(Storage.of(bytes, "0", "cpu"), DType.UINT8, 0, 1 << 20)),
                file);
        return file;
    }

    private CompletableFuture<Long> drain(Pipe pipe) {
        return CompletableFuture.supplyAsync(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            long n = 0;
            try {
                while (n < (1 << 20)) {
                    buffer.clear();
                    n += pipe.source().read(buffer);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return n;
        }, threads);
    }

    /** A mapped checkpoint whose tensor "big" another thread is writing to a full pipe. */
    private record Blocked(Checkpoint c, Tensor big, Pipe pipe, CompletableFuture<Long> write) {
    }

    private Blocked blocked() throws Exception {
        Pipe pipe = Pipe.open();
        Checkpoint c = Checkpoint.load(oneMebibyte());
        CompletableFuture<Long> write = blockedWrite(c, pipe);
        Thread.sleep(300); // the write now blocks on the full pipe, inside the channel's use of the memory
        assertFalse(write.isDone());
        return new Blocked(c, c.stateDict().tensor("big"), pipe, write);
    }

    @Test
    void closeDuringAWriteOnAnotherThreadWaitsForItAndReleasesTheMapping() throws Exception {
        Blocked b = blocked();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(b.c()::close, threads);
        Thread.sleep(300);
        assertFalse(closing.isDone(), "close() waits for the write in flight");
        assertEquals(1 << 20, drain(b.pipe()).get(30, TimeUnit.SECONDS));
        assertEquals(1 << 20, b.write().get(30, TimeUnit.SECONDS), "the write completes with every byte");
        closing.get(30, TimeUnit.SECONDS);
        assertFalse(b.big().storage().bytes().scope().isAlive(), "the mapping is released, not leaked");
        assertThrows(IllegalStateException.class, () -> b.big().getLong(0));
        b.c().close(); // again: nothing to do
    }

    @Test
    void aCloseThatCannotWaitLongEnoughReleasesNothingAndCanBeRetried() throws Exception {
        Blocked b = blocked();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.c().close(Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains("close() can be called again"), e.getMessage());
        assertTrue(b.big().storage().bytes().scope().isAlive(), "nothing released");
        assertEquals(0, b.big().getLong(0), "still readable");
        assertEquals(1 << 20, drain(b.pipe()).get(30, TimeUnit.SECONDS));
        assertEquals(1 << 20, b.write().get(30, TimeUnit.SECONDS));
        b.c().close();
        assertFalse(b.big().storage().bytes().scope().isAlive(), "released by the retry");
        assertThrows(IllegalStateException.class, () -> b.big().getLong(0));
    }

    @Test
    void aShardWhoseRootIsNotAStateDictIsAMalformedCheckpointNamingTheShard() throws IOException {
        TorchWriter.save(Map.of("a", Tensor.contiguousView(Storage.of(MemorySegment.ofArray(new byte[4]), "0", "cpu"),
                DType.FLOAT32, 0, 1)), tmp.resolve("good.bin"));
        TorchWriter.save(List.of(1L, 2L), tmp.resolve("list.bin"));
        Path index = tmp.resolve("pytorch_model.bin.index.json");
        Files.writeString(index, "{\"metadata\": {}, \"weight_map\": {\"a\": \"good.bin\", \"b\": \"list.bin\"}}");
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class,
                () -> Checkpoint.loadSharded(index));
        assertTrue(e.getMessage().contains("list.bin") && e.getMessage().contains("not a state dict"), e.getMessage());
    }

    @Test
    void safeGlobalsAddIsAllOrNothing() {
        String harmless = "exception_contract_test.Harmless";
        try {
            assertThrows(IllegalArgumentException.class, () -> SafeGlobals.add(harmless, "os.system"));
            assertFalse(SafeGlobals.get().contains(harmless), "no name is added when one is refused");
        } finally {
            if (SafeGlobals.get().contains(harmless)) {
                SafeGlobals.clear();
            }
        }
    }

    @Test
    void stateDictMisuseAndHostileSizes() {
        // Stride-0 views of 2^58 float64 elements (2^61 bytes) each, as a file loaded with a raised
        // maxTensorElements may hold: the sum of their bytes overflows a long.
        Storage one = Storage.of(MemorySegment.ofArray(new byte[8]), "0", "cpu");
        LinkedHashMap<String, Tensor> huge = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            huge.put("t" + i, Tensor.of(one, DType.FLOAT64, 0, new long[] {1L << 58}, new long[] {0}));
        }
        StateDict sd = new StateDict("huge views", huge);
        assertEquals(Long.MAX_VALUE, sd.totalBytes());
        assertThrows(NullPointerException.class, () -> sd.tensor(null));
        assertThrows(java.util.NoSuchElementException.class, () -> sd.tensor("missing"));
    }

    // ---- every failure of a load is a CheckpointException naming the file ----------------------------------

    @Test
    void everyLoadMethodDeclaresCheckpointExceptionAlone() {
        List<java.lang.reflect.Method> loads = java.util.Arrays.stream(Checkpoint.class.getMethods())
                .filter(m -> m.getName().startsWith("load") && java.lang.reflect.Modifier.isStatic(m.getModifiers()))
                .toList();
        assertEquals(8, loads.size(), loads.toString()); // load: Path, stream, bytes, each with and without options; loadSharded: 2
        for (java.lang.reflect.Method m : loads) {
            assertArrayEquals(new Class<?>[] {CheckpointException.class}, m.getExceptionTypes(), m.toString());
        }
    }

    @Test
    void loadingADirectorySaysSo() throws IOException {
        UnreadableCheckpointException e = assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.load(tmp));
        assertEquals(tmp + ": is a directory, not a checkpoint file", e.getMessage());
        assertEquals(tmp.toString(), e.source());
        Files.writeString(tmp.resolve("pytorch_model.bin.index.json"), "{}");
        Path folder = Files.createDirectory(tmp.resolve("model.safetensors.index.json"));
        assertEquals(folder + ": is a directory, not a checkpoint file",
                assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.loadSharded(folder)).getMessage());
    }

    @Test
    void aMissingFileOrOneThatDisappearsIsUnreadableNamingIt() throws IOException {
        Path missing = tmp.resolve("missing.pt");
        UnreadableCheckpointException e = assertThrows(UnreadableCheckpointException.class,
                () -> Checkpoint.load(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        assertTrue(e.getCause() instanceof java.nio.file.NoSuchFileException, String.valueOf(e.getCause()));
        // A file deleted after it was found (a folder listed, then loaded) and a link whose target was deleted.
        Path gone = written();
        Path link = Files.createSymbolicLink(tmp.resolve("link.pt"), gone);
        Files.delete(gone);
        assertEquals(gone + ": no such file",
                assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.load(gone)).getMessage());
        assertEquals(link + ": no such file",
                assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.load(link)).getMessage());
        assertEquals(missing + ": no such file",
                assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.loadSharded(missing)).getMessage());
    }

    /** A regular file of sysfs: it opens and reads, but the kernel maps none of them ("No such device"). */
    private static Path unmappable() throws IOException {
        try (var files = Files.walk(Path.of("/sys/kernel"), 2)) {
            return files.filter(p -> Files.isRegularFile(p) && Files.isReadable(p)).findFirst()
                    .orElseThrow(() -> new AssertionError("no readable file under /sys/kernel to map"));
        }
    }

    @Test
    void aFileThatCannotBeMappedIsUnreadableNamingIt() throws IOException {
        Path file = unmappable();
        UnreadableCheckpointException e = assertThrows(UnreadableCheckpointException.class, () -> Checkpoint.load(file));
        assertTrue(e.getMessage().startsWith(file + ": cannot be mapped (") && e.getMessage().endsWith(
                "): it is not a regular file"), e.getMessage());
        assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
    }

    @Test
    void aStreamWhoseReadFailsIsUnreadableNamingTheStream() {
        IOException failure = new IOException("connection reset");
        // 100 bytes, then every read fails (InputStream's own read(byte[]) swallows a failure after the first byte).
        InputStream failing = new InputStream() {
            private int left = 100;

            @Override
            public int read() throws IOException {
                if (left <= 0) {
                    throw failure;
                }
                left--;
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    throw failure;
                }
                int n = Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 0);
                left -= n;
                return n;
            }
        };
        UnreadableCheckpointException e = assertThrows(UnreadableCheckpointException.class,
                () -> Checkpoint.load(failing, "upload.pt"));
        assertEquals("upload.pt: the stream could not be read: connection reset", e.getMessage());
        assertEquals(failure, e.getCause());
    }

    @Test
    void aMissingShardIsUnreadableNamingTheShardAndItsIndex() throws IOException {
        TorchWriter.save(Map.of("a", Tensor.contiguousView(Storage.of(MemorySegment.ofArray(new byte[4]), "0", "cpu"),
                DType.FLOAT32, 0, 1)), tmp.resolve("good.bin"));
        Path index = tmp.resolve("pytorch_model.bin.index.json");
        Files.writeString(index, "{\"metadata\": {}, \"weight_map\": {\"a\": \"good.bin\", \"b\": \"gone.bin\"}}");
        UnreadableCheckpointException e = assertThrows(UnreadableCheckpointException.class,
                () -> Checkpoint.loadSharded(index));
        assertEquals(tmp.resolve("gone.bin").toAbsolutePath() + ": no such file, and pytorch_model.bin.index.json"
                + " names it as a shard", e.getMessage());
    }

    // ---- a bare pickle that names a refused global is unsafe, as torch says -----------------------------------

    private static byte[] barePickleCalling(String module, String name) {
        return PickleBuilder.protocol(2).global(module, name).str("id").op(0x85).reduce().stop().bytes();
    }

    @Test
    void aBarePickleNamingADangerousGlobalIsUnsafeNotOnlyNotACheckpoint() {
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class,
                () -> Checkpoint.load(barePickleCalling("os", "system"), "payload.bin"));
        assertEquals("payload.bin: a bare pickle, not a torch.save checkpoint: at pickle offset 2: Weights only load"
                + " failed. Trying to load unsupported GLOBAL os.system whose module os is blocked.", e.getMessage());
        assertFalse(e.allowable());
        UnsupportedGlobalException eval = assertThrows(UnsupportedGlobalException.class,
                () -> Checkpoint.load(barePickleCalling("builtins", "eval"), "payload.bin"));
        assertFalse(eval.allowable());
        assertTrue(eval.getMessage().contains("weightsonly never allows it"), eval.getMessage());
    }

    @Test
    void aBarePickleOfAnotherGlobalIsRefusedWithTheRemedyAndOnceAllowedIsNotACheckpoint() throws IOException {
        byte[] pickle = barePickleCalling("mylib", "Config");
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class,
                () -> Checkpoint.load(pickle, "config.pkl"));
        assertTrue(e.allowable());
        assertEquals("mylib.Config", e.globalName());
        assertEquals("Weights only load failed. Unsupported global: GLOBAL mylib.Config was not an allowed global by"
                + " default.", e.refusal());
        assertEquals(e.refusal() + " If you trust this class, allow it for the load:"
                + " LoadOptions.builder().allowGlobal(\"mylib.Config\"), or for every load with"
                + " SafeGlobals.add(\"mylib.Config\").", e.detail());
        assertEquals("config.pkl: a bare pickle, not a torch.save checkpoint: at pickle offset 2", e.where());
        assertEquals(e.where() + ": " + e.detail(), e.getMessage());
        // Allowed, torch builds the object and finds no magic number: the file is no checkpoint, and nothing unsafe.
        MalformedCheckpointException allowed = assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(
                pickle, "config.pkl", LoadOptions.builder().allowGlobal("mylib.Config").build()));
        assertTrue(allowed.getMessage().contains("bare pickle"), allowed.getMessage());
        byte[] ordered = PickleBuilder.protocol(2).orderedDict().stop().bytes();
        assertTrue(assertThrows(MalformedCheckpointException.class, () -> Checkpoint.load(ordered, "o.pkl"))
                .getMessage().contains("bare pickle"));
    }
}
