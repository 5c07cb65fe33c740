package dev.weightsonly.testkit;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnreadableCheckpointException;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.UnsupportedGlobalException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.opentest4j.AssertionFailedError;

/**
 * JUnit 5 assertions on weightsonly's verdict for a file: {@code assertRefused(...)} and {@code assertLoads(...)}.
 * Failures say what the file was, what was expected and what happened.
 *
 * <pre>{@code
 * CheckpointAssertions.assertRefused(HostileCheckpoints.osSystem())
 *         .as(UnsafeCheckpointException.class)
 *         .becauseOfGlobal("posix.system");
 * }</pre>
 */
public final class CheckpointAssertions {

    private CheckpointAssertions() {
    }

    /**
     * Asserts that loading {@code bytes} with the default options is refused.
     *
     * @param bytes a file's bytes
     * @return the refusal, for further checks
     * @throws AssertionFailedError if the file loads, cannot be read at all ({@link UnreadableCheckpointException}: a
     *     wrong path), or fails with anything but a {@link CheckpointException}
     */
    public static Refusal assertRefused(byte[] bytes) {
        return assertRefused(bytes, LoadOptions.defaults());
    }

    /**
     * Asserts that loading {@code bytes} with {@code options} is refused.
     *
     * @param bytes   a file's bytes
     * @param options the options the code under test loads with
     * @return the refusal, for further checks
     * @throws AssertionFailedError if the file loads, cannot be read at all ({@link UnreadableCheckpointException}: a
     *     wrong path), or fails with anything but a {@link CheckpointException}
     */
    public static Refusal assertRefused(byte[] bytes, LoadOptions options) {
        return refusal("the bytes (" + bytes.length + " bytes)", () -> Checkpoint.load(bytes, "checkpoint", options));
    }

    /**
     * Asserts that loading the file at {@code file} (mapped) with the default options is refused.
     *
     * @param file a file
     * @return the refusal, for further checks
     * @throws AssertionFailedError if the file loads, cannot be read at all ({@link UnreadableCheckpointException}: a
     *     wrong path), or fails with anything but a {@link CheckpointException}
     */
    public static Refusal assertRefused(Path file) {
        return assertRefused(file, LoadOptions.defaults());
    }

    /**
     * Asserts that loading the file at {@code file} (mapped) with {@code options} is refused.
     *
     * @param file    a file
     * @param options the options the code under test loads with
     * @return the refusal, for further checks
     * @throws AssertionFailedError if the file loads, cannot be read at all ({@link UnreadableCheckpointException}: a
     *     wrong path), or fails with anything but a {@link CheckpointException}
     */
    public static Refusal assertRefused(Path file, LoadOptions options) {
        return refusal(file.toString(), () -> Checkpoint.load(file, options));
    }

    /**
     * Asserts that {@code bytes} load with the default options, and returns how many tensors they hold.
     *
     * @param bytes a file's bytes
     * @return the number of tensors ({@link Checkpoint#tensors()})
     * @throws AssertionFailedError naming the exception when the file is refused
     */
    public static int assertLoads(byte[] bytes) {
        return assertLoads(bytes, LoadOptions.defaults());
    }

    /**
     * Asserts that {@code bytes} load with {@code options} (for example the globals the code under test allows),
     * and returns how many tensors they hold.
     *
     * @param bytes   a file's bytes
     * @param options the options the code under test loads with
     * @return the number of tensors ({@link Checkpoint#tensors()})
     * @throws AssertionFailedError naming the exception when the file is refused
     */
    public static int assertLoads(byte[] bytes, LoadOptions options) {
        return loads("the checkpoint (" + bytes.length + " bytes)", () -> Checkpoint.load(bytes, "checkpoint", options));
    }

    /**
     * Asserts that the file at {@code file} loads with the default options.
     *
     * @param file a file
     * @return the number of tensors
     * @throws AssertionFailedError naming the exception when the file is refused
     */
    public static int assertLoads(Path file) {
        return assertLoads(file, LoadOptions.defaults());
    }

    /**
     * Asserts that the file at {@code file} loads with {@code options}.
     *
     * @param file    a file
     * @param options the options the code under test loads with
     * @return the number of tensors
     * @throws AssertionFailedError naming the exception when the file is refused
     */
    public static int assertLoads(Path file, LoadOptions options) {
        return loads(file.toString(), () -> Checkpoint.load(file, options));
    }

    private static int loads(String what, Load load) {
        try (Checkpoint checkpoint = load.run()) {
            return checkpoint.tensors().size();
        } catch (IOException | RuntimeException e) {
            throw new AssertionFailedError("expected " + what + " to load, but it was refused: " + e, e);
        }
    }

    private interface Load {
        Checkpoint run() throws IOException;
    }

    private static Refusal refusal(String what, Load load) {
        try (Checkpoint loaded = load.run()) {
            throw new AssertionFailedError("expected " + what + " to be refused, but it loaded: " + loaded.root()
                    .getClass().getSimpleName() + " with " + loaded.tensors().size() + " tensors");
        } catch (UnreadableCheckpointException e) {
            // No such file, a directory: a wrong path in the test, not a file the loader refused.
            throw new AssertionFailedError("expected " + what + " to be refused, but it could not be read at all: "
                    + e.getMessage(), e);
        } catch (CheckpointException e) {
            return new Refusal(what, e);
        } catch (IOException | RuntimeException e) {
            throw new AssertionFailedError("expected " + what + " to be refused with a CheckpointException, but "
                    + "loading it threw " + e, e);
        }
    }

    /** A refusal that happened: narrow it down with {@link #as} and {@link #becauseOfGlobal}. */
    public static final class Refusal {
        private final String what;
        private final CheckpointException exception;

        Refusal(String what, CheckpointException exception) {
            this.what = what;
            this.exception = exception;
        }

        /**
         * Asserts the kind of refusal: {@code UnsafeCheckpointException} (code or a global outside the allowlist),
         * {@code MalformedCheckpointException}, {@code LimitExceededException}, {@code UnsupportedCheckpointException}.
         *
         * @param kind the expected exception class (or a superclass of it)
         * @return this
         * @throws AssertionFailedError naming both classes and the message
         */
        public Refusal as(Class<? extends CheckpointException> kind) {
            if (!kind.isInstance(exception)) {
                throw new AssertionFailedError("expected " + what + " to be refused as " + kind.getSimpleName()
                        + ", but it was refused as " + exception.getClass().getSimpleName() + ": "
                        + exception.getMessage(), kind.getSimpleName(), exception.getClass().getSimpleName(),
                        exception);
            }
            return this;
        }

        /**
         * Asserts that the refusal is for the global {@code qualifiedName} (after Python 2 name mapping, as
         * PyTorch names it: {@code "posix.system"}, {@code "builtins.eval"}).
         *
         * @param qualifiedName the expected global
         * @return this
         * @throws AssertionFailedError if the refusal is not for a global, or for another one
         */
        public Refusal becauseOfGlobal(String qualifiedName) {
            Objects.requireNonNull(qualifiedName, "qualifiedName");
            if (!(exception instanceof UnsupportedGlobalException global)) {
                throw new AssertionFailedError("expected " + what + " to be refused for the global " + qualifiedName
                        + ", but it was refused for another reason: " + exception.getMessage(), exception);
            }
            if (!global.globalName().equals(qualifiedName)) {
                throw new AssertionFailedError("expected " + what + " to be refused for the global " + qualifiedName
                        + ", but it was refused for " + global.globalName(), qualifiedName, global.globalName(),
                        exception);
            }
            return this;
        }

        /**
         * The exception the load threw.
         *
         * @return the exception
         */
        public CheckpointException exception() {
            return exception;
        }
    }
}
