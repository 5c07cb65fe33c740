package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.python.TupleValue;
import java.math.BigInteger;
import java.util.Map;

/**
 * Python's {@code for item in value} over the values a pickle makes, for the allowed constructors that take any
 * iterable ({@code set(x)}, {@code bytearray(x)}, {@code collections.Counter(x)}, the pairs of
 * {@code collections.OrderedDict(x)}, {@code torch.Size(x)}) and the legacy stream's list of storage keys, which
 * torch reads with a {@code for} loop. A list or tuple yields its items, a str its characters (one-character
 * strings), bytes and bytearray their byte values as ints, a dict, OrderedDict or Counter its keys, a set or
 * frozenset its items, a {@code torch.Size} its sizes. Every item is charged to the load's budget
 * ({@link CallSite#charge}), so that no file can make these loops do more work than {@code maxObjects} allows.
 *
 * <p>Two cases are refused rather than followed (docs/SECURITY.md, {@code python-iteration}): a set of more than
 * one item given to a constructor that keeps the order of what it reads (bytearray, OrderedDict, Counter,
 * torch.Size, the key list), because Python iterates a set in the order of its hash table, which for strings
 * changes from one process to the next (no two runs of torch need agree); and values whose iteration makes new
 * values of kinds this loader does not build (a tensor yields 0-d tensors, a storage Python numbers), or
 * whose iteration is not known (an object of a class the caller allowed).
 */
public final class PyIteration {

    /** Receives the items of an iteration, one at a time; may stop it by throwing. */
    @FunctionalInterface
    public interface Sink {

        /**
         * Takes the next item.
         *
         * @param item the item, as the unpickler holds Python values
         * @throws CheckpointException to stop the iteration (the value is refused)
         */
        void accept(Object item) throws CheckpointException;
    }

    private static final PythonAccess.Ops PY = PythonAccess.ops();

    private PyIteration() {
    }

    /**
     * Feeds {@code sink} the items Python's iteration of {@code value} yields, in Python's order.
     *
     * @param value    the value iterated
     * @param ordered  whether the consumer keeps the order it reads items in (a set of more than one item is then
     *                 refused: its Python order is that of its hash table)
     * @param consumer what iterates, for messages ({@code "bytearray()"})
     * @param site     where, with the budget each item is charged to
     * @param sink     receives the items
     * @throws CheckpointException a {@code MalformedCheckpointException} when Python cannot iterate the value (an
     *                             int, None, a float: a {@code TypeError} in torch too), an
     *                             {@code UnsupportedCheckpointException} for the cases refused on purpose (see the
     *                             class comment), a {@code LimitExceededException} past {@code maxObjects}, or
     *                             what {@code sink} throws
     */
    public static void forEach(Object value, boolean ordered, String consumer, CallSite site, Sink sink)
            throws CheckpointException {
        switch (value) {
            case PyList l -> {
                site.charge(l.size());
                // a snapshot: nothing a sink does can change a list, but the list is read as it was
                for (Object item : l.toArray()) {
                    sink.accept(item);
                }
            }
            case PyTuple t -> {
                site.charge(t.size());
                for (int i = 0; i < t.size(); i++) {
                    sink.accept(t.get(i));
                }
            }
            case TupleValue t -> forEach(t.asTuple(), ordered, consumer, site, sink);
            case String s -> {
                // Python's str is a sequence of code points. (A surrogate pair the pickle spelt as two lone
                // surrogates, which Python keeps as two code points, is one code point in a Java string.)
                int i = 0;
                while (i < s.length()) {
                    int cp = s.codePointAt(i);
                    site.charge(1);
                    sink.accept(Character.toString(cp));
                    i += Character.charCount(cp);
                }
            }
            case PyBytes b -> {
                byte[] bytes = PY.bytesOf(b);
                site.charge(bytes.length);
                for (byte x : bytes) {
                    sink.accept((long) (x & 0xFF));
                }
            }
            case PyDict d -> {
                site.charge(d.size());
                for (Map.Entry<Object, Object> e : d.entrySet()) {
                    sink.accept(e.getKey());
                }
            }
            case PySet s -> {
                if (ordered && s.size() > 1) {
                    throw site.unsupported(consumer + " of a " + PyValues.typeName(s) + " of " + s.size()
                            + " items: Python reads a set in the order of its hash table (for str items a"
                            + " different order in every process), so the result has no reproducible order");
                }
                site.charge(s.size());
                for (Object item : s) {
                    sink.accept(item);
                }
            }
            // scalars, and the functions and classes the allowlist names: not iterable in Python either
            case PyNone _, Boolean _, Long _, BigInteger _, Double _, PyComplex _, PyGlobal _ ->
                    throw site.malformed(consumer + ": '" + PyValues.typeName(value) + "' object is not iterable");
            case null -> throw new IllegalArgumentException("null is no Python value");
            default -> throw site.unsupported(consumer + " iterating " + PyValues.typeName(value)
                    + ": Python would make new values of its elements (0-d tensors, Python numbers), which"
                    + " weightsonly does not build; the file is refused rather than read otherwise");
        }
    }
}
