package dev.weightsonly.internal.load;

import dev.weightsonly.GlobalFactory;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.internal.Bridge;
import java.util.Map;

/** The loader's access to package-private parts of {@code dev.weightsonly}'s options (see {@link Bridge}). */
public final class LoadAccess {

    /** The package-private operations of {@link LoadOptions} and {@code SafeGlobals}. */
    public interface Ops {
        /**
         * Names to factories for a load starting now on this thread: SafeGlobals (if shared), then the load's own.
         *
         * @param options the load's options
         * @return the allowed names and their factories
         */
        Map<String, GlobalFactory> effectiveGlobals(LoadOptions options);

        /**
         * Whether {@code factory} keeps an object as its inert record.
         *
         * @param factory a factory from {@link #effectiveGlobals}
         * @return true for the inert factory
         */
        boolean isInert(GlobalFactory factory);
    }

    /** Installed by {@link LoadOptions}' initialiser (which any use of LoadOptions runs). */
    public static final Bridge<Ops> BRIDGE = new Bridge<>(LoadOptions::defaults);

    private LoadAccess() {
    }
}
