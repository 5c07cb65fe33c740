package dev.weightsonly.internal;

/**
 * A way into package-private members of an exported package, for the machinery only (the JDK's "shared
 * secrets" pattern). The exported package keeps its constructors and mutators package-private and, as it is
 * initialised, installs an implementation of {@code T} that forwards to them; callers of the API never see
 * them, and the machinery's packages are not exported.
 *
 * @param <T> the operations
 */
public final class Bridge<T> {

    private final Runnable initialiseInstaller;
    private volatile T operations;

    /**
     * A bridge whose operations a class of the exported package installs from its static initialiser.
     *
     * @param initialiseInstaller a static use of that class, which makes the JVM initialise it (no reflection:
     *     the library never loads or initialises a class by name)
     */
    public Bridge(Runnable initialiseInstaller) {
        this.initialiseInstaller = initialiseInstaller;
    }

    /**
     * Called once, by the initialiser of the installing class.
     *
     * @param implementation the operations
     * @throws IllegalStateException if called a second time
     */
    public synchronized void install(T implementation) {
        if (operations != null) {
            throw new IllegalStateException("already installed");
        }
        operations = implementation;
    }

    /**
     * The operations, initialising the installing class first if nothing has yet.
     *
     * @return the operations
     */
    public T get() {
        T o = operations;
        if (o == null) {
            initialiseInstaller.run();
            o = operations;
            if (o == null) {
                throw new IllegalStateException("no operations installed");
            }
        }
        return o;
    }
}
