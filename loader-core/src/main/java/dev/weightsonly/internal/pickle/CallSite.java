package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;

/**
 * Where a call from the pickle happens: the location for error messages, the limits in force, and the
 * dict key whose value is being built when that can be seen on the stack (so that an error about a
 * tensor can name it).
 *
 * @param where    source, record and pickle offset of the opcode
 * @param keyHint  the string key just below the callable on the stack, or null
 * @param limits   the limits of this load
 */
public record CallSite(Location where, String keyHint, LoadLimits limits) {

    private String withKey(String detail) {
        // The key comes from the file: bounded, so that a message never carries a megabyte of it.
        String key = keyHint == null || keyHint.length() <= 120 ? keyHint : keyHint.substring(0, 120) + "...";
        return key == null ? detail : detail + " (building the value of key '" + key + "')";
    }

    public MalformedCheckpointException malformed(String detail) {
        return where.malformed(withKey(detail));
    }

    public UnsafeCheckpointException unsafe(String detail) {
        return where.unsafe(withKey(detail));
    }

    public UnsupportedCheckpointException unsupported(String detail) {
        return where.unsupported(withKey(detail));
    }

    public LimitExceededException limit(String limitName, long limit, String detail) {
        return where.limit(limitName, limit, withKey(detail));
    }
}
