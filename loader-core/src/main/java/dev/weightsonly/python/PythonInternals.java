package dev.weightsonly.python;

import dev.weightsonly.internal.pickle.PythonAccess;
import java.util.List;

/**
 * The machinery's way to build and fill values ({@link PythonAccess}): each method forwards to the
 * package-private constructor or mutator of the same name, so that callers of the API see none of them.
 */
final class PythonInternals implements PythonAccess.Ops {

    @Override
    public PyDict newDict(PyDict.Kind kind) {
        return new PyDict(kind);
    }

    @Override
    public void putItem(PyDict dict, Object key, Object value) {
        dict.putItem(key, value);
    }

    @Override
    public void replaceAll(PyDict dict, List<Object[]> pairs) {
        dict.replaceAll(pairs);
    }

    @Override
    public void setAttribute(PyDict dict, String name, Object value) {
        dict.setAttribute(name, value);
    }

    @Override
    public PyDict copyOf(PyDict.Kind kind, PyDict source) {
        return PyDict.copyOf(kind, source);
    }

    @Override
    public boolean hasOnlyStrKeys(PyDict dict) {
        return dict.hasOnlyStrKeys();
    }

    @Override
    public void updateAttributes(PyDict dict, PyDict state) {
        dict.updateAttributes(state);
    }

    @Override
    public PyList newList() {
        return new PyList();
    }

    @Override
    public PyList newList(int capacity) {
        return new PyList(capacity);
    }

    @Override
    public void append(PyList list, Object item) {
        list.append(item);
    }

    @Override
    public void replace(PyList list, int index, Object item) {
        list.replace(index, item);
    }

    @Override
    public PyObject newObject(String className, PyTuple args) {
        return new PyObject(className, args);
    }

    @Override
    public void setArgs(PyObject object, PyTuple args) {
        object.setArgs(args);
    }

    @Override
    public void setState(PyObject object, Object state) {
        object.setState(state);
    }

    @Override
    public PySet newSet(boolean frozen) {
        return new PySet(frozen);
    }

    @Override
    public void addItem(PySet set, Object item) {
        set.addItem(item);
    }

    @Override
    public void replaceAll(PySet set, List<Object> items) {
        set.replaceAll(items);
    }

    @Override
    public void freeze(PySet set) {
        set.freeze();
    }

    @Override
    public int depth(PySet set) {
        return set.depth();
    }

    @Override
    public PyTuple emptyTuple() {
        return PyTuple.EMPTY;
    }

    @Override
    public PyTuple tupleOwning(Object[] items) {
        return PyTuple.from(items);
    }

    @Override
    public PyBytes wrapBytes(byte[] data, boolean byteArray) {
        return PyBytes.wrap(data, byteArray);
    }

    @Override
    public PyBytes asBytes(PyBytes bytes) {
        return bytes.asBytes();
    }

    @Override
    public byte[] bytesOf(PyBytes bytes) {
        return bytes.bytes();
    }

    @Override
    public PythonAccess.HashScope hashScope() {
        return PyHash.scope()::close;
    }
}
