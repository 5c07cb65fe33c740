package dev.weightsonly.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** README's "Testing your service" shows the compiled test of loader-examples, line for line. */
class ReadmeSnippetTest {

    @Test
    void theReadmeShowsTheTestedCode() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        String source = Files.readString(Path.of("..", "loader-examples", "src", "test", "java", "dev", "weightsonly",
                "examples", "WeightsServiceRejectsHostileModelsTest.java"));
        String marked = source.substring(source.indexOf("// --- README: testing your service ---\n") + 40,
                source.indexOf("// --- end ---"));
        assertTrue(readme.contains(marked), "README's test differs from WeightsServiceRejectsHostileModelsTest");
    }
}
