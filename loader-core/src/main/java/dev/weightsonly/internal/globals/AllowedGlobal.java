package dev.weightsonly.internal.globals;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.PyCallable;
import dev.weightsonly.internal.pickle.PyClass;
import dev.weightsonly.internal.pickle.PythonAccess;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PyTuple;

/**
 * A global that the caller allowed by name. Calling or instantiating it never runs anything: it records
 * the arguments in an inert {@link PyObject}, which BUILD may then give a state.
 */
public record AllowedGlobal(String qualifiedName) implements PyCallable, PyClass {

    private static final PythonAccess.Ops PY = PythonAccess.ops();

    @Override
    public Object call(PyTuple args, CallSite site) {
        return PY.newObject(qualifiedName, args);
    }

    @Override
    public Object newObject(PyTuple args, CallSite site) throws CheckpointException {
        return PY.newObject(qualifiedName, args);
    }

}
