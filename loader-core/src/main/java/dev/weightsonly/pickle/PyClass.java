package dev.weightsonly.pickle;

import dev.weightsonly.CheckpointException;

/** A global that NEWOBJ may instantiate ({@code cls.__new__(cls, *args)} in Python). */
public interface PyClass extends PyGlobal {

    Object newObject(PyTuple args, CallSite site) throws CheckpointException;
}
