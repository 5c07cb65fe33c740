package dev.weightsonly.python;

/**
 * An object of a class (or the result of a function) that the caller allowed explicitly. Nothing of the
 * class is ever run: the object is an inert record of the qualified name, the arguments its NEWOBJ or
 * REDUCE received, and the state BUILD gave it ({@link PyNone#NONE} when there was none).
 */
public final class PyObject {

    private final String className;
    private PyTuple args;
    private Object state = PyNone.NONE;

    PyObject(String className, PyTuple args) {
        this.className = className;
        this.args = args;
    }

    void setArgs(PyTuple args) {
        this.args = args;
    }

    void setState(Object state) {
        this.state = state;
    }

    /** The Python qualified name, {@code module.QualName}. */
    public String className() {
        return className;
    }

    public PyTuple args() {
        return args;
    }

    /** What BUILD set: usually a {@link PyDict} of attributes, or a 2-tuple (dict, slots). */
    public Object state() {
        return state;
    }

    @Override
    public String toString() {
        return className + args;
    }
}
