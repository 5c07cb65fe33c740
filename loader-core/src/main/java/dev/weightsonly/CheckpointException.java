package dev.weightsonly;

import java.io.IOException;
import java.util.Optional;

/**
 * Why a checkpoint could not be loaded. Every failure of a load, for any input, is one of five subclasses:
 * the file's content is refused ({@link UnsafeCheckpointException}, {@link MalformedCheckpointException},
 * {@link LimitExceededException}, {@link UnsupportedCheckpointException}), or its bytes could not be had at all
 * ({@link UnreadableCheckpointException}: no such file, a directory, a file that cannot be read or mapped, a
 * stream whose read failed). It is an {@link IOException}, so code written against {@code IOException} keeps
 * working; {@code catch (CheckpointException e)} catches every failure of a load.
 *
 * <p>The message names the file, and where they apply the record inside the archive, the byte offset
 * in the pickle and the dict key being built, so that a log line alone says what went wrong and where:
 * it is {@link #where()}, a colon, then {@link #detail()}. The same facts are available as fields.
 */
public abstract sealed class CheckpointException extends IOException
        permits UnsafeCheckpointException, MalformedCheckpointException, LimitExceededException,
                UnsupportedCheckpointException, UnreadableCheckpointException {

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
        this(where, detail, null);
    }

    /** With the exception that caused it (the file system's, for an {@link UnreadableCheckpointException}). */
    CheckpointException(Location where, String detail, Throwable cause) {
        super(where.describe(detail), cause);
        this.source = where.source();
        this.record = where.record();
        this.pickleOffset = where.pickleOffset();
        this.detail = detail;
    }

    /**
     * The file (or stream name) being loaded.
     *
     * @return the path or name the load was given, as the message begins with it
     */
    public String source() {
        return source;
    }

    /**
     * Where the failure is, as the message begins: the source, then the record and the pickle offset where they
     * apply ({@code model.pt: model/data.pkl: at pickle offset 208}). A caller that words its own remedy (a
     * command line tool that names its own option) prints this, a colon and its own text.
     *
     * @return the message's location prefix, without the colon that follows it
     */
    public String where() {
        String message = getMessage();
        return message.substring(0, message.length() - detail.length() - 2);
    }

    /**
     * The record inside the archive ({@code archive/data.pkl}, {@code archive/data/0}), if one applies.
     *
     * @return the record's full name, or empty when the failure is not inside one
     */
    public Optional<String> record() {
        return Optional.ofNullable(record);
    }

    /**
     * Byte offset of the failing opcode inside the pickle.
     *
     * @return the offset, or -1 when the failure is not in a pickle
     */
    public long pickleOffset() {
        return pickleOffset;
    }

    /**
     * The reason alone, without the location prefix.
     *
     * @return what the message says after {@link #where()} and its colon
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
