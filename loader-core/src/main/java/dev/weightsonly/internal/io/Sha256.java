package dev.weightsonly.internal.io;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.UnsafeCheckpointException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * SHA-256 digests of checkpoint files, as {@code sha256sum} prints them (64 lowercase hex digits), for
 * {@link LoadOptions.Builder#expectSha256(String)} and the tool's {@code verify --sha256}.
 *
 * <p>Cost: a digest reads every byte of the file, where a mapped load normally reads only the pickle and
 * touches tensor bytes when they are used; it runs at the JDK's SHA-256 speed (SHA-NI intrinsics on x86),
 * about as fast as {@code sha256sum} (docs/BENCHMARKS.md).
 */
public final class Sha256 {

    /** Digested a slice at a time: a ByteBuffer view is limited to 2 GiB. */
    private static final long CHUNK = 1L << 28;

    private Sha256() {
    }

    /**
     * The digest of {@code bytes}, of any size (digested in slices, as a {@code ByteBuffer} is limited to 2 GiB).
     *
     * @param bytes the bytes to digest, read once
     * @return 64 lowercase hex digits, as {@code sha256sum} prints them
     */
    public static String of(MemorySegment bytes) {
        MessageDigest md = newDigest();
        for (long at = 0; at < bytes.byteSize(); at += CHUNK) {
            md.update(bytes.asSlice(at, Math.min(CHUNK, bytes.byteSize() - at)).asByteBuffer());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * The digest of a file's bytes, read through a mapping (no heap copy of the file).
     *
     * @param file the file to digest
     * @return 64 lowercase hex digits, as {@code sha256sum} prints them
     * @throws IOException if the file cannot be opened or mapped
     */
    public static String of(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            return of(size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        }
    }

    /**
     * {@code hex} as a canonical digest: 64 hex digits, either case, returned lowercase, so that digests copied
     * from anywhere compare equal.
     *
     * @param hex the digest as published
     * @return the same digest in lowercase
     * @throws IllegalArgumentException if it is not 64 hex digits
     */
    public static String normalize(String hex) {
        if (hex == null || hex.length() != 64 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("a SHA-256 digest is 64 hex digits, got '" + hex + "'");
        }
        return hex.toLowerCase(Locale.ROOT);
    }

    /**
     * Checks {@code bytes} against {@code expected} (null: nothing to check), before a load uses any of them.
     *
     * @param source the file or stream name, for the message
     * @param bytes the whole file
     * @param expected the digest from {@link dev.weightsonly.LoadOptions#expectedSha256()}, or null
     * @throws UnsafeCheckpointException naming both digests when they differ
     */
    public static void check(String source, MemorySegment bytes, String expected) throws UnsafeCheckpointException {
        if (expected == null) {
            return;
        }
        String actual = of(bytes);
        if (!MessageDigest.isEqual(actual.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                expected.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            throw CheckpointException.Location.of(source).unsafe("SHA-256 mismatch: expected " + expected
                    + ", the file's is " + actual + " (the file is not the one the digest was published for:"
                    + " corrupted or replaced; nothing of it was used)");
        }
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
