package dev.weightsonly.internal.pickle;

/**
 * Every opcode of pickle protocols 0 to 5 (CPython's {@code pickletools} table): its byte, the protocol
 * that introduced it and the layout of its operand. The unpickler, the memo pre-pass ({@link MemoReads}), the
 * scanner, the pickle writer and the tests' pickle builder all read and write opcodes through this one table
 * and {@link OperandReader}, so that no two of them can disagree on where an opcode's operand ends: a scanner
 * that parses differently from the loader is the classic scanner bypass.
 */
public enum Opcode {
    MARK('(', 0, Operand.NOTHING),
    STOP('.', 0, Operand.NOTHING),
    POP('0', 0, Operand.NOTHING),
    POP_MARK('1', 1, Operand.NOTHING),
    DUP('2', 0, Operand.NOTHING),
    FLOAT('F', 0, Operand.LINE),
    INT('I', 0, Operand.LINE),
    BININT('J', 1, Operand.INT4),
    BININT1('K', 1, Operand.UINT1),
    LONG('L', 0, Operand.LINE),
    BININT2('M', 1, Operand.UINT2),
    NONE('N', 0, Operand.NOTHING),
    PERSID('P', 0, Operand.LINE),
    BINPERSID('Q', 1, Operand.NOTHING),
    REDUCE('R', 0, Operand.NOTHING),
    STRING('S', 0, Operand.LINE),
    BINSTRING('T', 1, Operand.BYTES_INT4),
    SHORT_BINSTRING('U', 1, Operand.BYTES_UINT1),
    UNICODE('V', 0, Operand.LINE),
    BINUNICODE('X', 1, Operand.BYTES_UINT4),
    APPEND('a', 0, Operand.NOTHING),
    BUILD('b', 0, Operand.NOTHING),
    GLOBAL('c', 0, Operand.TWO_LINES),
    DICT('d', 0, Operand.NOTHING),
    EMPTY_DICT('}', 1, Operand.NOTHING),
    APPENDS('e', 1, Operand.NOTHING),
    GET('g', 0, Operand.LINE),
    BINGET('h', 1, Operand.UINT1),
    INST('i', 0, Operand.TWO_LINES),
    LONG_BINGET('j', 1, Operand.UINT4),
    LIST('l', 0, Operand.NOTHING),
    EMPTY_LIST(']', 1, Operand.NOTHING),
    OBJ('o', 1, Operand.NOTHING),
    PUT('p', 0, Operand.LINE),
    BINPUT('q', 1, Operand.UINT1),
    LONG_BINPUT('r', 1, Operand.UINT4),
    SETITEM('s', 0, Operand.NOTHING),
    TUPLE('t', 0, Operand.NOTHING),
    EMPTY_TUPLE(')', 1, Operand.NOTHING),
    SETITEMS('u', 1, Operand.NOTHING),
    BINFLOAT('G', 1, Operand.FLOAT8),
    PROTO(0x80, 2, Operand.UINT1),
    NEWOBJ(0x81, 2, Operand.NOTHING),
    EXT1(0x82, 2, Operand.UINT1),
    EXT2(0x83, 2, Operand.UINT2),
    EXT4(0x84, 2, Operand.INT4),
    TUPLE1(0x85, 2, Operand.NOTHING),
    TUPLE2(0x86, 2, Operand.NOTHING),
    TUPLE3(0x87, 2, Operand.NOTHING),
    NEWTRUE(0x88, 2, Operand.NOTHING),
    NEWFALSE(0x89, 2, Operand.NOTHING),
    LONG1(0x8A, 2, Operand.BYTES_UINT1),
    LONG4(0x8B, 2, Operand.BYTES_INT4),
    BINBYTES('B', 3, Operand.BYTES_UINT4),
    SHORT_BINBYTES('C', 3, Operand.BYTES_UINT1),
    SHORT_BINUNICODE(0x8C, 4, Operand.BYTES_UINT1),
    BINUNICODE8(0x8D, 4, Operand.BYTES_UINT8),
    BINBYTES8(0x8E, 4, Operand.BYTES_UINT8),
    EMPTY_SET(0x8F, 4, Operand.NOTHING),
    ADDITEMS(0x90, 4, Operand.NOTHING),
    FROZENSET(0x91, 4, Operand.NOTHING),
    NEWOBJ_EX(0x92, 4, Operand.NOTHING),
    STACK_GLOBAL(0x93, 4, Operand.NOTHING),
    MEMOIZE(0x94, 4, Operand.NOTHING),
    FRAME(0x95, 4, Operand.UINT8),
    BYTEARRAY8(0x96, 5, Operand.BYTES_UINT8),
    NEXT_BUFFER(0x97, 5, Operand.NOTHING),
    READONLY_BUFFER(0x98, 5, Operand.NOTHING);

    /**
     * How an operand is laid out (pickletools' argument descriptors). Numbers are little-endian except
     * FLOAT8, which is big-endian.
     */
    public enum Operand {
        /** No operand. */
        NOTHING,
        /** One unsigned byte. */
        UINT1,
        /** Two bytes, unsigned. */
        UINT2,
        /** Four bytes, signed. */
        INT4,
        /** Four bytes, unsigned. */
        UINT4,
        /** Eight bytes, a non-negative length. */
        UINT8,
        /** Eight bytes, an IEEE double, big-endian. */
        FLOAT8,
        /** A one-byte length, then that many bytes. */
        BYTES_UINT1,
        /** A four-byte unsigned length, then that many bytes. */
        BYTES_UINT4,
        /** A four-byte signed length (negative is refused), then that many bytes. */
        BYTES_INT4,
        /** An eight-byte length (past {@code Long.MAX_VALUE} is refused), then that many bytes. */
        BYTES_UINT8,
        /** Bytes up to a newline. */
        LINE,
        /** Two lines (module, then name). */
        TWO_LINES
    }

    private static final Opcode[] BY_CODE = new Opcode[256];

    static {
        for (Opcode o : values()) {
            if (BY_CODE[o.code] != null) {
                throw new ExceptionInInitializerError("two opcodes with byte " + o.code);
            }
            BY_CODE[o.code] = o;
        }
    }

    /** The opcode's byte. */
    public final int code;
    /** The pickle protocol that introduced it. */
    public final int protocol;
    /** The layout of its operand. */
    public final Operand operand;

    Opcode(int code, int protocol, Operand operand) {
        this.code = code;
        this.protocol = protocol;
        this.operand = operand;
    }

    /** The opcode with byte {@code code} (0 to 255), or null if no protocol has one. */
    public static Opcode of(int code) {
        return BY_CODE[code & 0xFF];
    }

    /** The message for a byte that is no opcode, as the unpickler and the scanner both give it. */
    public static String unknown(int code) {
        return "Unsupported operand " + code + " (0x" + Integer.toHexString(code) + "): not a pickle opcode";
    }
}
