package dev.weightsonly.internal.globals;

import java.util.Map;

/**
 * Python 3's mapping of Python 2 global names ({@code _compat_pickle}), which torch applies to every
 * GLOBAL before checking its allowlist: {@code torch.save} writes {@code set} as {@code __builtin__ set}.
 */
public final class PythonNames {

    private PythonNames() {
    }

    private static final Map<String, String> IMPORT_MAPPING = Map.ofEntries(
            Map.entry("__builtin__", "builtins"),
            Map.entry("copy_reg", "copyreg"),
            Map.entry("Queue", "queue"),
            Map.entry("repr", "reprlib"),
            Map.entry("_abcoll", "collections.abc"),
            Map.entry("UserDict", "collections"),
            Map.entry("UserList", "collections"),
            Map.entry("UserString", "collections"),
            Map.entry("whichdb", "dbm"),
            Map.entry("StringIO", "io"),
            Map.entry("cStringIO", "io"));

    private static final Map<String, String> NAME_MAPPING = Map.ofEntries(
            Map.entry("__builtin__ xrange", "builtins range"),
            Map.entry("__builtin__ reduce", "functools reduce"),
            Map.entry("__builtin__ intern", "sys intern"),
            Map.entry("__builtin__ unichr", "builtins chr"),
            Map.entry("__builtin__ unicode", "builtins str"),
            Map.entry("__builtin__ long", "builtins int"),
            Map.entry("itertools izip", "builtins zip"),
            Map.entry("itertools imap", "builtins map"),
            Map.entry("itertools ifilter", "builtins filter"),
            Map.entry("itertools ifilterfalse", "itertools filterfalse"),
            Map.entry("itertools izip_longest", "itertools zip_longest"),
            Map.entry("UserDict IterableUserDict", "collections UserDict"),
            Map.entry("UserList UserList", "collections UserList"),
            Map.entry("UserString UserString", "collections UserString"),
            Map.entry("__builtin__ basestring", "builtins str"),
            Map.entry("exceptions StandardError", "builtins Exception"),
            Map.entry("UserDict UserDict", "collections UserDict"));

    /** Returns {@code {module, name}} after the mapping. */
    public static String[] map(String module, String name) {
        String mapped = NAME_MAPPING.get(module + " " + name);
        if (mapped != null) {
            int space = mapped.indexOf(' ');
            return new String[] {mapped.substring(0, space), mapped.substring(space + 1)};
        }
        String newModule = IMPORT_MAPPING.get(module);
        return new String[] {newModule != null ? newModule : module, name};
    }
}
