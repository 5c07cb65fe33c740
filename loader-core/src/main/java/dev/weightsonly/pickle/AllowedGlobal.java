package dev.weightsonly.pickle;

import dev.weightsonly.CheckpointException;

/**
 * A global that the caller allowed by name. Calling or instantiating it never runs anything: it records
 * the arguments in an inert {@link PyObject}, which BUILD may then give a state.
 */
public record AllowedGlobal(String qualifiedName) implements PyCallable, PyClass {

    @Override
    public Object call(PyTuple args, CallSite site) {
        return new PyObject(qualifiedName, args);
    }

    @Override
    public Object newObject(PyTuple args, CallSite site) throws CheckpointException {
        return new PyObject(qualifiedName, args);
    }

}
