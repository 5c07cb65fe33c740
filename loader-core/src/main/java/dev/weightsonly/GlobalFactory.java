package dev.weightsonly;

import dev.weightsonly.python.PyObject;

/**
 * Turns the inert record of an allowed global into a Java value of the caller's choosing, for example a
 * record for {@code fairseq.data.dictionary.Dictionary}. Called once per object, after the whole pickle
 * has been read (so the record has its final state), with shared references kept shared: an object
 * referenced twice becomes one Java value.
 *
 * <p>The factory sees only data: the qualified name, the arguments and the state. Throwing rejects the
 * checkpoint with a {@link MalformedCheckpointException} that carries the factory's message.
 */
@FunctionalInterface
public interface GlobalFactory {

    /** The value that replaces {@code object} in the loaded tree; never null. */
    Object create(PyObject object) throws Exception;
}
