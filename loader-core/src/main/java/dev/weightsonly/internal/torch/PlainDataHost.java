package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnsupportedGlobalException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.UnpicklerHost;
import dev.weightsonly.python.PyValues;

/**
 * The host for the pickles of a format that hold only plain data (the legacy stream's magic number,
 * version, sys_info and key list): no global, no persistent id and no BUILD is acceptable in them.
 */
public enum PlainDataHost implements UnpicklerHost {
    INSTANCE;

    @Override
    public Object resolveGlobal(String module, String name, CallSite site) throws CheckpointException {
        if (TorchAllowlist.BLOCKED_MODULES.contains(module)) {
            throw UnsupportedGlobalException.blocked(site.where(), module, name);
        }
        throw UnsupportedGlobalException.notAllowed(site.where(), module, name);
    }

    @Override
    public Object persistentLoad(Object pid, CallSite site) throws CheckpointException {
        throw site.malformed("a persistent id in a pickle that holds only plain data");
    }

    @Override
    public void build(Object target, Object state, CallSite site) throws CheckpointException {
        throw site.unsafe("BUILD on " + PyValues.typeName(target) + " in a pickle that holds only plain data");
    }
}
