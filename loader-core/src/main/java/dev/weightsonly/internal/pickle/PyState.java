package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyGlobal;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.python.TupleValue;
import java.math.BigInteger;
import java.util.Map;

/**
 * BUILD on objects of the allowed classes, as torch 2.6's weights-only unpickler does it: an OrderedDict's
 * {@code __dict__.update(state)}, and for the other allowed classes pickle's {@code load_build} (a state may be a
 * pair (state, slot state); a true state updates {@code __dict__}, a true slot state sets attributes). Objects
 * without a {@code __dict__} (set, bytearray, complex, torch.Size, torch.device) take only false states, which
 * change nothing; anything else fails in Python too.
 */
public final class PyState {

    /** Receives the (key, value) pairs of a {@code dict.update} argument. */
    @FunctionalInterface
    interface PairSink {
        void accept(Object key, Object value) throws CheckpointException;
    }

    private static final PythonAccess.Ops PY = PythonAccess.ops();

    private PyState() {
    }

    /**
     * Python's truth value ({@code bool(value)}) of a value the unpickler made.
     *
     * @param value the value
     * @param site  where, for the refusal
     * @return whether Python takes the value as true
     * @throws CheckpointException an {@code UnsupportedCheckpointException} for a value whose truth Python would
     *                             compute from its contents this loader does not read (a tensor, a storage)
     */
    public static boolean truthy(Object value, CallSite site) throws CheckpointException {
        return switch (value) {
            case PyNone _ -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case BigInteger b -> b.signum() != 0;
            case Double d -> d != 0.0;
            case PyComplex c -> c.real() != 0.0 || c.imag() != 0.0;
            case String s -> !s.isEmpty();
            case PyBytes b -> b.length() > 0;
            case PyTuple t -> t.size() > 0;
            case PyList l -> !l.isEmpty();
            case PyDict d -> !d.isEmpty();
            case PySet s -> !s.isEmpty();
            case TupleValue t -> t.asTuple().size() > 0;
            case PyGlobal _, PyObject _ -> true;
            default -> throw site.unsupported("the truth value of " + PyValues.typeName(value)
                    + " as a BUILD state (Python would read a tensor's value), which weightsonly does not compute");
        };
    }

    /**
     * BUILD on an object of an allowed class that has neither {@code __setstate__} nor {@code __dict__} (set,
     * bytearray, complex, torch.Size, torch.device): nothing happens for a false state and slot state; Python fails
     * for a true one ({@code AttributeError}).
     *
     * @param target the object
     * @param state  the state BUILD pops
     * @param site   where
     * @throws CheckpointException a {@code MalformedCheckpointException} for a true state (Python's AttributeError)
     */
    public static void buildWithoutDict(Object target, Object state, CallSite site) throws CheckpointException {
        Object slotState = null;
        if (state instanceof PyTuple t && t.size() == 2) {
            state = t.get(0);
            slotState = t.get(1);
        }
        if (truthy(state, site)) {
            throw site.malformed("BUILD: '" + PyValues.typeName(target) + "' object has no attribute '__dict__'");
        }
        if (slotState != null && truthy(slotState, site)) {
            throw site.malformed("BUILD: cannot set attributes of a '" + PyValues.typeName(target) + "' object");
        }
    }

    /** BUILD on an OrderedDict: {@code od.__dict__.update(state)} (no (state, slot state) pair here). */
    static void buildOrderedDict(PyDict target, Object state, CallSite site) throws CheckpointException {
        updateAttributes(target, state, site);
    }

    /** BUILD on a Counter: pickle's {@code load_build} on an object with a {@code __dict__}. */
    static void buildCounter(PyDict target, Object state, CallSite site) throws CheckpointException {
        Object slotState = null;
        if (state instanceof PyTuple t && t.size() == 2) {
            state = t.get(0);
            slotState = t.get(1);
        }
        if (truthy(state, site)) {
            updateAttributes(target, state, site);
        }
        if (slotState != null && truthy(slotState, site)) {
            // for k, v in slotstate.items(): setattr(inst, k, v)
            if (!(slotState instanceof PyDict slots)) {
                throw site.malformed("BUILD: '" + PyValues.typeName(slotState) + "' object has no attribute 'items'");
            }
            site.charge(slots.size());
            for (Map.Entry<Object, Object> e : slots.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw site.malformed("attribute name must be string, not '" + PyValues.typeName(e.getKey()) + "'");
                }
                PY.setAttribute(target, name, e.getValue());
            }
        }
    }

    /**
     * {@code target.__dict__.update(state)}: a mapping's items, or an iterable of pairs. Python would take any
     * hashable key into an instance {@code __dict__}; here attribute names must be str (docs/SECURITY.md,
     * strict-structure: no attribute could be read by such a name, and no writer makes one).
     */
    private static void updateAttributes(PyDict target, Object state, CallSite site) throws CheckpointException {
        if (state instanceof PyDict d) {
            site.charge(d.size());
            if (!PY.hasOnlyStrKeys(d)) {
                for (Object key : d.keySet()) {
                    requireName(key, site);
                }
            }
            PY.updateAttributes(target, d);
            return;
        }
        updatePairs(state, "BUILD", site, (key, value) -> {
            requireName(key, site);
            PY.setAttribute(target, (String) key, value);
        });
    }

    private static void requireName(Object key, CallSite site) throws CheckpointException {
        if (!(key instanceof String)) {
            throw site.malformed("attribute names must be str, got " + PyValues.typeName(key)
                    + " (a BUILD state for an instance __dict__)");
        }
    }

    /**
     * The pairs of an iterable given to {@code dict.update} or {@code OrderedDict()}: each item any iterable of
     * exactly two items, the first hashable.
     */
    static void updatePairs(Object pairs, String consumer, CallSite site, PairSink sink) throws CheckpointException {
        Object[] pair = new Object[2];
        int[] n = {0};
        PyIteration.forEach(pairs, true, consumer, site, item -> {
            n[0] = 0;
            PyIteration.forEach(item, true, consumer, site, part -> {
                if (n[0] == 2) {
                    throw site.malformed("too many values to unpack (expected 2)");
                }
                pair[n[0]++] = part;
            });
            if (n[0] < 2) {
                throw site.malformed("need more than " + n[0] + " value" + (n[0] == 1 ? "" : "s") + " to unpack");
            }
            PyBuiltin.requireHashable(pair[0], site);
            sink.accept(pair[0], pair[1]);
        });
    }
}
