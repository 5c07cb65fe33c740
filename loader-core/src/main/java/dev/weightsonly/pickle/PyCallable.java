package dev.weightsonly.pickle;

import dev.weightsonly.CheckpointException;

/** A global that REDUCE may call: a data constructor with checked arguments, never general code. */
public interface PyCallable extends PyGlobal {

    Object call(PyTuple args, CallSite site) throws CheckpointException;
}
