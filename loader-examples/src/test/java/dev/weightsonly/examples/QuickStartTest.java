package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightsonly.testing.SharedFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuickStartTest {

    @Test
    void printsEveryTensorAndTheFirstKernelValue() throws Exception {
        String file = SharedFixtures.path("fixtures/sd_conv_bn.pt").toString();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            QuickStart.main(new String[] {file});
        } finally {
            System.setOut(original);
        }
        List<String> lines = buffer.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(8, lines.size(), String.join("\n", lines));
        assertEquals("0.weight float32 [4, 3, 3, 3]", lines.get(0));
        assertEquals("1.num_batches_tracked int64 []", lines.get(6));
        String last = lines.get(7);
        assertEquals(true, last.startsWith("0.weight[0,0,0,0] = ") && last.endsWith(", 108 values"), last);
        float value = Float.parseFloat(last.substring("0.weight[0,0,0,0] = ".length(), last.lastIndexOf(", ")));
        // torch.load('sd_conv_bn.pt')['0.weight'][0, 0, 0, 0].item() in PyTorch 1.13
        assertEquals((float) 0.04414615407586098, value);
    }
}
