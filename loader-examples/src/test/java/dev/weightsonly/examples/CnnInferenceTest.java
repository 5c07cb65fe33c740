package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.SharedFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CNN trained by gen_cnn.py, run in Java, against the outputs PyTorch computed for the same inputs. */
class CnnInferenceTest {

    static final Path MODEL = Path.of("src/test/resources/inference/cnn.pt").toAbsolutePath();
    static final Path SAMPLES = Path.of("src/test/resources/inference/cnn_reference.pt").toAbsolutePath();

    static Path fixture(String name) {
        return SharedFixtures.path("fixtures/" + name);
    }

    @Test
    void javaLogitsEqualPyTorchsWithinOneHundredThousandth() throws Exception {
        SmallCnn network = SmallCnn.load(MODEL);
        ReferenceSamples samples = ReferenceSamples.load(SAMPLES);
        assertEquals(16, samples.size());
        assertEquals(3, network.classes());
        // conv 4*1*3*3 + 4, fc1 16*36 + 16, fc2 3*16 + 3
        assertEquals(40 + 592 + 51, network.parameterCount());
        for (int i = 0; i < samples.size(); i++) {
            float[] logits = network.logits(samples.inputs()[i]);
            assertEquals(3, logits.length);
            for (int k = 0; k < logits.length; k++) {
                assertEquals(samples.logits()[i][k], logits[k], 1e-5, "sample " + i + " logit " + k);
            }
            assertEquals(samples.classes()[i], SmallCnn.predictedClass(logits), "sample " + i);
        }
        // The classes are not trivially constant: the reference cycles through all three.
        assertEquals(List.of(0L, 1L, 2L, 0L), List.of(samples.classes()[0], samples.classes()[1],
                samples.classes()[2], samples.classes()[3]));
    }

    @Test
    void mainPrintsEverySampleAndAgreesWithPyTorch() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = CnnInference.run(new String[] {MODEL.toString(), SAMPLES.toString()}, print(out), print(err));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text + err);
        List<String> lines = text.lines().toList();
        assertEquals(1 + 16 + 1, lines.size(), text);
        assertEquals(MODEL + ": 683 parameters, 3 classes", lines.get(0));
        assertTrue(lines.get(1).startsWith("sample  0: class 0, logits [  4.6625,  -5.7823,  -2.4690], PyTorch class 0,"),
                lines.get(1));
        assertTrue(lines.get(17).startsWith("16 samples: 0 classes differ from PyTorch's, largest logit difference "),
                lines.get(17));
        assertTrue(lines.get(17).endsWith("(tolerance 1e-05): agrees with PyTorch"), lines.get(17));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theComparisonNoticesAWrongAnswer() throws Exception {
        SmallCnn network = SmallCnn.load(MODEL);
        ReferenceSamples samples = ReferenceSamples.load(SAMPLES);
        assertTrue(CnnInference.run(network, samples).agreesWithPyTorch());
        samples.logits()[5][1] += 1e-4f;
        CnnInference.Result off = CnnInference.run(network, samples);
        assertFalse(off.agreesWithPyTorch());
        assertEquals(1e-4, off.maxDifference(), 1e-5);
        samples.logits()[5][1] -= 1e-4f;
        samples.classes()[7] = (samples.classes()[7] + 1) % 3;
        assertEquals(1, CnnInference.run(network, samples).classMismatches());
    }

    @Test
    void anotherModelIsRefusedNamingTheMissingTensor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SmallCnn.load(fixture("sd_conv_bn.pt")));
        assertTrue(e.getMessage().startsWith(fixture("sd_conv_bn.pt") + ": not the small CNN of gen_cnn.py:"
                + " no tensor 'conv.weight'"), e.getMessage());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = CnnInference.run(new String[] {fixture("sd_linear.pt").toString(), SAMPLES.toString()},
                print(new ByteArrayOutputStream()), print(err));
        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no tensor 'conv.weight'"), err.toString());
    }

    @Test
    void aMaliciousModelFileIsRefusedBeforeAnythingRuns() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path evil = fixture("malicious/posix_system.pt");
        int status = CnnInference.run(new String[] {evil.toString(), SAMPLES.toString()}, print(out), print(err));
        assertEquals(2, status);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("CnnInference: " + evil + ": ") && message.contains("posix.system"), message);
    }

    @Test
    void wrongInputLengthIsAClearError() throws Exception {
        SmallCnn network = SmallCnn.load(MODEL);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> network.logits(new float[63]));
        assertEquals("an image is 64 values (8 x 8), not 63", e.getMessage());
    }

    private static PrintStream print(ByteArrayOutputStream buffer) {
        return new PrintStream(buffer, true, StandardCharsets.UTF_8);
    }
}
