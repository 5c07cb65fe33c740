package dev.weightsonly.python;

import dev.weightsonly.internal.pickle.PyCallable;
import dev.weightsonly.internal.pickle.PyClass;

/**
 * What a GLOBAL opcode pushes: a named handle that the allowlist handed out. A handle is never a Java
 * class or method found by name: the allowlist maps fixed strings to fixed handles. What a handle can do
 * is what it implements: {@link PyCallable} for REDUCE (and INST/OBJ), {@link PyClass} for NEWOBJ.
 */
public interface PyGlobal {

    /**
     * The name the pickle used for this global, as messages and the canonical dump print it.
     *
     * @return the Python qualified name, {@code module.name}, after the Python 2 name mapping
     */
    String qualifiedName();
}
