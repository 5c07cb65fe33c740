package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.testkit.Attack;
import dev.weightsonly.testkit.HostileArbitraries;
import dev.weightsonly.testkit.SideEffectGuard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * WeightsService's proof that it rejects malicious checkpoints, written as a user of the test kit writes it (README,
 * "Testing your service"): every attack of the kit keeps the service from starting, with the refusal the kit
 * expects, nothing runs, nothing is written; the real model still starts.
 */
// --- README: testing your service ---
class WeightsServiceRejectsHostileModelsTest {

    static final Path UPLOADS = uploadsFolder();   // where the service takes models from

    @RegisterExtension
    static SideEffectGuard guard = SideEffectGuard.watching(UPLOADS);   // no process started, no file dropped

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @ParameterizedTest
    @EnumSource(Attack.class)
    void everyAttackKeepsTheServiceFromStarting(Attack attack) throws IOException {
        Path upload = Files.write(UPLOADS.resolve("upload.pt"), attack.build());
        try {
            CheckpointException refused = assertThrows(CheckpointException.class,
                    () -> WeightsService.start(upload, LOOPBACK).close());
            assertInstanceOf(attack.refusal(), refused, attack.description());
        } finally {
            Files.delete(upload);
        }
    }

    @Property(tries = 40)
    void noHostileModelStartsTheService(@ForAll("hostile") byte[] model) throws Throwable {
        // jqwik does not run JUnit extensions: the property guards its body itself
        guard.during(() -> {
            Path upload = Files.write(UPLOADS.resolve("upload.pt"), model);
            try {
                assertThrows(CheckpointException.class, () -> WeightsService.start(upload, LOOPBACK).close());
            } finally {
                Files.delete(upload);
            }
        });
    }

    @Provide
    Arbitrary<byte[]> hostile() {
        return HostileArbitraries.hostile();
    }

    @Test
    void theRealModelStillStarts() throws IOException {
        WeightsService.start(CnnInferenceTest.MODEL, LOOPBACK).close();
    }

    private static Path uploadsFolder() {
        try {
            return Files.createTempDirectory("uploads");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
// --- end ---
