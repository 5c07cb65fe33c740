package dev.weightsonly;

import dev.weightsonly.internal.globals.GlobalPolicy;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.scan.Verdict;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Globals the caller trusts beyond PyTorch's default allowlist, as {@code torch.serialization} keeps them:
 * {@link #add} / {@link #get} / {@link #clear} mirror {@code add_safe_globals}, {@code get_safe_globals} and
 * {@code clear_safe_globals}; {@link #scope} mirrors the {@code with safe_globals([...]):} context manager;
 * {@link #unsafeGlobals(Path)} mirrors {@code get_unsafe_globals_in_checkpoint}.
 *
 * <p>Allowing a global never makes anything run. An object of an allowed class (or the result of an
 * allowed function) loads as an inert {@link dev.weightsonly.python.PyObject} holding its qualified name,
 * arguments and state, unless a {@link GlobalFactory} was registered for it, which then builds a Java value
 * from that record. Names are Python qualified names, {@code module.QualName}, as in torch's
 * {@code (obj, "module.name")} form; globals that can only mean code execution or system access
 * (the dangerous list of docs/SECURITY.md) are refused at registration.
 *
 * <p><b>Threads.</b> {@link #add} is process-wide, like torch's. A {@link #scope} applies to the thread that
 * opened it and to nothing else: in a server, one request's trust must not leak into another request
 * handled at the same moment (torch's context manager is process-wide; its issue #197380 asks for this).
 * A load on another thread, or on an executor, does not see the scope: pass the names with
 * {@link LoadOptions.Builder#allowGlobal(String)} instead, which involves no shared state at all (and
 * {@link LoadOptions.Builder#sharedSafeGlobals(boolean)} turns this class off for one load).
 *
 * <p><b>Scopes.</b> Scopes nest. Closing a scope restores exactly the allowlist that was in force when it
 * was opened, also when the body throws (use try-with-resources); unlike torch's, it never removes a name
 * that was allowed before it opened. Closing an outer scope closes the scopes opened inside it.
 */
public final class SafeGlobals {

    private static final Map<String, GlobalFactory> PROCESS = new ConcurrentHashMap<>();
    private static final ThreadLocal<ArrayDeque<Scope>> SCOPES = new ThreadLocal<>();

    private SafeGlobals() {
    }

    /**
     * Allows {@code qualifiedNames} for every load in this process (torch's {@code add_safe_globals}). All or
     * nothing: every name is checked before any is added.
     *
     * @param qualifiedNames {@code module.QualName}s, as a refusal message names them
     * @throws IllegalArgumentException if a name is not a qualified name or can never be right for weights
     *     (then none is added)
     * @throws NullPointerException if the array or a name is null (then none is added)
     */
    public static void add(String... qualifiedNames) {
        List<String> checked = new java.util.ArrayList<>(qualifiedNames.length);
        for (String name : qualifiedNames) {
            checked.add(GlobalPolicy.checkAllowable(name));
        }
        checked.forEach(name -> PROCESS.put(name, GlobalPolicy.inert()));
    }

    /**
     * Allows {@code qualifiedName} for every load in this process, building its objects with {@code factory}.
     *
     * @param qualifiedName {@code module.QualName}, as a refusal message names it
     * @param factory turns each loaded object of that global into the caller's Java value; replaces any factory
     *     registered for the name before
     * @throws IllegalArgumentException if the name is not a qualified name or can never be right for weights
     * @throws NullPointerException if the name or the factory is null
     */
    public static void add(String qualifiedName, GlobalFactory factory) {
        PROCESS.put(GlobalPolicy.checkAllowable(qualifiedName), Objects.requireNonNull(factory, "factory"));
    }

    /**
     * The process-wide entries (torch's {@code get_safe_globals}); scopes are not included.
     *
     * @return an immutable copy of the names added with {@link #add}
     */
    public static Set<String> get() {
        return Set.copyOf(PROCESS.keySet());
    }

    /** Removes every process-wide entry (torch's {@code clear_safe_globals}); open scopes are not affected. */
    public static void clear() {
        PROCESS.clear();
    }

    /**
     * Opens a scope allowing {@code qualifiedNames} on this thread until it is closed.
     *
     * @param qualifiedNames {@code module.QualName}s, as a refusal message names them
     * @return the open scope; close it (try-with-resources) on this thread
     * @throws IllegalArgumentException if a name is not a qualified name or can never be right for weights
     *     (then no scope is opened)
     */
    public static Scope scope(String... qualifiedNames) {
        Map<String, GlobalFactory> entries = new LinkedHashMap<>();
        for (String name : qualifiedNames) {
            entries.put(GlobalPolicy.checkAllowable(name), GlobalPolicy.inert());
        }
        return open(entries);
    }

    /**
     * Opens a scope allowing the given names, each built by its factory, on this thread until it is closed.
     *
     * @param factories {@code module.QualName}s to the factories that build their objects
     * @return the open scope; close it (try-with-resources) on this thread
     * @throws IllegalArgumentException if a name is not a qualified name or can never be right for weights
     *     (then no scope is opened)
     * @throws NullPointerException if a name or a factory is null (then no scope is opened)
     */
    public static Scope scope(Map<String, GlobalFactory> factories) {
        Map<String, GlobalFactory> entries = new LinkedHashMap<>();
        factories.forEach((name, factory) ->
                entries.put(GlobalPolicy.checkAllowable(name), Objects.requireNonNull(factory, "factory")));
        return open(entries);
    }

    private static Scope open(Map<String, GlobalFactory> entries) {
        ArrayDeque<Scope> stack = SCOPES.get();
        if (stack == null) {
            stack = new ArrayDeque<>();
            SCOPES.set(stack);
        }
        Scope scope = new Scope(Collections.unmodifiableMap(entries), Thread.currentThread());
        stack.push(scope);
        return scope;
    }

    /**
     * Every name allowed for a load started now on this thread, beyond PyTorch's default allowlist.
     *
     * @return an immutable copy of the process-wide entries and those of this thread's open scopes
     */
    public static Set<String> effective() {
        return Set.copyOf(snapshot().keySet());
    }

    /** Names to factories in force on this thread; inner scopes override outer ones and the process-wide set. */
    static Map<String, GlobalFactory> snapshot() {
        Map<String, GlobalFactory> out = new LinkedHashMap<>(PROCESS);
        ArrayDeque<Scope> stack = SCOPES.get();
        if (stack != null) {
            for (Iterator<Scope> it = stack.descendingIterator(); it.hasNext(); ) {
                out.putAll(it.next().entries);
            }
        }
        return out;
    }

    /**
     * The globals {@code file} names that a load on this thread would refuse, found without loading it
     * (torch's {@code get_unsafe_globals_in_checkpoint}): those in neither the default allowlist nor the
     * allowlist in force, in order of first appearance. Works on files the loader refuses and on broken
     * ones, reporting what it read before the break; {@link #scan(Path)} gives the details.
     *
     * @param file a checkpoint in any format the loader reads
     * @return the qualified names that would be refused, each once; empty if the file would load
     * @throws IOException if the file cannot be read
     */
    public static List<String> unsafeGlobals(Path file) throws IOException {
        return scan(file).names(Verdict.NEEDS_ALLOWLISTING, Verdict.DANGEROUS);
    }

    /**
     * Every global {@code file} names, each with what a load on this thread would make of it, found without
     * loading the file; the basis of {@link #unsafeGlobals(Path)} and of the tool's {@code scan}.
     *
     * @param file a checkpoint in any format the loader reads
     * @return the scanner's report: each global with its verdict, and whether the scan read the whole file
     * @throws IOException if the file cannot be read
     */
    public static ScanReport scan(Path file) throws IOException {
        Set<String> allowed = effective();
        return GlobalScanner.scan(file, allowed::contains);
    }

    /**
     * An open {@link SafeGlobals#scope}: its names are allowed on the opening thread until {@link #close()}.
     */
    public static final class Scope implements AutoCloseable {
        private final Map<String, GlobalFactory> entries;
        private final Thread owner;
        private boolean closed;

        private Scope(Map<String, GlobalFactory> entries, Thread owner) {
            this.entries = entries;
            this.owner = owner;
        }

        /**
         * The names this scope allows (scopes opened inside it add their own).
         *
         * @return an unmodifiable set of qualified names
         */
        public Set<String> names() {
            return entries.keySet();
        }

        /**
         * Restores the allowlist in force when this scope opened (closing any scope opened inside it).
         * Closing twice does nothing.
         *
         * @throws IllegalStateException if called from another thread than the one that opened the scope
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("a SafeGlobals scope is closed by the thread that opened it");
            }
            ArrayDeque<Scope> stack = SCOPES.get();
            while (stack != null && !stack.isEmpty()) {
                Scope top = stack.pop();
                top.closed = true;
                if (top == this) {
                    break;
                }
            }
            if (stack != null && stack.isEmpty()) {
                SCOPES.remove();
            }
        }
    }
}
