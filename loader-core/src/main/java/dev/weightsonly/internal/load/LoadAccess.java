package dev.weightsonly.internal.load;

import dev.weightsonly.GlobalFactory;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.Bridge;
import java.util.Map;

/** The loader's access to package-private parts of {@code dev.weightsonly}'s options (see {@link Bridge}). */
public final class LoadAccess {

    /** The package-private operations of {@link LoadOptions}. */
    public interface Ops {
        /**
         * Names to factories for a load starting now on this thread: SafeGlobals (if shared), then the load's own.
         *
         * @param options the load's options
         * @return the allowed names and their factories
         */
        Map<String, GlobalFactory> effectiveGlobals(LoadOptions options);
    }

    /** Installed by {@link LoadOptions}' initialiser (which any use of LoadOptions runs). */
    public static final Bridge<Ops> BRIDGE = new Bridge<>(LoadOptions::defaults);

    private LoadAccess() {
    }
}
