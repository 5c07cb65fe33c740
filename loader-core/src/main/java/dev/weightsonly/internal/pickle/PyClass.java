package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.python.PyTuple;

/** A global that NEWOBJ may instantiate ({@code cls.__new__(cls, *args)} in Python). */
public interface PyClass extends PyGlobal {

    Object newObject(PyTuple args, CallSite site) throws CheckpointException;
}
