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

    /**
     * Builds the Java value that replaces {@code object} in the loaded tree.
     *
     * @param object the inert record of one loaded object: its global's qualified name, the arguments it was
     *     called with and the state it was given
     * @return the replacement; never null (returning {@code object} itself keeps the record)
     * @throws Exception to reject the checkpoint: the load fails with a {@link MalformedCheckpointException}
     *     carrying this exception's message
     */
    Object create(PyObject object) throws Exception;
}
