package dev.weightsonly.internal.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The record-name rules of {@link ZipChecks#name}, segment by segment (the check walks the name without
 * splitting it, so each edge of a segment is pinned here): which names pass and which problem a refused one is.
 */
class ZipNameRulesTest {

    private static String check(String name) throws CheckpointException {
        byte[] raw = name.getBytes(StandardCharsets.UTF_8);
        return ZipChecks.name(MemorySegment.ofArray(raw), 0, raw.length, LoadLimits.defaults(),
                CheckpointException.Location.of("names.pt"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"archive/data.pkl", "archive/data/0", "archive/", "a", "archive/.x", "archive/x.",
        "archive/...", "archive/..x/0", "a/b/c/", ".hidden/data.pkl", "archive/.../..a"})
    void plainRelativeNamesPass(String name) throws CheckpointException {
        assertEquals(name, check(name));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "./archive/data.pkl|a '.' segment",
        "archive/./data.pkl|a '.' segment",
        "archive/..|a '..' segment",
        "..|a '..' segment",
        ".|a '.' segment",
        "archive/../../tmp/x|a '..' segment",
        "archive//data.pkl|an empty segment",
        "archive/data//|an empty segment",
        "/archive/data.pkl|an absolute path",
        "C:archive/data.pkl|a drive letter",
        "archive\\data.pkl|a backslash"})
    void refusedNamesSayWhy(String name, String problem) {
        MalformedCheckpointException e = assertThrows(MalformedCheckpointException.class, () -> check(name));
        assertEquals(true, e.getMessage().contains(": " + problem + " ("), e.getMessage());
    }
}
