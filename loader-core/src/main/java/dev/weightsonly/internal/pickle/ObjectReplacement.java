package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replaces the inert {@link PyObject}s of a loaded tree by values the caller builds from them, once the
 * whole pickle is read (only then is each object's state final). Shared references stay shared: an
 * object reached twice is replaced once, by the same value. Children are replaced before their parents,
 * so a factory sees converted arguments and state. A reference cycle through an object leaves that
 * reference as the inert record.
 */
public final class ObjectReplacement {

    private static final PythonAccess.Ops PY = PythonAccess.ops();

    /** Builds the replacement of one object; returning the object itself keeps it. */
    @FunctionalInterface
    public interface Replacer {
        Object replace(PyObject object) throws CheckpointException;
    }

    private final Replacer replacer;
    private final int maxDepth;
    private final Location where;
    private final Map<Object, Object> replaced = new IdentityHashMap<>();
    private final Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<Object> inProgress = Collections.newSetFromMap(new IdentityHashMap<>());

    private ObjectReplacement(Replacer replacer, int maxDepth, Location where) {
        this.replacer = replacer;
        this.maxDepth = maxDepth;
        this.where = where;
    }

    /** The tree with every {@link PyObject} replaced; mutable containers are updated in place. */
    public static Object apply(Object root, Replacer replacer, LoadLimits limits, Location where)
            throws CheckpointException {
        try (PythonAccess.HashScope hashes = PY.hashScope()) {
            return new ObjectReplacement(replacer, limits.maxNestingDepth(), where).convert(root, 0);
        }
    }

    private Object convert(Object value, int depth) throws CheckpointException {
        if (depth > maxDepth) {
            throw where.limit("maxNestingDepth", maxDepth, "values nested more than " + maxDepth + " deep");
        }
        switch (value) {
            case PyObject o -> {
                Object done = replaced.get(o);
                if (done != null) {
                    return done;
                }
                if (!inProgress.add(o)) {
                    return o;
                }
                PY.setArgs(o, (PyTuple) convert(o.args(), depth + 1));
                PY.setState(o, convert(o.state(), depth + 1));
                Object result = replacer.replace(o);
                inProgress.remove(o);
                replaced.put(o, result);
                return result;
            }
            case PyTuple t -> {
                Object done = replaced.get(t);
                if (done != null) {
                    return done;
                }
                Object[] items = new Object[t.size()];
                boolean changed = false;
                for (int i = 0; i < items.length; i++) {
                    items[i] = convert(t.get(i), depth + 1);
                    changed |= items[i] != t.get(i);
                }
                PyTuple result = changed ? PY.tupleOwning(items) : t;
                replaced.put(t, result);
                return result;
            }
            case PyList l -> {
                if (visited.add(l)) {
                    for (int i = 0; i < l.size(); i++) {
                        PY.replace(l, i, convert(l.get(i), depth + 1));
                    }
                }
                return l;
            }
            case PyDict d -> {
                if (visited.add(d)) {
                    List<Object[]> pairs = new ArrayList<>(d.size());
                    for (Map.Entry<Object, Object> e : d.entrySet()) {
                        pairs.add(new Object[] {convert(e.getKey(), depth + 1), convert(e.getValue(), depth + 1)});
                    }
                    PY.replaceAll(d, pairs);
                    for (Map.Entry<String, Object> e : d.attributes().entrySet()) {
                        PY.setAttribute(d, e.getKey(), convert(e.getValue(), depth + 1));
                    }
                }
                return d;
            }
            // A frozenset is a value, like a tuple: changed, it is a new frozenset, so that the hashes
            // that tuples holding it have cached stay right.
            case PySet s when s.isFrozen() -> {
                Object done = replaced.get(s);
                if (done != null) {
                    return done;
                }
                List<Object> items = new ArrayList<>(s.size());
                boolean changed = false;
                for (Object item : s) {
                    Object converted = convert(item, depth + 1);
                    items.add(converted);
                    changed |= converted != item;
                }
                PySet result = s;
                if (changed) {
                    result = PY.newSet(false);
                    PY.replaceAll(result, items);
                    PY.freeze(result);
                }
                replaced.put(s, result);
                return result;
            }
            case PySet s -> {
                if (visited.add(s)) {
                    List<Object> items = new ArrayList<>(s.size());
                    for (Object item : s) {
                        items.add(convert(item, depth + 1));
                    }
                    PY.replaceAll(s, items);
                }
                return s;
            }
            default -> {
                return value;
            }
        }
    }
}
