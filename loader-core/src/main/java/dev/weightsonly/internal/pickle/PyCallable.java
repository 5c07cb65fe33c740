package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.python.PyTuple;

/** A global that REDUCE may call: a data constructor with checked arguments, never general code. */
public interface PyCallable extends PyGlobal {

    Object call(PyTuple args, CallSite site) throws CheckpointException;
}
