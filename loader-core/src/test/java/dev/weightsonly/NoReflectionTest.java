package dev.weightsonly;

import dev.weightsonly.internal.load.CheckpointReader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No code path of the library can resolve a name reflectively, load code or run a process: the main
 * sources of loader-tensors and loader-core contain none of the APIs that could. Every global a pickle
 * names is looked up in fixed tables (TorchAllowlist, PyBuiltin), so a name from a file can never
 * become a class, a method or a command.
 */
class NoReflectionTest {

    /** The brief's list, plus the other doors to running code: class loading, scripting, Java
     * deserialisation, native calls and proxies. */
    private static final List<String> FORBIDDEN = List.of(
            "Class.forName", ".getDeclaredMethod(", ".getDeclaredField(",
            ".getMethods(", ".getDeclaredMethods(", ".getConstructor(", ".getDeclaredConstructor(",
            "MethodHandles.lookup", "MethodHandles.privateLookupIn", "ServiceLoader", ".newInstance(",
            "setAccessible", "java.lang.reflect", "java.lang.invoke", "ProcessBuilder", "Runtime.getRuntime().exec",
            "Runtime.getRuntime()", "System.loadLibrary", "System.load(", "ClassLoader", "defineClass",
            "javax.script", "ScriptEngine", "ObjectInputStream", "sun.misc.Unsafe", "jdk.internal",
            "Linker.nativeLinker", "SymbolLookup", "Proxy.newProxyInstance", "javax.naming", "InitialContext");

    /**
     * {@code Class.getMethod(name, ...)} and {@code Class.getField(name)} always take a name; a no-argument
     * {@code getMethod()} is something else (ZipArchiveEntry's compression method).
     */
    private static final Pattern REFLECTIVE_GETTER = Pattern.compile("\\.get(Method|Field)\\(\\s*[^)\\s]");

    /** A {@code native} method declaration. */
    private static final Pattern NATIVE_METHOD = Pattern.compile("\\bnative\\s+[A-Za-z_][\\w<>\\[\\], ]*\\s+\\w+\\s*\\(");

    private static Path projectRoot() {
        Path dir = Paths.get("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("loader-core/src/main/java"))
                    && Files.isDirectory(p.resolve("loader-tensors/src/main/java"))) {
                return p;
            }
        }
        throw new IllegalStateException("no project root above " + dir);
    }

    private static List<Path> sources(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }

    /** The forbidden constructs in {@code text}, each with its line number. */
    static List<String> findings(String text) {
        List<String> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            for (String f : FORBIDDEN) {
                if (lines[i].contains(f)) {
                    out.add("line " + (i + 1) + ": " + f);
                }
            }
            var getter = REFLECTIVE_GETTER.matcher(lines[i]);
            if (getter.find()) {
                out.add("line " + (i + 1) + ": .get" + getter.group(1) + "(");
            }
            String code = lines[i].strip();
            boolean comment = code.startsWith("*") || code.startsWith("/*") || code.startsWith("//");
            // Prose in comments may say "native memory ... (": only declarations count.
            if (!comment && NATIVE_METHOD.matcher(lines[i]).find()) {
                out.add("line " + (i + 1) + ": native method");
            }
        }
        return out;
    }

    @Test
    void theScannerSeesWhatItLooksFor() {
        assertEquals(List.of("line 2: Class.forName"), findings("int a;\nClass<?> c = Class.forName(name);\n"));
        assertEquals(List.of("line 1: native method"), findings("private static native int f(int x);"));
        assertEquals(List.of(), findings(" * native memory is what a copying load costs most (the kernel"));
        assertTrue(findings("m = c.getDeclaredMethod(\"x\");").contains("line 1: .getDeclaredMethod("));
        assertTrue(findings("new ProcessBuilder(cmd).start();").contains("line 1: ProcessBuilder"));
        assertTrue(findings("Runtime.getRuntime().exec(cmd);").contains("line 1: Runtime.getRuntime().exec"));
        assertTrue(findings("private static native int run(String s);").contains("line 1: native method"));
        assertTrue(findings("Method m = type.getMethod(\"run\", String.class);").contains("line 1: .getMethod("));
        assertTrue(findings("f = type.getField( name);").contains("line 1: .getField("));
        assertEquals(List.of(), findings("// native memory of the arena\nZipMethod.getMethodByCode(entry.getMethod());"));
    }

    @Test
    void mainSourcesUseNoReflectionClassLoadingOrProcesses() throws IOException {
        Path root = projectRoot();
        List<Path> dirs = List.of(root.resolve("loader-tensors/src/main/java"), root.resolve("loader-core/src/main/java"));
        List<String> problems = new ArrayList<>();
        int scanned = 0;
        Set<String> seen = new java.util.HashSet<>();
        for (Path dir : dirs) {
            for (Path file : sources(dir)) {
                scanned++;
                seen.add(file.getFileName().toString());
                String text = Files.readString(file, StandardCharsets.UTF_8);
                for (String f : findings(text)) {
                    problems.add(root.relativize(file) + " " + f);
                }
            }
        }
        // The scan really covered both modules (it cannot pass by finding nothing to read).
        assertTrue(scanned >= 40, "scanned only " + scanned + " files");
        for (String expected : List.of("Checkpoint.java", "CheckpointReader.java", "Unpickler.java",
                "TorchUnpicklerHost.java", "TorchAllowlist.java", "ZipArchive.java", "Tensor.java", "Storage.java",
                "module-info.java")) {
            assertTrue(seen.contains(expected), expected + " was scanned");
        }
        assertEquals("", problems.stream().collect(Collectors.joining("\n")),
                "forbidden constructs in main sources");
    }
}
