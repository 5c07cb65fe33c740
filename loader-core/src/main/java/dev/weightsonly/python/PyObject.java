package dev.weightsonly.python;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * An object of a class (or the result of a function) that the caller allowed explicitly. Nothing of the
 * class is ever run: the object is an inert record of the qualified name, the arguments its NEWOBJ or
 * REDUCE received, and the state BUILD gave it ({@link PyNone#NONE} when there was none).
 *
 * <p>Its fields are what Python's default {@code __setstate__} would make its attributes: the entries of a
 * state dict, and of both dicts of a {@code (dict, slots)} state. {@link #field(String)}, {@link #fields()} and
 * the typed getters of {@link PyLookup} ({@code config.getString("arch")}) read them.
 */
public final class PyObject implements PyLookup<String> {

    private final String className;
    private PyTuple args;
    private Object state = PyNone.NONE;

    PyObject(String className, PyTuple args) {
        this.className = className;
        this.args = args;
    }

    void setArgs(PyTuple args) {
        this.args = args;
    }

    void setState(Object state) {
        this.state = state;
    }

    /**
     * Which allowed global made this object, to tell records of different classes apart.
     *
     * @return the Python qualified name, {@code module.QualName}
     */
    public String className() {
        return className;
    }

    /**
     * The arguments the pickle passed when making the object (NEWOBJ's {@code cls.__new__} arguments, or
     * REDUCE's call arguments).
     *
     * @return the arguments; the empty tuple when there were none
     */
    public PyTuple args() {
        return args;
    }

    /**
     * The state BUILD gave the object, which is where its fields are ({@code __dict__} or
     * {@code __getstate__()} of the saved object).
     *
     * @return usually a {@link PyDict} of attributes, or a 2-tuple (dict, slots); {@link PyNone#NONE} when the
     *     pickle gave none
     */
    public Object state() {
        return state;
    }

    /**
     * The fields, by name, in the order the state gave them: the str keys of a state dict, then those of the
     * slots dict of a {@code (dict, slots)} state (a slot of the same name as an entry of the dict wins, as
     * {@code setattr} after the dict update does). Empty when the state is neither.
     *
     * @return an unmodifiable map of field name to value
     */
    public Map<String, Object> fields() {
        LinkedHashMap<String, Object> fields = new LinkedHashMap<>();
        for (PyDict part : stateDicts()) {
            part.forEach((k, v) -> {
                if (k instanceof String name) {
                    fields.put(name, v);
                }
            });
        }
        return Collections.unmodifiableMap(fields);
    }

    /**
     * The field {@code name} (see {@link #fields()}).
     *
     * @param name the field's name
     * @return its value ({@link PyNone#NONE} for None)
     * @throws NoSuchElementException if the object has no such field; the message lists those it has
     */
    public Object field(String name) {
        Objects.requireNonNull(name, "name");
        List<PyDict> parts = stateDicts();
        for (int i = parts.size() - 1; i >= 0; i--) { // the slots, set last, win
            Object value = parts.get(i).get(name);
            if (value != null) {
                return value;
            }
        }
        List<String> names = fields().keySet().stream().limit(12).toList();
        throw new NoSuchElementException(className + " object has no field '" + name + "'" + (names.isEmpty()
                ? (parts.isEmpty() ? " (its state is " + PyValues.typeName(state) + ", not a dict of fields)" : "")
                : "; its fields: " + String.join(", ", names) + (names.size() < fields().size() ? ", ..." : "")));
    }

    /**
     * The field {@code name} as {@code type}; see {@link PyLookup}.
     *
     * @throws NoSuchElementException if the object has no such field
     * @throws ClassCastException if the value is not a {@code type} and does not convert to one
     */
    @Override
    public <T> T get(String name, Class<T> type) {
        return PyValues.as(field(name), type, "field '" + name + "' of " + className);
    }

    /** The dicts the fields come from: the state dict, or the dicts of a (dict, slots) pair. */
    private List<PyDict> stateDicts() {
        if (state instanceof PyDict d) {
            return List.of(d);
        }
        if (state instanceof PyTuple t && t.size() == 2) {
            List<PyDict> parts = new ArrayList<>(2);
            for (Object part : t.items()) {
                if (part instanceof PyDict d) {
                    parts.add(d);
                }
            }
            return parts;
        }
        return List.of();
    }

    /**
     * Python's repr as a call, bounded in length and depth: {@code module.Name(arg, field=value)}, or
     * {@code module.Name(arg, state=...)} for a state that gives no fields.
     */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
