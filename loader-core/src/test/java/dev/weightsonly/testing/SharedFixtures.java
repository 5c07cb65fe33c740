package dev.weightsonly.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * loader-core's test files (the PyTorch fixtures under {@code fixtures/}, the adversarial corpus under
 * {@code adversarial/}) for the tests of the other modules, which get them through loader-core's test-jar: a
 * dependency of type {@code test-jar}, scope {@code test}. Within one build the reactor hands a module that
 * dependency as loader-core's {@code target/test-classes} folder before loader-core is packaged, and as the jar
 * once it is: a folder inside the jar is copied out, once per run, into a temporary folder, since the loader and
 * the tool read files by path (mapping them).
 */
public final class SharedFixtures {

    private static final Map<String, Path> COPIED = new HashMap<>();

    private SharedFixtures() {
    }

    /**
     * A file or folder of loader-core's test resources, by its path there.
     *
     * @param resource for example {@code fixtures/sd_linear.pt} or {@code adversarial}
     * @return its path on disk
     * @throws IllegalArgumentException if no such resource is on the class path
     */
    public static Path path(String resource) {
        String top = resource.contains("/") ? resource.substring(0, resource.indexOf('/')) : resource;
        Path folder = folder(top);
        return resource.equals(top) ? folder : folder.resolve(resource.substring(top.length() + 1));
    }

    /** The top-level resource folder {@code name}, on disk. */
    private static synchronized Path folder(String name) {
        Path known = COPIED.get(name);
        if (known != null) {
            return known;
        }
        URL url = SharedFixtures.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalArgumentException(name + " is not on the class path: is loader-core's test-jar a"
                    + " test dependency?");
        }
        try {
            URI uri = url.toURI();
            Path found = "jar".equals(uri.getScheme()) ? copyOut(uri, name) : Path.of(uri);
            COPIED.put(name, found);
            return found;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(url.toString(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the folder at {@code uri} (inside a jar) to a temporary folder deleted when the JVM exits. */
    private static Path copyOut(URI uri, String name) throws IOException {
        FileSystem jar;
        try {
            jar = FileSystems.newFileSystem(uri, Map.of());
        } catch (FileSystemAlreadyExistsException open) {
            jar = FileSystems.getFileSystem(uri);
        }
        Path source = jar.provider().getPath(uri);
        Path target = Files.createTempDirectory("weightsonly-" + name + "-");
        List<Path> all;
        try (Stream<Path> walk = Files.walk(source)) {
            all = walk.toList();
        }
        for (Path p : all) {
            Path to = target.resolve(source.relativize(p).toString());
            if (Files.isDirectory(p)) {
                Files.createDirectories(to);
            } else {
                Files.copy(p, to);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(target)));
        return target;
    }

    private static void delete(Path tree) {
        try (Stream<Path> walk = Files.walk(tree)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind: nothing else to do at exit
        }
    }
}
