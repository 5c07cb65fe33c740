package dev.weightsonly.cli;

import dev.weightsonly.internal.io.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code verify --sha256 HEX FILE} and {@code verify --manifest SHA256SUMS [FILE...]}: whether files have
 * the digests published for them. A manifest is what {@code sha256sum} writes and model hubs publish: one
 * line per file, {@code HEX  path} (text mode) or {@code HEX *path} (binary mode: the same digest on every
 * platform that matters here), a leading backslash marking a name with {@code \\n} or {@code \\\\} escapes;
 * paths are relative to the manifest's folder. Each file is read whole (the cost is in docs/BENCHMARKS.md).
 */
final class DigestCheck {

    /** A manifest line: the digest and the path as written. */
    record Entry(String sha256, String path) {
    }

    private DigestCheck() {
    }

    /** Checks one file; returns the exit status (0 match, 1 mismatch, 2 unreadable). */
    static int one(Path file, String expectedHex, PrintWriter out, PrintWriter err) {
        String expected;
        try {
            expected = Sha256.normalize(expectedHex.strip());
        } catch (IllegalArgumentException e) {
            err.println("weightsonly: --sha256: " + e.getMessage());
            return WeightsOnlyCommand.USAGE_OR_IO;
        }
        return check(file, file.toString(), expected, out, err);
    }

    /** Checks the files of a manifest ({@code only}: just these, each of which must be listed; empty: all). */
    static int manifest(Path manifest, List<Path> only, PrintWriter out, PrintWriter err) {
        List<Entry> entries;
        try {
            entries = parse(Files.readString(manifest, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            err.println("weightsonly: " + manifest + ": no such file");
            return WeightsOnlyCommand.USAGE_OR_IO;
        } catch (IOException | IllegalArgumentException e) {
            err.println("weightsonly: " + manifest + ": " + e.getMessage());
            return WeightsOnlyCommand.USAGE_OR_IO;
        }
        Path folder = manifest.toAbsolutePath().normalize().getParent();
        Map<Path, Entry> byPath = new LinkedHashMap<>();
        for (Entry e : entries) {
            byPath.put(folder.resolve(e.path()).normalize(), e);
        }
        int status = 0;
        List<Path> wanted = new ArrayList<>();
        if (only.isEmpty()) {
            wanted.addAll(byPath.keySet());
        } else {
            for (Path p : only) {
                Path abs = p.toAbsolutePath().normalize();
                if (byPath.containsKey(abs)) {
                    wanted.add(abs);
                } else {
                    err.println("weightsonly: " + p + ": not listed in " + manifest);
                    status = Math.max(status, WeightsOnlyCommand.USAGE_OR_IO);
                }
            }
        }
        for (Path p : wanted) {
            Entry e = byPath.get(p);
            status = Math.max(status, check(p, e.path(), e.sha256(), out, err));
        }
        return status;
    }

    private static int check(Path file, String label, String expected, PrintWriter out, PrintWriter err) {
        String actual;
        try {
            actual = Sha256.of(file);
        } catch (NoSuchFileException e) {
            err.println("weightsonly: " + label + ": no such file");
            return WeightsOnlyCommand.USAGE_OR_IO;
        } catch (IOException e) {
            err.println("weightsonly: " + label + ": " + e.getMessage());
            return WeightsOnlyCommand.USAGE_OR_IO;
        }
        if (actual.equals(expected)) {
            out.println(label + ": OK");
            return VerifyCommand.EQUAL;
        }
        out.println(label + ": FAILED: SHA-256 mismatch: expected " + expected + ", the file's is " + actual);
        return VerifyCommand.DIFFERENT;
    }

    /**
     * The entries of a sha256sum manifest.
     *
     * @throws IllegalArgumentException naming the first line that is not {@code HEX  path} or {@code HEX *path}
     */
    static List<Entry> parse(String text) {
        List<Entry> entries = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank()) {
                continue;
            }
            boolean escaped = line.startsWith("\\");
            String body = escaped ? line.substring(1) : line;
            if (body.length() < 67 || (body.charAt(64) != ' ') || (body.charAt(65) != ' ' && body.charAt(65) != '*')) {
                throw new IllegalArgumentException("line " + (i + 1) + " is not a sha256sum line (HEX  path or"
                        + " HEX *path)");
            }
            String hex;
            try {
                hex = Sha256.normalize(body.substring(0, 64));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
            String path = body.substring(66);
            entries.add(new Entry(hex, escaped ? unescape(path, i + 1) : path));
        }
        return entries;
    }

    /** sha256sum's escapes in a name: {@code \\} and {@code \n}. */
    private static String unescape(String s, int line) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
            } else if (i + 1 < s.length() && (s.charAt(i + 1) == '\\' || s.charAt(i + 1) == 'n')) {
                out.append(s.charAt(++i) == 'n' ? '\n' : '\\');
            } else {
                throw new IllegalArgumentException("line " + line + ": a backslash escapes only \\ and n");
            }
        }
        return out.toString();
    }
}
