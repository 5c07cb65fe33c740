package dev.weightsonly.internal.pickle;

import dev.weightsonly.internal.Bridge;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import java.util.List;

/**
 * How the machinery builds and fills Python values, which are read-only for everyone else. The values live in
 * the exported package {@code dev.weightsonly.python} and keep their constructors and mutators package-private
 * there; that package installs an implementation of {@link Ops} through a {@link Bridge}.
 */
public final class PythonAccess {

    /** The package-private operations of the value types, one method each. */
    public interface Ops {
        /** An empty dict of {@code kind}. */
        PyDict newDict(PyDict.Kind kind);

        /** {@code d[key] = value}; the key is hashable. */
        void putItem(PyDict dict, Object key, Object value);

        /** Replaces every entry of {@code dict}, keeping the order. */
        void replaceAll(PyDict dict, List<Object[]> pairs);

        /** Sets an attribute of {@code dict} (BUILD on an OrderedDict). */
        void setAttribute(PyDict dict, String name, Object value);

        /** A dict of {@code kind} with the items of {@code source}, shared with it until either changes. */
        PyDict copyOf(PyDict.Kind kind, PyDict source);

        /** Whether every key of {@code dict} is a str. */
        boolean hasOnlyStrKeys(PyDict dict);

        /** {@code dict.__dict__.update(state)} for a state whose keys are all str. */
        void updateAttributes(PyDict dict, PyDict state);

        /** An empty list. */
        PyList newList();

        /** An empty list with room for {@code capacity} items. */
        PyList newList(int capacity);

        /** Appends {@code item} to {@code list}. */
        void append(PyList list, Object item);

        /** Replaces item {@code index} of {@code list}. */
        void replace(PyList list, int index, Object item);

        /** A new object of {@code className} made from {@code args}, with state None. */
        PyObject newObject(String className, PyTuple args);

        /** Replaces the arguments of {@code object}. */
        void setArgs(PyObject object, PyTuple args);

        /** Replaces the state of {@code object}. */
        void setState(PyObject object, Object state);

        /** An empty set, or a frozenset to be filled and then frozen. */
        PySet newSet(boolean frozen);

        /** Adds a hashable {@code item} to {@code set}. */
        void addItem(PySet set, Object item);

        /** Replaces every item of {@code set}, keeping the order. */
        void replaceAll(PySet set, List<Object> items);

        /** Makes a filled frozenset immutable (and hashable). */
        void freeze(PySet set);

        /** How deeply a frozenset nests tuples and frozensets. */
        int depth(PySet set);

        /** The empty tuple. */
        PyTuple emptyTuple();

        /** A tuple that takes ownership of {@code items} (no copy). */
        PyTuple tupleOwning(Object[] items);

        /** Bytes (or a bytearray) that take ownership of {@code data} (no copy). */
        PyBytes wrapBytes(byte[] data, boolean byteArray);

        /** {@code bytes(b)}: the bytes of a bytearray, or {@code b} itself. */
        PyBytes asBytes(PyBytes bytes);

        /** The bytes of {@code bytes} themselves, not a copy: to read, never to change. */
        byte[] bytesOf(PyBytes bytes);

        /** Opens a scope in which long strings, bytes and ints have their keyed hash remembered. */
        HashScope hashScope();
    }

    /** The end of a {@link Ops#hashScope()}. */
    public interface HashScope extends AutoCloseable {
        @Override
        void close();
    }

    /** Installed by {@link PyTuple}'s initialiser (which any use of PyTuple runs). */
    public static final Bridge<Ops> BRIDGE = new Bridge<>(PyTuple::of);

    private PythonAccess() {
    }

    /**
     * The operations.
     *
     * @return the operations
     */
    public static Ops ops() {
        return BRIDGE.get();
    }
}
