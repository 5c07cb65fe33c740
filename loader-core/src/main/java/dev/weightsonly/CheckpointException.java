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

    /** The file or stream name; see {@link #source()}. */
    private final String source;
    /** The archive record, or null; see {@link #record()}. */
    private final String record;
    /** The opcode offset in the pickle, or -1; see {@link #pickleOffset()}. */
    private final long pickleOffset;
    /** The reason without the location; see {@link #detail()}. */
    private final String detail;

    CheckpointException(Location where, String detail) {
        super(where.describe(detail));
        this.source = where.source();
        this.record = where.record();
        this.pickleOffset = where.pickleOffset();
        this.detail = detail;
    }

    /**
     * Which checkpoint failed, so that a handler of many loads can tell them apart.
     *
     * @return the file (or stream name) being loaded, as given to {@code Checkpoint.load}
     */
    public String source() {
        return source;
    }

    /**
     * Which record of a zip or tar checkpoint failed.
     *
     * @return the record inside the archive ({@code archive/data.pkl}, {@code archive/data/0}), or empty if
     *     the failure is not in one record (the archive's structure, a legacy stream)
     */
    public Optional<String> record() {
        return Optional.ofNullable(record);
    }

    /**
     * Where in the pickle the failure happened, to find the opcode with a disassembler
     * ({@code python -m pickletools}).
     *
     * @return the byte offset of the failing opcode inside the pickle, or -1 when the failure is not in a pickle
     */
    public long pickleOffset() {
        return pickleOffset;
    }

    /**
     * The reason alone, for a caller that reports the location itself.
     *
     * @return the message without its {@code source: record: at pickle offset N: } prefix
     */
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

        /**
         * Checks that the source is named; the other parts are optional.
         *
         * @throws NullPointerException if {@code source} is null
         */
        public Location {
            if (source == null) {
                throw new NullPointerException("source");
            }
        }

        /**
         * The location of a whole file, before any record is opened.
         *
         * @param source file or stream name
         * @return a location naming only the source
         */
        public static Location of(String source) {
            return new Location(source, null, -1);
        }

        /**
         * The location of one record of this source's archive.
         *
         * @param recordName the record's name in the archive, such as {@code archive/data.pkl}
         * @return a location naming the source and the record, with no pickle offset
         */
        public Location inRecord(String recordName) {
            return new Location(source, recordName, -1);
        }

        /**
         * The location of one opcode in this record's pickle.
         *
         * @param offset the opcode's byte offset in the pickle
         * @return a location naming the source, the record (if any) and the offset
         */
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

        /**
         * A refusal of bytes that are not a well-formed checkpoint, here.
         *
         * @param detail what is wrong, in the reader's terms
         * @return the exception, for the caller to throw
         */
        public MalformedCheckpointException malformed(String detail) {
            return new MalformedCheckpointException(this, detail);
        }

        /**
         * A refusal of something a weights-only load never does, here.
         *
         * @param detail what the file asked for
         * @return the exception, for the caller to throw
         */
        public UnsafeCheckpointException unsafe(String detail) {
            return new UnsafeCheckpointException(this, detail);
        }

        /**
         * A refusal of a construct weightsonly recognises but does not load, here.
         *
         * @param detail what the construct is
         * @return the exception, for the caller to throw
         */
        public UnsupportedCheckpointException unsupported(String detail) {
            return new UnsupportedCheckpointException(this, detail);
        }

        /**
         * A refusal because the file exceeds one of the {@link LoadLimits}, here; the message says how to raise it.
         *
         * @param limitName the {@link LoadLimits} accessor that holds the limit, such as {@code "maxTensors"}
         * @param limit the limit in force
         * @param detail what the file claimed
         * @return the exception, for the caller to throw
         */
        public LimitExceededException limit(String limitName, long limit, String detail) {
            return new LimitExceededException(this, limitName, limit, detail);
        }
    }
}
