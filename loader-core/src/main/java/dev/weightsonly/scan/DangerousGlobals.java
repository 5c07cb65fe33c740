package dev.weightsonly.scan;

import java.util.Optional;
import java.util.Set;

/**
 * Python globals that can only mean code execution, system access or a nested deserialiser when a
 * pickle names them. A weights file never needs one: weightsonly refuses to allow them (even though it
 * would never call them), and {@code scan} marks a file that names one as dangerous.
 *
 * <p>The list follows what the pickle scanners (picklescan, modelscan, fickling) flag and the gadgets of
 * the PyTorch advisories: torch blocks only {@code sys}, {@code os}, {@code posix} and {@code nt}.
 */
public final class DangerousGlobals {

    private DangerousGlobals() {
    }

    /** Whole modules (and their submodules): any global from them is dangerous. */
    public static final Set<String> MODULES = Set.of(
            // processes, the interpreter, the OS
            "os", "posix", "nt", "sys", "subprocess", "_posixsubprocess", "runpy", "pty", "signal", "platform",
            "ctypes", "_ctypes", "importlib", "imp", "zipimport", "pkgutil", "site", "code", "codeop", "pdb", "bdb",
            "timeit", "cProfile", "profile", "trace", "inspect", "types", "asyncio", "multiprocessing",
            "distutils", "setuptools", "pip", "ensurepip", "venv", "shutil", "tempfile", "glob", "io", "_io",
            "fileinput", "linecache", "sqlite3", "logging",
            // nested deserialisers
            "pickle", "_pickle", "pickletools", "marshal", "shelve", "dill", "cloudpickle", "joblib", "jsonpickle",
            "yaml",
            // network
            "socket", "_socket", "ssl", "http", "httplib", "urllib", "urllib2", "urllib3", "requests", "aiohttp",
            "ftplib", "smtplib", "poplib", "imaplib", "nntplib", "telnetlib", "xmlrpc", "webbrowser",
            // torch and numpy gadgets (torch-spec.md 14, adversarial.md A11, A13)
            "torch.hub", "torch.jit.unsupported_tensor_ops", "torch._inductor", "torch._dynamo", "torch.utils.collect_env",
            "torch.utils.bottleneck", "torch.utils._config_module", "torch.utils.data.datapipes",
            "torch.fx.experimental.symbolic_shapes", "numpy.f2py", "numpy.testing", "numpy.distutils");

    /** Single callables that are dangerous although their module is not. */
    public static final Set<String> CALLABLES = Set.of(
            "builtins.eval", "builtins.exec", "builtins.compile", "builtins.execfile", "builtins.getattr",
            "builtins.setattr", "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.file",
            "builtins.input", "builtins.breakpoint", "builtins.globals", "builtins.locals", "builtins.vars",
            "builtins.apply", "builtins.reload", "builtins.type", "builtins.help", "builtins.exit", "builtins.quit",
            "copyreg._reconstructor", "functools.partial", "functools.reduce", "operator.attrgetter",
            "operator.methodcaller", "operator.itemgetter", "torch.load", "torch.save", "torch.serialization.load",
            "torch.jit.load", "torch.jit._load", "torch.jit._serialization.load",
            "torch.storage._load_from_bytes", "torch._utils._rebuild_xla_tensor", "numpy.load", "numpy.save",
            "numpy.fromfile", "numpy.tofile");

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
        return Optional.empty();
    }

    public static boolean isDangerous(String qualifiedName) {
        return reason(qualifiedName).isPresent();
    }
}
