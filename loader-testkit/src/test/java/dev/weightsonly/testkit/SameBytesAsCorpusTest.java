package dev.weightsonly.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.weightsonly.testing.SharedFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kit builds, byte for byte, the files weightsonly's own adversarial corpus (written by
 * loader-core/src/test/resources/adversarial/gen_corpus.py) holds for the same attacks: one catalogue of attacks,
 * two writers that agree.
 */
class SameBytesAsCorpusTest {

    private static final Path CORPUS = SharedFixtures.path("adversarial");

    static Stream<Arguments> pairs() {
        return Stream.of(
                pair("A01a_eval_reduce.pt", () -> HostileCheckpoints.callingGlobal("builtins.eval",
                        HostileCheckpoints.COMMAND)),
                pair("A02_posix_system.pt", HostileCheckpoints::osSystem),
                pair("A02_os_system.pt", () -> HostileCheckpoints.stateDictCallingGlobal("os.system")),
                pair("B01_torchscript_archive.pt", HostileCheckpoints::torchScriptArchive),
                pair("B02c_tar_os_system.pt", () -> HostileCheckpoints.tarCallingGlobal("os.system")),
                pair("B12_sparse_index_outside.pt", HostileCheckpoints::sparseIndexOutOfRange),
                pair("C06c_memo_flood_limit.pt", () -> HostileCheckpoints.memoFlood(1001)),
                pair("C09d_nested_tuple1.pt", HostileCheckpoints::nestingBomb),
                pair("C12a_deflate_bomb.pt", HostileCheckpoints::zipBomb),
                pair("D12a_record_shorter.pt", HostileCheckpoints::recordSizeMismatch));
    }

    private static Arguments pair(String file, Supplier<byte[]> builder) {
        return Arguments.of(file, builder);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void theKitBuildsTheCorpusFile(String file, Supplier<byte[]> builder) throws IOException {
        assertArrayEquals(Files.readAllBytes(CORPUS.resolve(file)), builder.get(), file);
    }
}
