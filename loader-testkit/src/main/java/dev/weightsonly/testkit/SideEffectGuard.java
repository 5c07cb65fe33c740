package dev.weightsonly.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.function.Executable;
import org.opentest4j.AssertionFailedError;

/**
 * A JUnit 5 extension that fails a test when, during it, the JVM started a process or a watched folder gained a
 * file: what a successful pickle exploit does first (a shell, a dropped file).
 *
 * <pre>{@code
 * @RegisterExtension
 * static SideEffectGuard guard = SideEffectGuard.watching(Path.of("/tmp"), uploadsDirectory);
 * }</pre>
 *
 * <p>Processes are seen on Linux, from {@code /proc/self/stat}: a child that already ended and was reaped (the JVM
 * reaps its children) adds its page faults to the parent's {@code cminflt} and {@code cmajflt} counters, which never
 * decrease, and a child still running is a descendant ({@link ProcessHandle#descendants()}). On other systems only
 * running descendants are seen. Tests that start processes themselves must not use the guard, and the counters are
 * the JVM's: tests run in parallel in one JVM would see each other's processes.
 *
 * <p>jqwik properties are not JUnit 5 tests: guard their bodies with {@link #during}.
 */
public final class SideEffectGuard implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SideEffectGuard.class);

    private final List<Path> folders;

    private SideEffectGuard(List<Path> folders) {
        this.folders = List.copyOf(folders);
    }

    /**
     * A guard on processes and on the given folders (each walked recursively before and after the test).
     *
     * @param folders folders that must not gain files
     * @return the extension, to register with {@code @RegisterExtension}
     */
    public static SideEffectGuard watching(Path... folders) {
        return new SideEffectGuard(List.of(folders));
    }

    private record Before(long childFaults, Set<Long> descendants, List<Set<String>> files) {
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NAMESPACE).put(context.getUniqueId(), snapshot());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Before before = context.getStore(NAMESPACE).remove(context.getUniqueId(), Before.class);
        failOnSideEffectsSince(before, context.getDisplayName());
    }

    /**
     * Runs {@code action} under the guard, for code the JUnit 5 extension does not reach: the body of a jqwik
     * {@code @Property} (jqwik runs properties on its own engine, which calls no JUnit 5 extension, so a registered
     * guard does not see them), or one step of a longer test.
     *
     * @param action the code to guard
     * @throws AssertionFailedError if, while {@code action} ran, a process was started or a watched folder gained a
     *                              file (checked also when {@code action} throws; its exception is then suppressed
     *                              into the failure)
     * @throws Throwable            what {@code action} throws, when it had no side effect
     */
    public void during(Executable action) throws Throwable {
        Before before = snapshot();
        try {
            action.execute();
        } catch (Throwable thrown) {
            try {
                failOnSideEffectsSince(before, "the guarded action");
            } catch (AssertionFailedError sideEffects) {
                sideEffects.addSuppressed(thrown);
                throw sideEffects;
            }
            throw thrown;
        }
        failOnSideEffectsSince(before, "the guarded action");
    }

    private Before snapshot() {
        return new Before(childFaults(), descendants(), listings());
    }

    private void failOnSideEffectsSince(Before before, String what) {
        List<String> problems = new ArrayList<>();
        Set<Long> started = descendants();
        started.removeAll(before.descendants());
        if (!started.isEmpty()) {
            problems.add("processes were started and are still running: " + started);
        } else if (childFaults() != before.childFaults()) {
            problems.add("a process was started and ended (the JVM's reaped-children counters grew)");
        }
        List<Set<String>> after = listings();
        for (int i = 0; i < folders.size(); i++) {
            Set<String> added = new TreeSet<>(after.get(i));
            added.removeAll(before.files().get(i));
            if (!added.isEmpty()) {
                problems.add(folders.get(i) + " gained " + added);
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionFailedError("side effects during " + what + ": " + String.join("; ", problems));
        }
    }

    private List<Set<String>> listings() {
        List<Set<String>> out = new ArrayList<>();
        for (Path folder : folders) {
            Set<String> names = new TreeSet<>();
            if (Files.isDirectory(folder)) {
                try (Stream<Path> walk = Files.walk(folder)) {
                    walk.forEach(p -> names.add(folder.relativize(p).toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (UncheckedIOException e) {
                    // a file vanished while walking: another test's temporary; not a file gained
                }
            }
            out.add(names);
        }
        return out;
    }

    private static Set<Long> descendants() {
        Set<Long> pids = new TreeSet<>();
        ProcessHandle.current().descendants().forEach(p -> pids.add(p.pid()));
        return pids;
    }

    /** cminflt + cmajflt of /proc/self/stat, or 0 where there is no /proc. */
    private static long childFaults() {
        Path stat = Path.of("/proc/self/stat");
        if (!Files.isReadable(stat)) {
            return 0;
        }
        try {
            String line = Files.readString(stat);
            String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[8]) + Long.parseLong(fields[10]);   // fields 11 and 13 of stat(5)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
