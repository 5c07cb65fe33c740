package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;

/**
 * Where a call from the pickle happens: the location for error messages, the limits in force, the dict key
 * whose value is being built when that can be seen on the stack (so that an error about a tensor can name it),
 * and the budget that the work of calls is charged to.
 *
 * <p>The location is kept as the record's location and the opcode's offset, and made into one {@link Location}
 * only when a message needs it ({@link #where()}): a load makes a call site per call of its pickle (several per
 * tensor), and nearly all of them end without an error.
 *
 * @param record       source and record of the pickle
 * @param pickleOffset the opcode's byte offset in the pickle, or -1 if {@code record} already says where
 * @param keyHint      the string key just below the callable on the stack, or null
 * @param limits       the limits of this load
 * @param budget       what the call's work (items it iterates or creates) is charged to: the load's
 *                     {@code maxObjects} count
 */
public record CallSite(Location record, long pickleOffset, String keyHint, LoadLimits limits, Budget budget) {

    /** A count of work bounded by {@link LoadLimits#maxObjects()}, shared by every call of one load. */
    @FunctionalInterface
    public interface Budget {

        /**
         * Counts {@code items} more units of work.
         *
         * @param items how many values are read, copied or created
         * @throws CheckpointException a {@link LimitExceededException} when the load's count passes its limit
         */
        void charge(long items) throws CheckpointException;
    }

    /**
     * A call site with a budget of its own, {@code limits.maxObjects()} units, for calls made outside an
     * unpickler run.
     *
     * @param where   source, record and pickle offset of the opcode
     * @param keyHint the string key just below the callable on the stack, or null
     * @param limits  the limits of this load
     */
    public CallSite(Location where, String keyHint, LoadLimits limits) {
        this(where, -1, keyHint, limits, ownBudget(where, limits));
    }

    /**
     * Where the call happens, for a message.
     *
     * @return source, record and pickle offset of the opcode
     */
    public Location where() {
        return pickleOffset < 0 ? record : record.atOffset(pickleOffset);
    }

    private static Budget ownBudget(Location where, LoadLimits limits) {
        long[] used = {0};
        return items -> {
            used[0] += items;
            if (used[0] > limits.maxObjects()) {
                throw where.limit("maxObjects", limits.maxObjects(), "more than " + limits.maxObjects()
                        + " values read and copied by calls");
            }
        };
    }

    /**
     * Charges {@code items} units of work to the load's budget.
     *
     * @param items how many values are read, copied or created
     * @throws CheckpointException a {@link LimitExceededException} past {@code maxObjects}
     */
    public void charge(long items) throws CheckpointException {
        budget.charge(items);
    }

    private String withKey(String detail) {
        // The key comes from the file: bounded, so that a message never carries a megabyte of it.
        String key = keyHint == null || keyHint.length() <= 120 ? keyHint : keyHint.substring(0, 120) + "...";
        return key == null ? detail : detail + " (building the value of key '" + key + "')";
    }

    public MalformedCheckpointException malformed(String detail) {
        return where().malformed(withKey(detail));
    }

    public UnsafeCheckpointException unsafe(String detail) {
        return where().unsafe(withKey(detail));
    }

    public UnsupportedCheckpointException unsupported(String detail) {
        return where().unsupported(withKey(detail));
    }

    public LimitExceededException limit(String limitName, long limit, String detail) {
        return where().limit(limitName, limit, withKey(detail));
    }
}
