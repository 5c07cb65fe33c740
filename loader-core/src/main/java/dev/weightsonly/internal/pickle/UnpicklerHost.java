package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;

/**
 * What the unpickler asks of the format it serves (torch): which globals exist, what a persistent id
 * stands for, and which objects BUILD may give state to. The machine itself knows only Python data.
 */
public interface UnpicklerHost {

    /**
     * The handle for {@code module.name} (already mapped from Python 2 names), or an exception if the
     * global is not allowed. Must never look anything up reflectively.
     */
    Object resolveGlobal(String module, String name, CallSite site) throws CheckpointException;

    /** The object a persistent id (BINPERSID's popped value, or PERSID's text) stands for. */
    Object persistentLoad(Object pid, CallSite site) throws CheckpointException;

    /** Applies BUILD's {@code state} to {@code target}, or refuses. */
    void build(Object target, Object state, CallSite site) throws CheckpointException;
}
