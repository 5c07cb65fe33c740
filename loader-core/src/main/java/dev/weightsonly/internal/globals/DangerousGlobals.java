package dev.weightsonly.internal.globals;

import java.util.Optional;
import java.util.Set;

/**
 * Python globals that can only mean code execution, system access or a nested deserialiser when a
 * pickle names them. A weights file never needs one: weightsonly refuses to allow them (even though it
 * would never call them), and {@code scan} marks a file that names one as dangerous.
 *
 * <p>torch blocks only {@code sys}, {@code os}, {@code posix} and {@code nt}. The rest is the union of the
 * lists the pickle scanners publish, so that no gadget they know is graded "needs allowlisting" (which
 * invites {@code --allow}); the comment of each group says where its names come from:
 * <ul>
 * <li>[P] picklescan, {@code src/picklescan/scanner.py} {@code _unsafe_globals} (mmaitre314/picklescan at
 *     f15d54d, 2026-07): its {@code "*"} modules here as modules, its single names as callables;
 * <li>[M] modelscan, {@code modelscan/settings.py} {@code unsafe_globals} (protectai/modelscan at 8b8ed4b);
 * <li>[F] fickling, {@code fickling/fickle.py} {@code UNSAFE_IMPORTS} and {@code fickling/analysis.py}
 *     {@code UnsafeImportsML} (trailofbits/fickling at 854c99a);
 * <li>[W] this project: the PyTorch advisories and torch-spec.md 14, adversarial.md A11 and A13.
 * </ul>
 * Deliberately not taken: fickling's whole {@code builtins} (PyTorch's own allowlist names
 * {@code builtins.set} and others; the dangerous builtins are listed one by one), its whole {@code torch.jit}
 * (TorchScript's data helpers {@code torch.jit._pickle.*} build lists; its loaders are listed), and its "any
 * private stdlib module" rule ({@code _codecs.encode} is on PyTorch's allowlist; the private modules that
 * matter are listed).
 */
public final class DangerousGlobals {

    private DangerousGlobals() {
    }

    /** Whole modules (and their submodules): any global from them is dangerous. */
    public static final Set<String> MODULES = Set.of(
            // processes, the interpreter, the OS [P M F W]
            "os", "posix", "nt", "sys", "subprocess", "_posixsubprocess", "commands", "runpy", "pty", "signal",
            "_signal", "platform", "ctypes", "_ctypes", "multiprocessing", "threading", "_thread", "atexit", "gc",
            "mmap", "select", "selectors", "pexpect", "pipes",
            // code, compilation, imports [P F W]
            "importlib", "_frozen_importlib", "_frozen_importlib_external", "_imp", "imp", "zipimport", "pkgutil",
            "site", "code", "codeop", "compileall", "py_compile", "types", "inspect", "_interpreters",
            "_xxsubinterpreters", "__builtins__", "compile", "exec", "eval", "unittest", "doctest", "test",
            // debuggers and profilers that run a string [P M F]
            "pdb", "bdb", "timeit", "cProfile", "profile", "trace",
            // stdlib helpers with a hidden shell or exec [P F]: pydoc.pipepager, idlelib's runcode and
            // fetch_tip, lib2to3's grammar loaders (a nested pickle), uuid._get_command_stdout,
            // _osx_support._read_output, _aix_support._read_cmd_output, _pyrepl.pager.pipe_pager
            "pydoc", "idlelib", "lib2to3", "uuid", "_osx_support", "_aix_support", "_pyrepl",
            // packaging [P F W]
            "distutils", "setuptools", "pip", "ensurepip", "venv",
            // files [P F W]
            "shutil", "tempfile", "glob", "io", "_io", "fileinput", "linecache", "filecmp", "difflib", "tarfile",
            "zipfile", "sqlite3", "_sqlite3", "logging", "syslog",
            // nested deserialisers [P M F W]
            "pickle", "_pickle", "pickletools", "marshal", "shelve", "dill", "cloudpickle", "joblib", "jsonpickle",
            "yaml",
            // network [P M F W]
            "socket", "_socket", "ssl", "http", "httplib", "urllib", "urllib2", "urllib3", "requests", "aiohttp",
            "asyncio", "ftplib", "smtplib", "poplib", "imaplib", "nntplib", "telnetlib", "xmlrpc", "socketserver",
            "webbrowser",
            // torch and numpy gadgets [P F W]
            "torch.hub", "torch.jit.unsupported_tensor_ops", "torch._inductor", "torch._dynamo", "torch.compile",
            "torch.utils.collect_env", "torch.utils.bottleneck", "torch.utils._config_module",
            "torch.utils.data.datapipes", "torch.fx.experimental.symbolic_shapes", "numpy.f2py", "numpy.testing",
            "numpy.distutils");

    /** Single callables that are dangerous although their module is not. */
    public static final Set<String> CALLABLES = Set.of(
            // builtins [P M F W]
            "builtins.eval", "builtins.exec", "builtins.compile", "builtins.execfile", "builtins.getattr",
            "builtins.setattr", "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.file",
            "builtins.input", "builtins.breakpoint", "builtins.globals", "builtins.locals", "builtins.vars",
            "builtins.apply", "builtins.reload", "builtins.type", "builtins.help", "builtins.exit", "builtins.quit",
            // call builders [P F W]
            "copyreg._reconstructor", "functools.partial", "functools.reduce", "operator.attrgetter",
            "operator.methodcaller", "operator.itemgetter", "_operator.attrgetter", "_operator.methodcaller",
            "_operator.itemgetter",
            // nested loads [P F W]
            "torch.load", "torch.save", "torch.serialization.load", "torch.jit.load", "torch.jit._load",
            "torch.jit._serialization.load", "torch.storage._load_from_bytes", "torch._utils._rebuild_xla_tensor",
            "torch.distributed.elastic.rendezvous.api.basichandlers", "numpy.load", "numpy.save", "numpy.fromfile",
            "numpy.tofile");

    /**
     * Attribute names that, reached through a dotted global name, lead to code or the system from any module
     * (pickle protocol 4 resolves {@code torch._utils} + {@code os.system} by attribute lookups). fickling
     * checks every dotted component against its whole list [F]; this is the part of that rule no real name
     * trips over.
     */
    private static final Set<String> TRAVERSALS = Set.of("os", "posix", "nt", "sys", "subprocess", "builtins",
            "__builtin__", "__builtins__", "__globals__", "__import__", "__subclasses__", "__code__");

    /** Why {@code qualifiedName} ({@code module.name}, after the Python 2 mapping) is dangerous, if it is. */
    public static Optional<String> reason(String qualifiedName) {
        if (CALLABLES.contains(qualifiedName)) {
            return Optional.of(qualifiedName + " can execute code, touch the system or load another pickle");
        }
        String module = qualifiedName;
        while (true) {
            int dot = module.lastIndexOf('.');
            if (dot < 0) {
                break;
            }
            module = module.substring(0, dot);
            if (MODULES.contains(module)) {
                return Optional.of(qualifiedName + " comes from " + module
                        + ", a module that can execute code, touch the system or load another pickle");
            }
        }
        String[] parts = qualifiedName.split("\\.", -1);
        for (int i = 1; i < parts.length; i++) {
            if (TRAVERSALS.contains(parts[i])) {
                return Optional.of(qualifiedName + " reaches " + parts[i]
                        + " through attribute lookups, which leads to code execution or the system");
            }
        }
        return Optional.empty();
    }

    public static boolean isDangerous(String qualifiedName) {
        return reason(qualifiedName).isPresent();
    }
}
