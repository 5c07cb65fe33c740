package dev.weightsonly;

import java.io.IOException;
import java.util.Optional;

/**
 * Why a checkpoint could not be loaded. Every failure the loader reports, for any input, is one of the
 * four subclasses; nothing else escapes a load except {@link IOException}s of the file system itself.
 *
 * <p>The message names the file, and where they apply the record inside the archive, the byte offset
 * in the pickle and the dict key being built, so that a log line alone says what went wrong and where.
 * The same facts are available as fields.
 */
public abstract sealed class CheckpointException extends IOException
        permits UnsafeCheckpointException, MalformedCheckpointException, LimitExceededException,
                UnsupportedCheckpointException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final String record;
    private final long pickleOffset;
    private final String detail;

    CheckpointException(Location where, String detail) {
        super(where.describe(detail));
        this.source = where.source();
        this.record = where.record();
        this.pickleOffset = where.pickleOffset();
        this.detail = detail;
    }

    /** The file (or stream name) being loaded. */
    public String source() {
        return source;
    }

    /** The record inside the archive ({@code archive/data.pkl}, {@code archive/data/0}), if one applies. */
    public Optional<String> record() {
        return Optional.ofNullable(record);
    }

    /** Byte offset of the failing opcode inside the pickle, or -1 when the failure is not in a pickle. */
    public long pickleOffset() {
        return pickleOffset;
    }

    /** The reason alone, without the location prefix. */
    public String detail() {
        return detail;
    }

    /**
     * Where a failure happened. Lower layers build exceptions through a location so that every message
     * has the same shape: {@code source: record: at pickle offset N: detail}.
     *
     * @param source       file or stream name, never null
     * @param record       archive record, or null
     * @param pickleOffset opcode offset in the pickle, or -1
     */
    public record Location(String source, String record, long pickleOffset) {

        public Location {
            if (source == null) {
                throw new NullPointerException("source");
            }
        }

        public static Location of(String source) {
            return new Location(source, null, -1);
        }

        public Location inRecord(String recordName) {
            return new Location(source, recordName, -1);
        }

        public Location atOffset(long offset) {
            return new Location(source, record, offset);
        }

        String describe(String detail) {
            StringBuilder sb = new StringBuilder(source);
            if (record != null) {
                sb.append(": ").append(record);
            }
            if (pickleOffset >= 0) {
                sb.append(": at pickle offset ").append(pickleOffset);
            }
            return sb.append(": ").append(detail).toString();
        }

        public MalformedCheckpointException malformed(String detail) {
            return new MalformedCheckpointException(this, detail);
        }

        public UnsafeCheckpointException unsafe(String detail) {
            return new UnsafeCheckpointException(this, detail);
        }

        public UnsupportedCheckpointException unsupported(String detail) {
            return new UnsupportedCheckpointException(this, detail);
        }

        public LimitExceededException limit(String limitName, long limit, String detail) {
            return new LimitExceededException(this, limitName, limit, detail);
        }
    }
}
