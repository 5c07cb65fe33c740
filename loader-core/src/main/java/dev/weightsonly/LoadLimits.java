package dev.weightsonly;

/**
 * Bounds on what one load may cost, so that a hostile file gets an exception instead of exhausting the
 * heap, the stack or the CPU. The defaults are far above anything a real checkpoint needs (a 70B-parameter
 * state dict has a few thousand tensors and a pickle of a few megabytes) and far below what would hurt a
 * service. Every limit names the attack it stops.
 *
 * <p>Immutable; build a different one with {@link #builder()}.
 *
 * @param maxPickleBytes      size of one pickle record; stops inputs built to make the parser do
 *                            unbounded work
 * @param maxStackDepth       values on the unpickler stack at once (opcode floods)
 * @param maxMarkDepth        open MARKs at once (a million nested MARKs)
 * @param maxMemoEntries      distinct memo slots (memo index floods)
 * @param maxContainerLength  items in one list, dict, set or tuple (DUP/BINGET amplification into one list)
 * @param maxObjects          Python values created by one pickle (allocation floods that stay under every
 *                            other limit)
 * @param maxStringBytes      bytes of one string or bytes value
 * @param maxIntegerBytes     bytes (or decimal digits) of one integer; parsing huge integers is quadratic
 * @param maxTensors          tensors rebuilt by one load
 * @param maxTensorElements   elements of one tensor view; a stride-0 view can claim terabytes over a
 *                            one-element storage, and copies of it would exhaust memory
 * @param maxInflatedBytes    bytes one DEFLATED record may inflate to (zip bombs)
 * @param maxArchiveEntries   records in one archive (central directory floods)
 * @param maxNestingDepth     depth of nested values walked by the dump and the tensor walk (deep nesting
 *                            would overflow the Java stack)
 */
public record LoadLimits(
        long maxPickleBytes,
        int maxStackDepth,
        int maxMarkDepth,
        int maxMemoEntries,
        int maxContainerLength,
        long maxObjects,
        long maxStringBytes,
        int maxIntegerBytes,
        int maxTensors,
        long maxTensorElements,
        long maxInflatedBytes,
        int maxArchiveEntries,
        int maxNestingDepth) {

    private static final LoadLimits DEFAULTS = new LoadLimits(
            1L << 30,          // 1 GiB of pickle
            1_000_000,
            10_000,
            10_000_000,
            50_000_000,
            100_000_000L,
            1L << 30,
            10_000,
            1_000_000,
            1L << 40,          // 2^40 elements: beyond any real tensor, below any long overflow in bytes
            4L << 30,          // 4 GiB inflated
            1_000_000,
            1_000);

    public LoadLimits {
        requirePositive("maxPickleBytes", maxPickleBytes);
        requirePositive("maxStackDepth", maxStackDepth);
        requirePositive("maxMarkDepth", maxMarkDepth);
        requirePositive("maxMemoEntries", maxMemoEntries);
        requirePositive("maxContainerLength", maxContainerLength);
        requirePositive("maxObjects", maxObjects);
        requirePositive("maxStringBytes", maxStringBytes);
        requirePositive("maxIntegerBytes", maxIntegerBytes);
        requirePositive("maxTensors", maxTensors);
        requirePositive("maxTensorElements", maxTensorElements);
        requirePositive("maxInflatedBytes", maxInflatedBytes);
        requirePositive("maxArchiveEntries", maxArchiveEntries);
        requirePositive("maxNestingDepth", maxNestingDepth);
    }

    /** The defaults: every real checkpoint fits, no hostile file gets far. */
    public static LoadLimits defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    private static void requirePositive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /** Builds a {@link LoadLimits}; starts from the defaults. */
    public static final class Builder {
        private long maxPickleBytes;
        private int maxStackDepth;
        private int maxMarkDepth;
        private int maxMemoEntries;
        private int maxContainerLength;
        private long maxObjects;
        private long maxStringBytes;
        private int maxIntegerBytes;
        private int maxTensors;
        private long maxTensorElements;
        private long maxInflatedBytes;
        private int maxArchiveEntries;
        private int maxNestingDepth;

        private Builder(LoadLimits from) {
            maxPickleBytes = from.maxPickleBytes;
            maxStackDepth = from.maxStackDepth;
            maxMarkDepth = from.maxMarkDepth;
            maxMemoEntries = from.maxMemoEntries;
            maxContainerLength = from.maxContainerLength;
            maxObjects = from.maxObjects;
            maxStringBytes = from.maxStringBytes;
            maxIntegerBytes = from.maxIntegerBytes;
            maxTensors = from.maxTensors;
            maxTensorElements = from.maxTensorElements;
            maxInflatedBytes = from.maxInflatedBytes;
            maxArchiveEntries = from.maxArchiveEntries;
            maxNestingDepth = from.maxNestingDepth;
        }

        public Builder maxPickleBytes(long v) { maxPickleBytes = v; return this; }
        public Builder maxStackDepth(int v) { maxStackDepth = v; return this; }
        public Builder maxMarkDepth(int v) { maxMarkDepth = v; return this; }
        public Builder maxMemoEntries(int v) { maxMemoEntries = v; return this; }
        public Builder maxContainerLength(int v) { maxContainerLength = v; return this; }
        public Builder maxObjects(long v) { maxObjects = v; return this; }
        public Builder maxStringBytes(long v) { maxStringBytes = v; return this; }
        public Builder maxIntegerBytes(int v) { maxIntegerBytes = v; return this; }
        public Builder maxTensors(int v) { maxTensors = v; return this; }
        public Builder maxTensorElements(long v) { maxTensorElements = v; return this; }
        public Builder maxInflatedBytes(long v) { maxInflatedBytes = v; return this; }
        public Builder maxArchiveEntries(int v) { maxArchiveEntries = v; return this; }
        public Builder maxNestingDepth(int v) { maxNestingDepth = v; return this; }

        public LoadLimits build() {
            return new LoadLimits(maxPickleBytes, maxStackDepth, maxMarkDepth, maxMemoEntries, maxContainerLength,
                    maxObjects, maxStringBytes, maxIntegerBytes, maxTensors, maxTensorElements, maxInflatedBytes,
                    maxArchiveEntries, maxNestingDepth);
        }
    }
}
