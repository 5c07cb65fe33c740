package dev.weightsonly;

import dev.weightsonly.tensors.Storage;

/**
 * Bounds on what one load may cost, so that a hostile file gets an exception instead of exhausting the
 * heap, the stack or the CPU. The defaults are far above anything a real checkpoint needs (a 70B-parameter
 * state dict has a few thousand tensors and a pickle of a few megabytes) and far below what would hurt a
 * service. Every limit names the attack it stops.
 *
 * <p>Memory: what a load keeps is bounded by these limits, not by the file alone. Each Python value a pickle
 * creates costs up to about 120 bytes of heap (an empty set appended to a list: two bytes of pickle), so
 * {@code maxObjects} at its default allows about 1.2 GB from a pickle of 20 MB; each far memo index up to about
 * 60 bytes for the length of a load ({@code maxMemoEntries}: 600 MB; slots numbered 0, 1, 2, ... as torch
 * writes them cost 8 to 32 bytes each); and DEFLATED records at most
 * {@code maxInflationRatio} times the file. A service that loads untrusted files on a small heap lowers
 * {@code maxObjects} (heap / 120 bytes is a hard bound) and {@code maxPickleBytes}. Mapped tensor data is
 * never copied and costs no heap. After the load, what one operation materialises from the tensors (a copy, an
 * array, dequantized values, a dense form) is bounded by {@code maxMaterializedBytes} and the heap, checked before
 * allocating. See docs/SECURITY.md.
 *
 * <p>Immutable; build a different one with {@link #builder()}.
 *
 * @param maxPickleBytes      size of one pickle record; stops inputs built to make the parser do
 *                            unbounded work
 * @param maxStackDepth       values on the unpickler stack at once (opcode floods)
 * @param maxMarkDepth        open MARKs at once (a million nested MARKs)
 * @param maxMemoEntries      distinct memo slots (memo index floods); torch memoizes each value once, so a
 *                            real pickle has about ten slots per tensor (a training checkpoint whose
 *                            optimizer state holds 300,000 tensors has 3 million)
 * @param maxContainerLength  items in one list, dict, set or tuple (DUP/BINGET amplification into one list)
 * @param maxObjects          Python values created by one pickle, plus what calls read or copy of their
 *                            arguments (container items, sixteenths of strings, sparse indices checked):
 *                            allocation floods that stay under every other limit, and one large value passed
 *                            to a call again and again; a state dict counts a few dozen per tensor
 * @param maxStringBytes      bytes of one string or bytes value
 * @param maxIntegerBytes     bytes (or decimal digits) of one integer; parsing huge integers is quadratic
 * @param maxTensors          tensors rebuilt by one load
 * @param maxTensorElements   elements of one tensor view; a stride-0 view can claim terabytes over a
 *                            one-element storage, and copies of it would exhaust memory
 * @param maxInflatedBytes    bytes one DEFLATED record may inflate to (zip bombs); checked against the
 *                            size the directory declares before anything is inflated, and the inflater never
 *                            produces more than that declared size
 * @param maxArchiveEntries   records in one archive (central directory floods)
 * @param maxNestingDepth     depth of nested values walked by the dump and the tensor walk (deep nesting
 *                            would overflow the Java stack)
 * @param maxNameBytes        bytes of one archive record name, and of one GLOBAL or INST module or name
 *                            (name floods: a 64 KiB record name, a megabyte-long global name); real ones are
 *                            under 300 bytes
 * @param maxInflationRatio   how many times the size of the whole file all DEFLATED records of one load may
 *                            inflate to together, plus 1 MiB (zip bombs that stay under
 *                            {@code maxInflatedBytes} per record, and many records sharing one payload); a
 *                            checkpoint that {@code zip} re-compressed inflates to 1 to 3 times its size
 * @param maxMaterializedBytes bytes one operation on the loaded tensors may hold in fresh memory to materialise
 *                            values after the load ({@code Tensor.contiguous()}, {@code dequantize()}, the
 *                            {@code toXxxArray()} copies, {@code SparseTensor.toDense()}): a 548-byte file can
 *                            describe a sparse tensor whose dense form is 16 GiB, or a stride-0 view of
 *                            terabytes. Checked before allocating, together with the JVM's maximum heap; past
 *                            it the operation throws {@code MaterializationLimitException}. Every storage of the
 *                            checkpoint carries it ({@code Storage.maxMaterializedBytes()})
 * @param maxStreamBytes      bytes one load may read from an {@code InputStream} ({@code Checkpoint.load(InputStream,
 *                            ...)}), which it copies into memory: an endless or enormous stream (a socket, a pipe)
 *                            would otherwise grow memory without bound. Memory is never allocated past it, and the
 *                            stream is read no further; a path is mapped, not copied, and is not bounded by it
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
        int maxNestingDepth,
        int maxNameBytes,
        int maxInflationRatio,
        long maxMaterializedBytes,
        long maxStreamBytes) {

    private static final LoadLimits DEFAULTS = new LoadLimits(
            1L << 30,          // 1 GiB of pickle
            1_000_000,
            10_000,
            10_000_000,        // memo slots: torch memoizes about 10 per tensor, so as many as maxObjects
            50_000_000,
            10_000_000L,       // values: at most about 1.2 GB of heap (see above)
            1L << 30,
            10_000,
            1_000_000,
            1L << 40,          // 2^40 elements: beyond any real tensor, below any long overflow in bytes
            4L << 30,          // 4 GiB inflated
            1_000_000,
            1_000,
            4_096,
            200,           // DEFLATE alone reaches 1032:1 on zeros
            Storage.DEFAULT_MAX_MATERIALIZED_BYTES, // 4 GiB
            64L << 30);        // 64 GiB from one stream: larger than any checkpoint a stream is used for

    /**
     * Checks the limits; use {@link #builder()} to change some and keep the defaults for the rest.
     *
     * @throws IllegalArgumentException if any limit is zero or negative (no limit means "nothing may load", so
     *     it is a mistake)
     */
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
        requirePositive("maxNameBytes", maxNameBytes);
        requirePositive("maxInflationRatio", maxInflationRatio);
        requirePositive("maxMaterializedBytes", maxMaterializedBytes);
        requirePositive("maxStreamBytes", maxStreamBytes);
    }

    /**
     * The defaults: every real checkpoint fits, no hostile file gets far.
     *
     * @return the default limits, as listed in the class comment
     */
    public static LoadLimits defaults() {
        return DEFAULTS;
    }

    /**
     * Starts from the defaults, to raise a limit for a genuine large checkpoint or lower one for a small heap.
     *
     * @return a builder holding the defaults
     */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /**
     * Starts from these limits, to change one of them and keep the rest.
     *
     * @return a builder holding these limits
     */
    public Builder toBuilder() {
        return new Builder(this);
    }

    private static void requirePositive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /**
     * Builds a {@link LoadLimits}, starting from the defaults ({@link LoadLimits#builder()}) or from other
     * limits ({@link LoadLimits#toBuilder()}). Not thread-safe.
     */
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
        private int maxNameBytes;
        private int maxInflationRatio;
        private long maxMaterializedBytes;
        private long maxStreamBytes;

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
            maxNameBytes = from.maxNameBytes;
            maxInflationRatio = from.maxInflationRatio;
            maxMaterializedBytes = from.maxMaterializedBytes;
            maxStreamBytes = from.maxStreamBytes;
        }

        /**
         * Sets {@link LoadLimits#maxPickleBytes()}: the size of one pickle record, in bytes.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxPickleBytes(long v) {
            maxPickleBytes = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxStackDepth()}: how many values the unpickler stack may hold at once.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxStackDepth(int v) {
            maxStackDepth = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxMarkDepth()}: how many MARKs may be open at once.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxMarkDepth(int v) {
            maxMarkDepth = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxMemoEntries()}: how many distinct memo slots one pickle may use.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxMemoEntries(int v) {
            maxMemoEntries = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxContainerLength()}: how many items one list, dict, set or tuple may hold.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxContainerLength(int v) {
            maxContainerLength = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxObjects()}: how many Python values (and argument reads) one pickle may cost.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxObjects(long v) {
            maxObjects = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxStringBytes()}: the size of one string or bytes value, in bytes.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxStringBytes(long v) {
            maxStringBytes = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxIntegerBytes()}: the size of one integer, in bytes or decimal digits.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxIntegerBytes(int v) {
            maxIntegerBytes = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxTensors()}: how many tensors one load may rebuild.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxTensors(int v) {
            maxTensors = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxTensorElements()}: how many elements one tensor view may claim.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxTensorElements(long v) {
            maxTensorElements = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxInflatedBytes()}: how many bytes one DEFLATED record may inflate to.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxInflatedBytes(long v) {
            maxInflatedBytes = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxArchiveEntries()}: how many records one archive may hold.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxArchiveEntries(int v) {
            maxArchiveEntries = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxNestingDepth()}: how deeply values may nest for the dump and the tensor walk.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxNestingDepth(int v) {
            maxNestingDepth = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxNameBytes()}: the size of one record name or global name, in bytes.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxNameBytes(int v) {
            maxNameBytes = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxInflationRatio()}: how many times the file size all DEFLATED records together may inflate to.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxInflationRatio(int v) {
            maxInflationRatio = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxMaterializedBytes()}: how many bytes one operation on the loaded tensors may hold in fresh memory.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxMaterializedBytes(long v) {
            maxMaterializedBytes = v;
            return this;
        }

        /**
         * Sets {@link LoadLimits#maxStreamBytes()}: how many bytes one load may read from an {@code InputStream}.
         *
         * @param v the new limit, positive (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxStreamBytes(long v) {
            maxStreamBytes = v;
            return this;
        }

        /**
         * Builds the limits.
         *
         * @return the limits as set, the defaults (or the limits it started from) for the rest
         * @throws IllegalArgumentException if a limit was set to zero or less
         */
        public LoadLimits build() {
            return new LoadLimits(maxPickleBytes, maxStackDepth, maxMarkDepth, maxMemoEntries, maxContainerLength,
                    maxObjects, maxStringBytes, maxIntegerBytes, maxTensors, maxTensorElements, maxInflatedBytes,
                    maxArchiveEntries, maxNestingDepth, maxNameBytes, maxInflationRatio, maxMaterializedBytes,
                    maxStreamBytes);
        }
    }
}
