package dev.weightsonly.python;

/**
 * A value of a Python subclass of {@code tuple} that keeps tuple equality ({@code torch.Size}): as a dict
 * key or set item it equals the tuple of the same items, as in Python.
 */
public interface TupleValue {

    /**
     * The plain tuple this value equals, used for dict key and set item equality.
     *
     * @return a tuple of the same items, in order
     */
    PyTuple asTuple();
}
