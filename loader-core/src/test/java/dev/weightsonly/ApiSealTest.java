package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The API is sealed (issue 14): loader-core's module descriptor exports no machinery, and no public type of an
 * exported package shows a type of a package that is not exported in what a caller can see of it (supertypes,
 * public and protected fields, methods, constructors, record components, thrown types, type arguments).
 */
class ApiSealTest {

    private static final Path CLASSES = classesFolder();

    private static Path classesFolder() {
        try {
            return Path.of(Checkpoint.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ModuleDescriptor descriptor() throws IOException {
        try (InputStream in = Files.newInputStream(CLASSES.resolve("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    private static Set<String> exported() throws IOException {
        return descriptor().exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void theModuleExportsNoInternalPackageToEveryone() throws IOException {
        ModuleDescriptor module = descriptor();
        assertEquals("dev.weightsonly.core", module.name());
        for (String p : exported()) {
            assertFalse(p.contains("internal"), "exported to everyone: " + p);
        }
        for (ModuleDescriptor.Exports e : module.exports()) {
            if (e.isQualified()) {
                // the machinery shared with the project's own tool, and only with it (module-info says why)
                assertTrue(e.source().startsWith("dev.weightsonly.internal."), e.toString());
                assertEquals(Set.of("dev.weightsonly.examples"), e.targets(), e.toString());
            }
        }
        // every package of the module is either exported or internal: nothing is left half-way
        for (String p : module.packages()) {
            assertTrue(exported().contains(p) || p.startsWith("dev.weightsonly.internal"), "neither API nor internal: " + p);
        }
    }

    @Test
    void noExportedSignatureShowsAnUnexportedType() throws Exception {
        Set<String> visible = new TreeSet<>(exported());
        visible.add("dev.weightsonly.tensors"); // loader-tensors' one package, required transitively
        List<String> leaks = new ArrayList<>();
        int types = 0;
        for (String p : exported()) {
            for (Class<?> c : publicTypes(p)) {
                types++;
                for (Type t : surface(c)) {
                    check(t, visible, c.getName(), leaks, new ArrayList<>());
                }
            }
        }
        assertTrue(types > 20, "too few public types found: " + types);
        assertEquals(List.of(), leaks);
    }

    /** The public classes of a package, top-level and nested (a nested one only if all its outers are public). */
    private static List<Class<?>> publicTypes(String pkg) throws IOException, ClassNotFoundException {
        Path dir = CLASSES.resolve(pkg.replace('.', '/'));
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".class") || name.equals("package-info.class")) {
                    continue;
                }
                Class<?> c = Class.forName(pkg + "." + name.substring(0, name.length() - 6), false,
                        ApiSealTest.class.getClassLoader());
                if (c.isAnonymousClass() || c.isLocalClass() || c.isSynthetic()) {
                    continue;
                }
                if (reachable(c)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** Whether code outside the package can name {@code c}: it and every class around it are public. */
    private static boolean reachable(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    /** Every type a caller of {@code c} can see in its declarations. */
    private static List<Type> surface(Class<?> c) {
        List<Type> out = new ArrayList<>();
        if (c.getGenericSuperclass() != null) {
            out.add(c.getGenericSuperclass());
        }
        out.addAll(List.of(c.getGenericInterfaces()));
        if (c.isSealed()) {
            out.addAll(List.of(c.getPermittedSubclasses()));
        }
        for (Field f : c.getDeclaredFields()) {
            if (seen(f.getModifiers())) {
                out.add(f.getGenericType());
            }
        }
        for (Method m : c.getDeclaredMethods()) {
            if (seen(m.getModifiers()) && !m.isSynthetic()) {
                out.add(m.getGenericReturnType());
                out.addAll(List.of(m.getGenericParameterTypes()));
                out.addAll(List.of(m.getGenericExceptionTypes()));
            }
        }
        for (Constructor<?> k : c.getDeclaredConstructors()) {
            if (seen(k.getModifiers())) {
                out.addAll(List.of(k.getGenericParameterTypes()));
                out.addAll(List.of(k.getGenericExceptionTypes()));
            }
        }
        if (c.isRecord()) {
            for (RecordComponent r : c.getRecordComponents()) {
                out.add(r.getGenericType());
            }
        }
        return out;
    }

    private static boolean seen(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static void check(Type t, Set<String> visible, String where, List<String> leaks, List<Type> walked) {
        if (walked.contains(t)) {
            return; // a type variable bounded by itself (<T extends Comparable<T>>)
        }
        walked.add(t);
        switch (t) {
            case Class<?> c -> {
                while (c.isArray()) {
                    c = c.getComponentType();
                }
                String p = c.getPackageName();
                if (p.startsWith("dev.weightsonly") && (!visible.contains(p) || !reachable(c))) {
                    leaks.add(where + " shows " + c.getName());
                }
            }
            case ParameterizedType p -> {
                check(p.getRawType(), visible, where, leaks, walked);
                for (Type a : p.getActualTypeArguments()) {
                    check(a, visible, where, leaks, walked);
                }
            }
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) {
                    check(b, visible, where, leaks, walked);
                }
                for (Type b : w.getLowerBounds()) {
                    check(b, visible, where, leaks, walked);
                }
            }
            case TypeVariable<?> v -> {
                for (Type b : v.getBounds()) {
                    check(b, visible, where, leaks, walked);
                }
            }
            case GenericArrayType a -> check(a.getGenericComponentType(), visible, where, leaks, walked);
            default -> throw new AssertionError("unknown kind of type: " + t);
        }
    }
}
