package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.PyCallable;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;

/**
 * The data helpers TorchScript's pickler names ({@code torch.jit._pickle.*}): typed-list constructors and
 * the type tag of a container. Allowed only when the caller asked for a TorchScript archive's weights; each
 * returns its argument, as a data value, and nothing of TorchScript is ever interpreted.
 */
enum TorchScriptHelper implements PyCallable {
    BUILD_INTLIST("build_intlist"),
    BUILD_DOUBLELIST("build_doublelist"),
    BUILD_BOOLLIST("build_boollist"),
    BUILD_TENSORLIST("build_tensorlist"),
    BUILD_COMPLEXLIST("build_complexlist"),
    RESTORE_TYPE_TAG("restore_type_tag");

    static final String MODULE = "torch.jit._pickle";

    private final String name;

    TorchScriptHelper(String name) {
        this.name = name;
    }

    static TorchScriptHelper byName(String name) {
        for (TorchScriptHelper h : values()) {
            if (h.name.equals(name)) {
                return h;
            }
        }
        return null;
    }

    @Override
    public String qualifiedName() {
        return MODULE + "." + name;
    }

    @Override
    public Object call(PyTuple args, CallSite site) throws CheckpointException {
        if (this == RESTORE_TYPE_TAG) {
            if (args.size() != 2 || !(args.get(1) instanceof String)) {
                throw site.malformed("restore_type_tag takes (value, type string), got " + args.size() + " arguments");
            }
            return args.get(0);
        }
        if (args.size() != 1 || !(args.get(0) instanceof PyList list)) {
            throw site.malformed(name + " takes one list, got " + (args.size() == 1 ? PyValues.typeName(args.get(0))
                    : args.size() + " arguments"));
        }
        return list;
    }
}
