package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.StateDict;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "API tour", run: the common tasks done as a user's own project does them, through the exported API
 * only (this test is compiled inside the module {@code dev.weightsonly.examples}, which {@code requires
 * dev.weightsonly.core}, so the compiler refuses any package the library does not export) and without a cast. The
 * tour's code is the static methods here and the first test; {@link #theReadmeShowsThisCode()} fails when
 * README's code no longer stands here.
 */
class ApiTourTest {

    // loader-core's fixtures, through its test-jar (named in full: the tour's imports are the library's API only)
    private static final Path FIXTURES = dev.weightsonly.testing.SharedFixtures.path("fixtures");

    // --- README: API tour ---

    /** Loads a state dict and goes through its tensors. */
    static List<String> listTensors(Path modelFile) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Checkpoint checkpoint = Checkpoint.load(modelFile)) {       // maps the file; copies nothing
            StateDict weights = checkpoint.stateDict();
            for (Map.Entry<String, Tensor> entry : weights.asMap().entrySet()) {
                Tensor t = entry.getValue();
                lines.add(entry.getKey() + " " + t.dtype() + " " + Arrays.toString(t.shape()));
            }
            Tensor kernel = weights.tensor("0.weight");                  // [4, 3, 3, 3]
            Tensor firstFilter = kernel.select(0, 0);                    // kernel[0], a view: no copy
            Tensor lastTwo = kernel.narrow(0, -2, 2);                    // kernel[-2:]
            Tensor flat = kernel.reshape(4, -1);                         // kernel.reshape(4, -1): [4, 27]
            float[] values = firstFilter.toFloatArray();                 // a copy, row-major
            lines.add(values.length + " " + lastTwo.size(0) + " " + flat.getFloat(3, 26));
        }
        return lines;
    }

    /** Reads the epoch, the learning rate and the optimizer's state of a training checkpoint. */
    static String trainingState(Path checkpointFile) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.load(checkpointFile)) {
            long epoch = checkpoint.get("epoch", Long.class);
            double lr = checkpoint.get("optimizer.param_groups.0.lr", Double.class);
            StateDict model = checkpoint.stateDict("model");
            PyDict optimizer = checkpoint.get("optimizer", PyDict.class);
            Tensor step = optimizer.getDict("state").getDict(0).getTensor("step");  // int keys, as in Python
            PyDict group = optimizer.getList("param_groups").getDict(0);
            double beta2 = group.getTuple("betas").getDouble(1);
            System.out.println(group);          // {'lr': 0.00025, 'betas': (0.9, 0.999), 'eps': 1e-08, ...}
            return epoch + " " + lr + " " + model.size() + " " + step.item() + " " + beta2;
        }
    }

    /** Hands a tensor to native code: its bytes without a copy, or its values copied into memory you own. */
    static void toNativeCode(Path modelFile, FileChannel nativeSink) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.load(modelFile)) {
            Tensor weight = checkpoint.stateDict().tensor("0.weight");
            ByteBuffer bytes = weight.asByteBuffer();      // zero-copy, read-only, little-endian, direct when mapped
            FloatBuffer floats = weight.asFloatBuffer();   // the same memory, read as floats
            nativeSink.write(bytes);                       // or JNI's GetDirectBufferAddress, or an FFM downcall
            Tensor column = weight.select(3, 0);           // weight[:, :, :, 0] is strided: copy its values out
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment input = arena.allocate(column.byteSize(), 64);
                column.copyTo(input);                      // row-major, little-endian, for the native call
                nativeSink.write(input.asByteBuffer());
            }
            System.out.println(floats.get(0));
        }   // closed: Java reads of the buffers now throw, and native code must be done with their memory
    }

    @Test
    void aCheckpointThatRunsCodeIsRefused() {
        Path file = FIXTURES.resolve("malicious/os_system.pt");
        UnsupportedGlobalException refused = assertThrows(UnsupportedGlobalException.class,
                () -> Checkpoint.load(file));
        assertEquals("os.system", refused.globalName());
    }

    /** Allows a class the checkpoint needs: its objects load as inert records, and nothing of it runs. */
    static String allowAClass(Path fairseqFile) throws IOException {
        LoadOptions options = LoadOptions.builder()
                .allowGlobal("fairseq.data.dictionary.Dictionary")
                .build();
        try (Checkpoint checkpoint = Checkpoint.load(fairseqFile, options)) {
            PyObject dictionary = checkpoint.get("dict", PyObject.class);
            List<Object> symbols = dictionary.getList("symbols");
            long unknown = dictionary.getLong("unk_index");
            return symbols.get((int) unknown) + " of " + symbols.size() + ": " + dictionary.fields().keySet();
        }
    }

    // --- end of the API tour ---

    @Test
    void aStateDictIsListedAndViewed() throws IOException {
        List<String> lines = listTensors(FIXTURES.resolve("sd_conv_bn.pt"));
        assertEquals("0.weight float32 [4, 3, 3, 3]", lines.get(0));
        assertEquals("1.num_batches_tracked int64 []", lines.get(6));
        String[] last = lines.get(7).split(" ");
        assertEquals("27", last[0]);
        assertEquals("2", last[1]);
        // torch.load('sd_conv_bn.pt')['0.weight'].reshape(4, -1)[3, 26].item() in PyTorch 2.6
        assertEquals(0.1445743441581726f, Float.parseFloat(last[2]));
    }

    @Test
    void aTrainingCheckpointsValuesAreReadWithoutCasts() throws IOException {
        assertEquals("3 2.5E-4 4 2.0 0.999", trainingState(FIXTURES.resolve("train_checkpoint.pt")));
    }

    @Test
    void aTensorReachesNativeCodeAsItsBytes(@TempDir Path dir) throws IOException {
        Path sink = dir.resolve("native.bin");
        try (FileChannel channel = FileChannel.open(sink, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            toNativeCode(FIXTURES.resolve("sd_conv_bn.pt"), channel);
        }
        byte[] written = Files.readAllBytes(sink);
        try (Checkpoint checkpoint = Checkpoint.load(FIXTURES.resolve("sd_conv_bn.pt"))) {
            Tensor weight = checkpoint.stateDict().tensor("0.weight");
            assertEquals(432 + 144, written.length);
            assertArrayEquals(weight.toByteArray(), Arrays.copyOf(written, 432));
            ByteBuffer column = ByteBuffer.wrap(written, 432, 144).slice().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 36; i++) {
                assertEquals(weight.getFloat(i / 9, i / 3 % 3, i % 3, 0), column.getFloat(4 * i));
            }
            assertTrue(weight.asByteBuffer().isDirect(), "a mapped file's tensor is direct memory");
        }
    }

    @Test
    void anAllowedClassLoadsAsARecord() throws IOException {
        assertEquals("<unk> of 8: [bos_word, unk_word, pad_word, eos_word, symbols, count, indices, bos_index,"
                + " pad_index, eos_index, unk_index, nspecial]", allowAClass(FIXTURES.resolve("fairseq_dictionary.pt")));
    }

    /**
     * The compiler holds this module to what loader-core exports, but loader-core also exports a few internal
     * helpers to this module (the tool's), which a user's project never sees: so the tour's imports are checked
     * against the packages exported to everyone.
     */
    @Test
    void theTourImportsOnlyTheExportedApi() throws IOException {
        List<String> exported = new ArrayList<>();
        for (String module : List.of("../loader-core", "../loader-tensors")) {
            for (String line : Files.readAllLines(Path.of(module, "src/main/java/module-info.java"))) {
                String l = line.strip();
                if (l.startsWith("exports ") && !l.contains(" to ")) {
                    exported.add(l.substring("exports ".length(), l.length() - 1));
                }
            }
        }
        assertTrue(exported.contains("dev.weightsonly.python"), exported.toString());
        int checked = 0;
        for (String line : Files.readAllLines(Path.of("src/test/java/dev/weightsonly/examples/ApiTourTest.java"))) {
            if (line.startsWith("import dev.weightsonly.")) {
                String type = line.substring("import ".length(), line.length() - 1);
                String pkg = type.substring(0, type.lastIndexOf('.'));
                assertTrue(exported.contains(pkg), type + " is not in a package exported to every module");
                checked++;
            }
        }
        assertTrue(checked >= 7, checked + " imports of the library");
    }

    @Test
    void theReadmeShowsThisCode() throws IOException {
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("\n## API tour");
        assertTrue(start >= 0, "README has an API tour");
        int end = readme.indexOf("\n## ", start + 1);
        String tour = readme.substring(start, end < 0 ? readme.length() : end);
        List<String> here = Files.readAllLines(Path.of("src/test/java/dev/weightsonly/examples/ApiTourTest.java"))
                .stream().map(String::strip).toList();
        int lines = 0;
        boolean inJava = false;
        for (String line : tour.lines().toList()) {
            if (line.startsWith("```")) {
                inJava = line.equals("```java");
            } else if (inJava && !line.isBlank()) {
                assertTrue(here.contains(line.strip()), "README's API tour shows a line ApiTourTest lacks: " + line);
                lines++;
            }
        }
        assertTrue(lines > 40, lines + " lines of code in README's API tour");
    }
}
