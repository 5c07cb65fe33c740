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

    /**
     * Which allowed global made this object, to tell records of different classes apart.
     *
     * @return the Python qualified name, {@code module.QualName}
     */
    public String className() {
        return className;
    }

    /**
     * The arguments the pickle passed when making the object (NEWOBJ's {@code cls.__new__} arguments, or
     * REDUCE's call arguments).
     *
     * @return the arguments; the empty tuple when there were none
     */
    public PyTuple args() {
        return args;
    }

    /**
     * The state BUILD gave the object, which is where its fields are ({@code __dict__} or
     * {@code __getstate__()} of the saved object).
     *
     * @return usually a {@link PyDict} of attributes, or a 2-tuple (dict, slots); {@link PyNone#NONE} when the
     *     pickle gave none
     */
    public Object state() {
        return state;
    }

    @Override
    public String toString() {
        return className + args;
    }
}
