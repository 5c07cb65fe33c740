package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.globals.PythonNames;
import dev.weightsonly.internal.paged.ObjectPages;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;

/**
 * The restricted pickle machine. It reads every opcode of pickle protocols 0 to 5 that has a data-only
 * meaning, builds Python values from them, and asks its {@link UnpicklerHost} about everything else:
 * which globals exist, what persistent ids stand for, what BUILD may touch. It never imports, resolves or
 * runs anything.
 *
 * <p>The stack is explicit (no Java recursion follows the input's nesting), MARK is a saved stack base
 * as in CPython's metastack, and every count the input controls is bounded by {@link LoadLimits} before
 * anything is allocated for it. Reading stops right after STOP, so a stream can hold several pickles.
 *
 * <p>Opcode methods follow CPython's {@code pickle.py} order, so the machine can be audited against it.
 */
public final class Unpickler {

    private static final PythonAccess.Ops PY = PythonAccess.ops();

    /**
     * The value a pickle built and the offset just past its STOP.
     *
     * @param value    the value
     * @param end      the offset just past STOP
     * @param leftOver null when the pickle kept the strict rules (STOP found exactly one value and no open MARK, no
     *                 PROTO above 5); otherwise (only from {@link #loadTopOfStack}) the first rule it broke, and
     *                 {@code value} is the top of the innermost stack, the value torch's unpickler returns
     */
    public record Result(Object value, long end, String leftOver) {

        /**
         * The result of a pickle that ended with exactly one value.
         *
         * @param value the value
         * @param end   the offset just past STOP
         */
        public Result(Object value, long end) {
            this(value, end, null);
        }
    }

    // Longest text persistent id (PERSID); real ones are under 100 bytes. GLOBAL and INST names are bounded
    // by LoadLimits.maxNameBytes.
    private static final int MAX_NAME_BYTES = 4096;
    // Memo indices below this are held in an array however they are filled; past it the array grows only
    // while at least half of it is filled, so that its size stays within twice the entries the pickle wrote.
    private static final int DENSE_MEMO = 1 << 18;
    private static final int MAX_DENSE_MEMO = 1 << 30;
    // Pickles up to this size keep every memoized value until the end of the load (a few MiB of values at most):
    // the MemoReads pass over the opcodes costs more than what it saves the garbage collector there.
    private static final long MEMO_PASS_BYTES = 1 << 20;

    private final long start;
    // The pickle's bytes were cut at maxPickleBytes (loadPrefix): running out of them exceeds that limit.
    private final boolean cutAtLimit;
    private final Location where;
    private final UnpicklerHost host;
    private final LoadLimits limits;
    // the call sites' one budget (a method reference made per call site would be an allocation per call)
    private final CallSite.Budget budget = this::charge;

    private final OperandReader in;
    private long opStart;
    // STOP returns the top of the innermost stack, whatever else is left, and a PROTO above 5 is read on
    // (loadTopOfStack); the first such departure from the strict rules is kept for the Result
    private final boolean topOfStack;
    private String strictness;

    private Object[] stack = new Object[32];
    private int size;
    private int base;
    private int[] marks = new int[16];
    private int markDepth;

    // The values of the slots the pickle reads back (MemoReads); the others hold WRITTEN, so that the count of
    // slots (MEMOIZE's index, maxMemoEntries) stays exact while the values they held can be collected.
    private final MemoReads memoReads;
    private static final Object WRITTEN = new Object();
    // In pages, not one array: a memo of millions of slots would be an array G1 allocates as humongous (paged).
    private final ObjectPages<Object> memo;
    private HashMap<Long, Object> sparseMemo;
    private int memoEntries;
    private long objects;
    // Hashable tuples that nest tuples or frozensets, and frozensets: one instance per value, so that
    // comparing two of them never walks shared structure twice (t = (t0, t0) nested 60 deep would take
    // 2^60 steps to compare with an equal copy).
    private final HashMap<Object, Object> canonical = new HashMap<>();

    private Unpickler(MemorySegment data, long start, long end, boolean cutAtLimit, boolean topOfStack,
            Location where, UnpicklerHost host, LoadLimits limits, long memoPassBytes, int copyPageShift) {
        this.start = start;
        this.cutAtLimit = cutAtLimit;
        this.topOfStack = topOfStack;
        this.where = where;
        this.host = host;
        this.limits = limits;
        // copyPageShift 0: read in place; else from a heap copy in pages of 2^copyPageShift bytes.
        this.in = copyPageShift > 0 ? OperandReader.copying(data, start, end, copyPageShift)
                : new OperandReader(data, start, end);
        // Keeping every memoized value of a small pickle costs less than the pass that finds the few read back.
        this.memoReads = end - start > memoPassBytes ? MemoReads.of(in.atStart()) : MemoReads.ALL;
        // Made for the slots the pass counted (torch numbers them 0, 1, 2, ...; a torch pickle spends about 10
        // bytes per slot) rather than doubled a dozen times, within maxMemoEntries and the largest dense memo, and
        // never bigger than the pickle (4 bytes a slot, one slot per 4 bytes of pickle): a pickle of writes alone,
        // refused before it fills them, makes no more memory than its own. It still doubles past that, as it does
        // from 64 when the pass did not run.
        long slots = Math.min(memoReads.slots(), (end - start) / 4);
        this.memo = new ObjectPages<>((int) Math.max(64, Math.min(slots, Math.min(limits.maxMemoEntries() + 1L,
                MAX_DENSE_MEMO))));
    }

    /**
     * Runs the pickle that starts at {@code start} and ends at or before {@code end}.
     *
     * @param where the source and record, for messages (offsets are added per opcode)
     */
    public static Result load(MemorySegment data, long start, long end, Location where, UnpicklerHost host,
            LoadLimits limits) throws CheckpointException {
        return load(data, start, end, where, host, limits, MEMO_PASS_BYTES);
    }

    /** {@link #load}, making the {@link MemoReads} pass for pickles longer than {@code memoPassBytes} (for tests). */
    static Result load(MemorySegment data, long start, long end, Location where, UnpicklerHost host,
            LoadLimits limits, long memoPassBytes) throws CheckpointException {
        return load(data, start, end, where, host, limits, memoPassBytes, OperandReader.PAGE_SHIFT);
    }

    /** {@link #load(MemorySegment, long, long, Location, UnpicklerHost, LoadLimits, long)}, a copy in pages of
     * {@code 2^pageShift} bytes (tests make them tiny, so that nearly every operand straddles two). */
    static Result load(MemorySegment data, long start, long end, Location where, UnpicklerHost host,
            LoadLimits limits, long memoPassBytes, int pageShift) throws CheckpointException {
        checkRange(data, start, end);
        if (end - start > limits.maxPickleBytes()) {
            throw where.limit("maxPickleBytes", limits.maxPickleBytes(), "pickle of " + (end - start) + " bytes");
        }
        // A pickle of a mapping (or other native memory) is read from a heap copy, unless it is very large: the
        // memo pass and the unpickler read every byte of it, one or a few at a time, and reads of a heap array
        // cost a fraction of reads of a mapping (no liveness check of its arena). The copy is also one snapshot:
        // both passes read the same bytes even if the file changes meanwhile. So is a read-only heap segment
        // (a stream's bytes), whose array no reader may see (heapBase is empty).
        boolean copy = (data.isNative() || data.heapBase().isEmpty()) && end - start <= HEAP_PICKLE;
        try (PythonAccess.HashScope hashes = PY.hashScope()) { // long strings used as keys again are hashed once
            return new Unpickler(data, start, end, false, false, where, host, limits, memoPassBytes,
                    copy ? pageShift : 0).run();
        }
    }

    // Pickles up to this size of native memory are read from a heap copy (see load); larger ones where they are.
    private static final long HEAP_PICKLE = 64L << 20;

    /**
     * Runs the pickle that starts at {@code start} and ends at its STOP anywhere before {@code end}, where other
     * bytes follow it (the legacy stream's pickles, then its storages), so the bytes left are no bound on the
     * pickle: at most {@link LoadLimits#maxPickleBytes()} of them are read, and a pickle still running at that
     * bound exceeds the limit rather than being truncated.
     *
     * @param data   the bytes the pickle is in
     * @param start  where the pickle starts
     * @param end    where the bytes that may hold it end
     * @param where  the source and record, for messages (offsets are added per opcode)
     * @param host   what the pickle's globals, persistent ids and BUILDs are asked of
     * @param limits the bounds of the load
     * @return the value the pickle built and the offset just past its STOP
     * @throws LimitExceededException if the pickle runs past {@code maxPickleBytes}, or exceeds another limit
     * @throws CheckpointException if the pickle is refused as {@link #load} refuses one
     * @throws IllegalArgumentException if {@code [start, end)} is not a range of {@code data}
     */
    public static Result loadPrefix(MemorySegment data, long start, long end, Location where, UnpicklerHost host,
            LoadLimits limits) throws CheckpointException {
        return prefix(data, start, end, false, where, host, limits);
    }

    /** {@link #loadPrefix}, or with {@code topOfStack} {@link #loadTopOfStack}: at most maxPickleBytes read. */
    private static Result prefix(MemorySegment data, long start, long end, boolean topOfStack, Location where,
            UnpicklerHost host, LoadLimits limits) throws CheckpointException {
        checkRange(data, start, end);
        long max = limits.maxPickleBytes();
        return end - start <= max ? run(data, start, end, false, topOfStack, MEMO_PASS_BYTES, where, host, limits)
                : run(data, start, start + max, true, topOfStack, MEMO_PASS_BYTES, where, host, limits);
    }

    private static void checkRange(MemorySegment data, long start, long end) {
        if (start < 0 || end > data.byteSize() || start > end) {
            throw new IllegalArgumentException("pickle range [" + start + ", " + end + ") outside the data");
        }
    }

    private static Result run(MemorySegment data, long start, long end, boolean cutAtLimit, boolean topOfStack,
            long memoPassBytes, Location where, UnpicklerHost host, LoadLimits limits) throws CheckpointException {
        try (PythonAccess.HashScope hashes = PY.hashScope()) { // long strings used as keys again are hashed once
            return new Unpickler(data, start, end, cutAtLimit, topOfStack, where, host, limits, memoPassBytes, 0)
                    .run();
        }
    }

    /**
     * Runs the pickle as {@link #loadPrefix} does (it ends at its STOP anywhere before {@code end}, and at most
     * {@link LoadLimits#maxPickleBytes()} bytes are read), except that a STOP leaving more than one value, or inside
     * open MARKs, returns the top value of the innermost stack (what Python's unpickler returns), and a PROTO above 5
     * (which torch's weights-only unpickler accepts) is read on, with {@link Result#leftOver()} saying which rule was
     * broken: for a caller that must first know what torch would read before it refuses the file under that rule
     * (the legacy stream's magic number).
     *
     * @param data   the bytes
     * @param start  where the pickle starts
     * @param end    the end of the bytes the pickle may use
     * @param where  the source and record, for messages
     * @param host   what globals, persistent ids and BUILD mean
     * @param limits the limits of this load
     * @return the value and the offset just past STOP
     * @throws LimitExceededException if the pickle runs past {@code maxPickleBytes}, or exceeds another limit
     * @throws CheckpointException as {@link #load}, but not for what STOP leaves
     * @throws IllegalArgumentException if {@code [start, end)} is not a range of {@code data}
     */
    public static Result loadTopOfStack(MemorySegment data, long start, long end, Location where, UnpicklerHost host,
            LoadLimits limits) throws CheckpointException {
        return prefix(data, start, end, true, where, host, limits);
    }

    private Result run() throws CheckpointException {
        try {
            return dispatch();
        } catch (OperandReader.Malformed e) {
            throw failed(e);
        }
    }

    /** One switch over the shared opcode table; operands are read by {@link OperandReader} as the table says. */
    private Result dispatch() throws CheckpointException, OperandReader.Malformed {
        while (true) {
            opStart = in.position();
            int code = in.nextByte();
            if (code < 0) {
                throw truncated("pickle data was truncated: it ended before STOP");
            }
            Opcode op = Opcode.of(code);
            if (op == null) {
                throw malformed(Opcode.unknown(code));
            }
            switch (op) {
                case MARK -> mark();
                case STOP -> {
                    return stop();
                }
                case POP -> popOne();
                case POP_MARK -> popMark();
                case DUP -> push(peek());
                case FLOAT -> pushCounted(floatText());
                case INT -> pushCounted(intText());
                case BININT, BININT1, BININT2 -> push(in.integer(op));
                case LONG -> pushCounted(longText());
                case NONE -> push(PyNone.NONE);
                case PERSID -> persid();
                case BINPERSID -> binpersid();
                case REDUCE -> reduce();
                case STRING -> pushCounted(stringText());
                case BINSTRING, SHORT_BINSTRING -> pushCounted(pythonTwoString(in.length(op)));
                case UNICODE -> pushCounted(unicodeText());
                case BINUNICODE, SHORT_BINUNICODE, BINUNICODE8 -> pushCounted(unicode(in.length(op)));
                case APPEND -> append();
                case BUILD -> build();
                case GLOBAL -> global();
                case DICT -> pushCounted(dictFrom(popMark()));
                case EMPTY_DICT -> pushCounted(PY.newDict(PyDict.Kind.DICT));
                case APPENDS -> appends();
                case GET -> push(memoGet(memoIndexText()));
                case BINGET, LONG_BINGET -> push(memoGet(in.integer(op)));
                case INST -> inst();
                case LIST -> pushCounted(listFrom(popMark()));
                case EMPTY_LIST -> pushCounted(PY.newList());
                case OBJ -> obj();
                case PUT -> memoPut(memoIndexText());
                case BINPUT, LONG_BINPUT -> memoPut(in.integer(op));
                case SETITEM -> setitem();
                case TUPLE -> pushCounted(tuple(popMark()));
                case EMPTY_TUPLE -> push(PY.emptyTuple());
                case SETITEMS -> setitems();
                case BINFLOAT -> push(in.float8());
                case PROTO -> proto();
                case NEWOBJ -> newobj();
                case EXT1, EXT2, EXT4 -> throw where.atOffset(offset()).unsafe("Unsupported operand " + code
                        + ": " + op + " names a global through copyreg's extension registry, which a weights-only"
                        + " load never consults");
                case TUPLE1 -> tupleN(1);
                case TUPLE2 -> tupleN(2);
                case TUPLE3 -> tupleN(3);
                case NEWTRUE -> push(Boolean.TRUE);
                case NEWFALSE -> push(Boolean.FALSE);
                case LONG1, LONG4 -> pushCounted(longBinary(in.length(op)));
                case BINBYTES, SHORT_BINBYTES, BINBYTES8 -> pushCounted(bytes(in.length(op), false));
                case BYTEARRAY8 -> pushCounted(bytes(in.length(op), true));
                case EMPTY_SET -> pushCounted(PY.newSet(false));
                case ADDITEMS -> additems();
                case FROZENSET -> pushCounted(frozenset(popMark()));
                case NEWOBJ_EX -> newobjEx();
                case STACK_GLOBAL -> stackGlobal();
                case MEMOIZE -> memoPut(memoEntriesAsIndex());
                case FRAME -> frame();
                case NEXT_BUFFER -> throw where.atOffset(offset()).unsupported("Unsupported operand 151: NEXT_BUFFER"
                        + " refers to an out-of-band buffer, and a file carries none");
                case READONLY_BUFFER -> readonlyBuffer();
            }
        }
    }

    /**
     * A pickle ends with exactly one value and no open MARK. CPython returns the top value and drops the
     * rest, pickletools refuses: deciding once keeps every reader of a file agreeing on what it holds.
     */
    private Result stop() throws CheckpointException {
        String leftOver = null;
        if (markDepth > 0) {
            leftOver = "STOP inside " + markDepth + " open MARK" + (markDepth == 1 ? "" : "s")
                    + ": a pickle ends with exactly one value";
        } else if (size > 1) {
            leftOver = "STOP leaves " + size + " values on the stack: a pickle ends with exactly one value";
        }
        if (leftOver != null && !topOfStack) {
            throw malformed(leftOver);
        }
        Object value = pop();
        return new Result(value, in.position(), strictness != null ? strictness : leftOver);
    }

    // ---- reading operands -------------------------------------------------------------------------

    private long offset() {
        return opStart - start;
    }

    private CheckpointException malformed(String detail) {
        return where.atOffset(offset()).malformed(detail);
    }

    /** The pickle's bytes ran out: malformed, or past {@code maxPickleBytes} where the bytes were cut there. */
    private CheckpointException truncated(String detail) {
        long max = limits.maxPickleBytes();
        return cutAtLimit ? where.limit("maxPickleBytes", max, "pickle of more than " + max + " bytes")
                : malformed(detail);
    }

    /** What an operand the reader could not read makes of the load. */
    private CheckpointException failed(OperandReader.Malformed e) {
        return e instanceof OperandReader.Truncated ? truncated(e.getMessage()) : malformed(e.getMessage());
    }

    private CallSite site() {
        return new CallSite(where, offset(), null, limits, budget);
    }

    /** Reserves {@code n} operand bytes and returns where they start. */
    private long take(long n) throws CheckpointException {
        try {
            return in.take(n);
        } catch (OperandReader.Malformed e) {
            throw failed(e);
        }
    }

    private byte[] readBytes(long n) throws CheckpointException {
        if (n > limits.maxStringBytes()) {
            throw where.atOffset(offset()).limit("maxStringBytes", limits.maxStringBytes(),
                    "string or bytes of " + n + " bytes");
        }
        long at = take(n); // checks the bytes exist before anything is allocated
        return in.bytes(at, n);
    }

    /**
     * A line without its newline; the newline must be there within {@code max} bytes. A longer line
     * exceeds {@code limitName} (reported with its value {@code limit}), or, for a fixed cap
     * ({@code limitName} null), is malformed.
     */
    private byte[] readLine(long max, String limitName, long limit) throws CheckpointException {
        long n = in.lineLength(max);
        if (n >= 0) {
            return in.line(n);
        }
        if (n == OperandReader.NO_NEWLINE) {
            throw truncated("pickle data was truncated: a text operand has no ending newline");
        }
        if (limitName == null) {
            throw malformed("text operand longer than " + max + " bytes");
        }
        throw where.atOffset(offset()).limit(limitName, limit, "text operand longer than " + max + " bytes");
    }

    private byte[] readLine(long max) throws CheckpointException {
        return readLine(max, null, max);
    }

    private String asciiLine(long max) throws CheckpointException {
        return asciiLine(readLine(max));
    }

    private String asciiLine(byte[] line) throws CheckpointException {
        for (byte b : line) {
            if (b < 0) {
                throw malformed("non-ASCII byte in a text operand");
            }
        }
        return new String(line, StandardCharsets.US_ASCII);
    }

    // ---- the stack ----------------------------------------------------------------------------------

    private void push(Object value) throws CheckpointException {
        if (size >= limits.maxStackDepth()) {
            throw where.atOffset(offset()).limit("maxStackDepth", limits.maxStackDepth(),
                    "more than " + limits.maxStackDepth() + " values on the unpickler stack");
        }
        if (size == stack.length) {
            stack = Arrays.copyOf(stack, (int) Math.min((long) size * 2, limits.maxStackDepth()));
        }
        stack[size++] = value;
    }

    /** Pushes a newly created value, counting it against {@code maxObjects}. */
    private void pushCounted(Object value) throws CheckpointException {
        counted();
        push(value);
    }

    private void counted() throws CheckpointException {
        if (++objects > limits.maxObjects()) {
            throw where.atOffset(offset()).limit("maxObjects", limits.maxObjects(),
                    "more than " + limits.maxObjects() + " values created");
        }
    }

    /**
     * Counts what a call or BUILD may read or copy of its arguments against {@code maxObjects}: the items of
     * each container argument and a sixteenth of each str or bytes argument. A few bytes of pickle can pass
     * the same large value to a call again and again (a 100,000-element shape to a million tensor rebuilds,
     * a big list to {@code set()}), so the work of calls is bounded with the values they create.
     */
    private void chargeArguments(PyTuple args) throws CheckpointException {
        long weight = 0;
        for (int i = 0; i < args.size(); i++) {
            weight += weight(args.get(i));
        }
        charge(weight);
    }

    private static long weight(Object value) {
        // instanceof tests on final classes, not a pattern switch: this runs for every argument of every call (six
        // per tensor rebuild), where the switch's type dispatch showed in profiles
        if (value instanceof PyTuple t) {
            return t.size();
        }
        if (value instanceof String s) {
            return s.length() / 16;
        }
        if (value instanceof PyDict d) {
            return (long) d.size() + d.attributes().size();
        }
        if (value instanceof PyList l) {
            return l.size();
        }
        if (value instanceof PySet s) {
            return s.size();
        }
        return value instanceof PyBytes b ? b.length() / 16 : 0;
    }

    private void charge(long weight) throws CheckpointException {
        objects += weight;
        if (objects > limits.maxObjects()) {
            throw where.atOffset(offset()).limit("maxObjects", limits.maxObjects(), "more than "
                    + limits.maxObjects() + " values created, or read and copied by calls");
        }
    }

    private Object pop() throws CheckpointException {
        if (size <= base) {
            throw malformed("unpickling stack underflow");
        }
        Object v = stack[--size];
        stack[size] = null;
        return v;
    }

    private Object peek() throws CheckpointException {
        if (size <= base) {
            throw malformed("unpickling stack underflow");
        }
        return stack[size - 1];
    }

    private void popOne() throws CheckpointException {
        // CPython: POP on an empty stack pops the mark instead.
        if (size > base) {
            pop();
        } else {
            popMark();
        }
    }

    private void mark() throws CheckpointException {
        if (markDepth >= limits.maxMarkDepth()) {
            throw where.atOffset(offset()).limit("maxMarkDepth", limits.maxMarkDepth(),
                    "more than " + limits.maxMarkDepth() + " open MARKs");
        }
        if (markDepth == marks.length) {
            marks = Arrays.copyOf(marks, (int) Math.min((long) markDepth * 2, limits.maxMarkDepth()));
        }
        marks[markDepth++] = base;
        base = size;
    }

    private Object[] popMark() throws CheckpointException {
        if (markDepth == 0) {
            throw malformed("could not find MARK");
        }
        Object[] items = Arrays.copyOfRange(stack, base, size);
        // The slots are left as they are: the next pushes overwrite them, and until then they hold only what the
        // returned array holds (clearing two tuples' worth of slots per tensor was a twentieth of a load's time). What
        // they keep alive is bounded by the deepest the stack has been, all of which the load held at once anyway.
        size = base;
        base = marks[--markDepth];
        return items;
    }

    /**
     * Ends the innermost MARK as {@link #popMark} does but leaves its items in {@code stack[from, to)} (from the
     * returned {@code from} to the size before the call), for an opcode that only reads them before anything is
     * pushed again; the caller clears them. Saves a copy per SETITEMS batch (a dict entry per tensor of an
     * optimizer state).
     */
    private int popMarkInPlace() throws CheckpointException {
        if (markDepth == 0) {
            throw malformed("could not find MARK");
        }
        int from = base;
        size = base;
        base = marks[--markDepth];
        return from;
    }

    // ---- the memo -----------------------------------------------------------------------------------

    private long memoIndexText() throws CheckpointException {
        String line = asciiLine(32);
        BigInteger idx = TextOperands.integer(line);
        if (idx == null || idx.signum() < 0 || idx.bitLength() > 32) {
            throw malformed("invalid memo index " + PyValues.shortRepr(line));
        }
        return idx.longValue();
    }

    private long memoEntriesAsIndex() {
        return memoEntries;
    }

    private void memoPut(long index) throws CheckpointException {
        Object top = peek();
        Object value = memoReads.isRead(index) ? top : WRITTEN;
        boolean fresh;
        // The array grows by doubling only, so an index from the input never sizes it: slots far beyond what
        // has been filled go to the map (and move nowhere later; lookups try the array, then the map). torch
        // numbers memo slots 0, 1, 2, ... so a real pickle of millions of values stays in the array.
        if (index < memo.length() || index < 2L * memo.length() && denseMemoMayGrow()) {
            int i = (int) index;
            if (i >= memo.length()) {
                memo.grow(memo.length() * 2);
            }
            Object sparse = sparseMemo == null ? null : sparseMemo.remove(index);
            fresh = memo.get(i) == null && sparse == null;
            memo.set(i, value);
        } else {
            if (sparseMemo == null) {
                sparseMemo = new HashMap<>();
            }
            fresh = sparseMemo.put(index, value) == null;
        }
        if (fresh && ++memoEntries > limits.maxMemoEntries()) {
            throw where.atOffset(offset()).limit("maxMemoEntries", limits.maxMemoEntries(),
                    "more than " + limits.maxMemoEntries() + " memo entries");
        }
    }

    private boolean denseMemoMayGrow() {
        return memo.length() < DENSE_MEMO || memo.length() < MAX_DENSE_MEMO && memoEntries >= memo.length() / 2;
    }

    private Object memoGet(long index) throws CheckpointException {
        Object v = index < memo.length() ? memo.get((int) index) : null;
        if (v == null && sparseMemo != null) {
            v = sparseMemo.get(index);
        }
        if (v == null) {
            throw malformed("memo slot " + index + " was read before it was written");
        }
        if (v == WRITTEN) {
            // MemoReads lists every slot a GET reads; reaching this would be a bug in it, never the file's fault.
            throw new IllegalStateException("memo slot " + index + " was not kept: MemoReads missed a GET at "
                    + offset());
        }
        return v;
    }

    // ---- scalars ------------------------------------------------------------------------------------

    private void proto() throws CheckpointException, OperandReader.Malformed {
        long p = in.integer(Opcode.PROTO);
        if (p > 5) {
            String why = "unsupported pickle protocol: " + p;
            if (!topOfStack) {
                throw malformed(why);
            }
            // Python's pickle refuses it; torch's weights-only unpickler only warns: the caller decides
            if (strictness == null) {
                strictness = why;
            }
        }
    }

    private void frame() throws CheckpointException, OperandReader.Malformed {
        // Frames only batch reads; the data is read in place, so the frame need only fit the input.
        long n = in.integer(Opcode.FRAME);
        if (n > in.remaining()) {
            throw malformed("FRAME of " + n + " bytes, but only " + in.remaining() + " remain");
        }
    }

    /** The operand of INT or LONG: digits bounded by maxIntegerBytes, plus room for a sign and an L. */
    private String integerLine() throws CheckpointException {
        return asciiLine(readLine(limits.maxIntegerBytes() + 2L, "maxIntegerBytes", limits.maxIntegerBytes()));
    }

    private Object intText() throws CheckpointException {
        String line = integerLine();
        if (line.equals("00")) {
            return Boolean.FALSE;
        }
        if (line.equals("01")) {
            return Boolean.TRUE;
        }
        BigInteger v = TextOperands.integer(line);
        if (v == null) {
            throw malformed("invalid INT operand " + PyValues.shortRepr(line));
        }
        return PyValues.normalizeInt(v);
    }

    private Object longText() throws CheckpointException {
        String line = integerLine();
        String digits = line.endsWith("L") ? line.substring(0, line.length() - 1) : line;
        BigInteger v = TextOperands.integer(digits);
        if (v == null) {
            throw malformed("invalid LONG operand " + PyValues.shortRepr(line));
        }
        return PyValues.normalizeInt(v);
    }

    private Object floatText() throws CheckpointException {
        String line = asciiLine(512);
        Double v = TextOperands.floating(line);
        if (v == null) {
            throw malformed("invalid FLOAT operand " + PyValues.shortRepr(line));
        }
        return v;
    }

    private Object longBinary(long n) throws CheckpointException {
        if (n > limits.maxIntegerBytes()) {
            throw where.atOffset(offset()).limit("maxIntegerBytes", limits.maxIntegerBytes(),
                    "integer of " + n + " bytes");
        }
        long at = take(n);
        if (n == 0) {
            return 0L;
        }
        if (n <= 8) {
            long v = 0;
            for (int i = (int) n - 1; i >= 0; i--) {
                v = (v << 8) | in.byteAt(at + i);
            }
            int shift = 64 - 8 * (int) n;
            return (v << shift) >> shift; // sign-extend n bytes of two's complement
        }
        byte[] bigEndian = new byte[(int) n];
        for (int i = 0; i < n; i++) {
            bigEndian[i] = (byte) in.byteAt(at + n - 1 - i);
        }
        return PyValues.normalizeInt(new BigInteger(bigEndian));
    }

    // ---- strings and bytes --------------------------------------------------------------------------

    private String unicode(long n) throws CheckpointException {
        if (n <= limits.maxStringBytes()) {
            // In place, when the pickle is heap bytes and the string ASCII (every key torch writes): one copy.
            long at = take(n);
            String ascii = in.asciiInPlace(at, (int) n);
            if (ascii != null) {
                return ascii;
            }
            in.rewind(at);
        }
        String s = Utf8.surrogatePass(readBytes(n));
        if (s == null) {
            throw malformed("invalid UTF-8 in a string");
        }
        return s;
    }

    /** A Python 2 {@code str}: torch decodes it as strict UTF-8 (its {@code encoding} argument). */
    private String pythonTwoString(long n) throws CheckpointException {
        return utf8(readBytes(n));
    }

    private String utf8(byte[] raw) throws CheckpointException {
        String s = Utf8.strict(raw);
        if (s == null) {
            throw malformed("invalid UTF-8 in a Python 2 string");
        }
        return s;
    }

    private String stringText() throws CheckpointException {
        byte[] line = readLine(limits.maxStringBytes(), "maxStringBytes", limits.maxStringBytes());
        if (line.length < 2 || line[0] != line[line.length - 1] || (line[0] != '\'' && line[0] != '"')) {
            throw malformed("the STRING opcode argument must be quoted");
        }
        byte[] decoded = TextOperands.escapeDecode(Arrays.copyOfRange(line, 1, line.length - 1));
        if (decoded == null) {
            throw malformed("invalid escape in a STRING operand");
        }
        return utf8(decoded);
    }

    private String unicodeText() throws CheckpointException {
        String s = TextOperands.rawUnicodeEscape(
                readLine(limits.maxStringBytes(), "maxStringBytes", limits.maxStringBytes()));
        if (s == null) {
            throw malformed("invalid \\u escape in a UNICODE operand");
        }
        return s;
    }

    private PyBytes bytes(long n, boolean byteArray) throws CheckpointException {
        return PY.wrapBytes(readBytes(n), byteArray);
    }

    private void readonlyBuffer() throws CheckpointException {
        if (!(peek() instanceof PyBytes b)) {
            throw malformed("READONLY_BUFFER on " + PyValues.typeName(peek()));
        }
        stack[size - 1] = PY.asBytes(b);
    }

    // ---- containers ---------------------------------------------------------------------------------

    private PyTuple tuple(Object[] items) throws CheckpointException {
        PyTuple t = PY.tupleOwning(items);
        if (t.depth() > limits.maxNestingDepth()) {
            throw where.atOffset(offset()).limit("maxNestingDepth", limits.maxNestingDepth(),
                    "tuples nested " + t.depth() + " deep");
        }
        return t.depth() > 1 && t.isHashable() ? (PyTuple) canonical(t) : t;
    }

    /** The one instance of a hashable value equal to {@code value} (whose own parts are canonical). */
    private Object canonical(Object value) {
        Object known = canonical.putIfAbsent(value, value);
        return known != null ? known : value;
    }

    private void tupleN(int n) throws CheckpointException {
        if (size - base < n) {
            throw malformed("unpickling stack underflow");
        }
        Object[] items = Arrays.copyOfRange(stack, size - n, size);
        size -= n; // slots left for the next pushes, as popMark leaves them
        pushCounted(tuple(items));
    }

    private void checkLength(long length) throws CheckpointException {
        if (length > limits.maxContainerLength()) {
            throw where.atOffset(offset()).limit("maxContainerLength", limits.maxContainerLength(),
                    "a container of more than " + limits.maxContainerLength() + " items");
        }
    }

    private PyList listFrom(Object[] items) throws CheckpointException {
        checkLength(items.length);
        PyList list = PY.newList(items.length);
        for (Object item : items) {
            PY.append(list, item);
        }
        return list;
    }

    private PyDict dictFrom(Object[] items) throws CheckpointException {
        PyDict dict = PY.newDict(PyDict.Kind.DICT);
        putPairs(dict, items, 0, items.length, "DICT");
        return dict;
    }

    /** {@code dict[k] = v} for the pairs in {@code items[from, to)}. */
    private void putPairs(PyDict dict, Object[] items, int from, int to, String opcode) throws CheckpointException {
        int n = to - from;
        if ((n & 1) != 0) {
            throw malformed(opcode + " needs key-value pairs, got an odd number of items (" + n + ")");
        }
        checkLength((long) dict.size() + n / 2);
        for (int i = from; i < to; i += 2) {
            requireKey(items[i]);
            PY.putItem(dict, items[i], items[i + 1]);
        }
    }

    private void requireKey(Object key) throws CheckpointException {
        if (!PyValues.isHashable(key)) {
            throw malformed("unhashable type: '" + PyValues.typeName(key) + "' used as a dict key or set item");
        }
    }

    private PySet frozenset(Object[] items) throws CheckpointException {
        checkLength(items.length);
        PySet set = PY.newSet(false);
        for (Object item : items) {
            requireKey(item);
            PY.addItem(set, item);
        }
        PY.freeze(set);
        if (PY.depth(set) > limits.maxNestingDepth()) {
            // hashing and comparing descend through frozensets as through tuples
            throw where.atOffset(offset()).limit("maxNestingDepth", limits.maxNestingDepth(),
                    "tuples and frozensets nested " + PY.depth(set) + " deep");
        }
        return (PySet) canonical(set);
    }

    private void append() throws CheckpointException {
        Object item = pop();
        appendAll(new Object[] {item}, "APPEND");
    }

    private void appends() throws CheckpointException {
        Object[] items = popMark();
        appendAll(items, "APPENDS");
    }

    private void appendAll(Object[] items, String opcode) throws CheckpointException {
        // Only a list this machine made may grow: APPEND onto anything else is how pickles mutate objects.
        if (!(peek() instanceof PyList list)) {
            throw where.atOffset(offset()).unsafe("Can only append to lists, but got " + PyValues.typeName(peek())
                    + " (" + opcode + ")");
        }
        checkLength((long) list.size() + items.length);
        for (Object item : items) {
            PY.append(list, item);
        }
    }

    private void setitem() throws CheckpointException {
        Object value = pop();
        Object key = pop();
        setAll(new Object[] {key, value}, 0, 2, "SETITEM");
    }

    private void setitems() throws CheckpointException {
        int to = size;
        int from = popMarkInPlace();
        if (from == to) {
            // No pair: torch's loop assigns nothing and never looks at the value below the mark (there may be none)
            return;
        }
        try {
            setAll(stack, from, to, "SETITEMS");
        } finally {
            Arrays.fill(stack, from, to, null);
        }
    }

    private void setAll(Object[] items, int from, int to, String opcode) throws CheckpointException {
        // The CVE-2026-24747 rule: item assignment only into dict, OrderedDict or Counter.
        if (!(peek() instanceof PyDict dict)) {
            throw where.atOffset(offset()).unsafe("Can only " + opcode
                    + " for dict, collections.OrderedDict, collections.Counter, but got " + PyValues.typeName(peek()));
        }
        putPairs(dict, items, from, to, opcode);
    }

    private void additems() throws CheckpointException {
        Object[] items = popMark();
        if (!(peek() instanceof PySet set) || set.isFrozen()) {
            throw where.atOffset(offset()).unsafe("Can only ADDITEMS to a set, but got " + PyValues.typeName(peek()));
        }
        checkLength((long) set.size() + items.length);
        for (Object item : items) {
            requireKey(item);
            PY.addItem(set, item);
        }
    }

    // ---- globals, calls, objects --------------------------------------------------------------------

    private Object resolve(String module, String name) throws CheckpointException {
        String[] mapped = PythonNames.map(module, name);
        return host.resolveGlobal(mapped[0], mapped[1], site());
    }

    private String nameLine() throws CheckpointException {
        return utf8(readLine(limits.maxNameBytes(), "maxNameBytes", limits.maxNameBytes()));
    }

    private void global() throws CheckpointException {
        String module = nameLine();
        String name = nameLine();
        push(resolve(module, name));
    }

    private void stackGlobal() throws CheckpointException {
        Object name = pop();
        Object module = pop();
        if (!(module instanceof String m) || !(name instanceof String n)) {
            throw malformed("STACK_GLOBAL requires str module and name, got " + PyValues.typeName(module) + " and "
                    + PyValues.typeName(name));
        }
        push(resolve(m, n));
    }

    /** The dict key being built, when the value under construction sits right above it in this frame. */
    private CallSite siteWithKey(int calleeIndex) {
        int keyIndex = calleeIndex - 1;
        String key = keyIndex >= base && keyIndex >= 0 && stack[keyIndex] instanceof String s ? s : null;
        if (key == null && calleeIndex == base && markDepth > 0 && base >= 2 && base - 2 >= marks[markDepth - 1]
                && stack[base - 1] instanceof PyCallable && stack[base - 2] instanceof String s) {
            // Inside a call's argument tuple ([..., key, callee, MARK, args...]), as a storage's persistent
            // id is: the value being built is the callee's result.
            key = s;
        }
        return new CallSite(where, offset(), key, limits, budget);
    }

    private Object call(Object callee, PyTuple args, CallSite site) throws CheckpointException {
        if (!(callee instanceof PyCallable callable)) {
            throw site.unsafe("Trying to call reduce for unrecognized function " + PyValues.shortRepr(callee));
        }
        chargeArguments(args);
        Object result = callable.call(args, site);
        counted();
        return result;
    }

    private void reduce() throws CheckpointException {
        Object args = pop();
        Object callee = peek();
        if (!(args instanceof PyTuple t)) {
            throw malformed("REDUCE arguments must be a tuple, got " + PyValues.typeName(args));
        }
        stack[size - 1] = call(callee, t, siteWithKey(size - 1));
    }

    private void inst() throws CheckpointException {
        String module = nameLine();
        String name = nameLine();
        Object callee = resolve(module, name);
        PyTuple args = tuple(popMark());
        push(call(callee, args, siteWithKey(size)));
    }

    private void obj() throws CheckpointException {
        Object[] items = popMark();
        if (items.length == 0) {
            throw malformed("OBJ without a class");
        }
        PyTuple args = tuple(Arrays.copyOfRange(items, 1, items.length));
        push(call(items[0], args, siteWithKey(size)));
    }

    private void newobj() throws CheckpointException {
        Object args = pop();
        Object cls = pop();
        instantiate(cls, args, siteWithKey(size));
    }

    private void newobjEx() throws CheckpointException {
        Object kwargs = pop();
        Object args = pop();
        Object cls = pop();
        if (!(kwargs instanceof PyDict kw) || !kw.isEmpty()) {
            throw where.atOffset(offset()).unsupported("NEWOBJ_EX with keyword arguments ("
                    + PyValues.typeName(kwargs) + ")");
        }
        instantiate(cls, args, siteWithKey(size));
    }

    private void instantiate(Object cls, Object args, CallSite site) throws CheckpointException {
        if (!(args instanceof PyTuple t)) {
            throw malformed("NEWOBJ arguments must be a tuple, got " + PyValues.typeName(args));
        }
        if (!(cls instanceof PyClass pyClass)) {
            throw site.unsafe("Can only create new object for nn.Parameter or classes allowlisted via"
                    + " `add_safe_globals` but got " + PyValues.shortRepr(cls));
        }
        chargeArguments(t);
        Object result = pyClass.newObject(t, site);
        counted();
        push(result);
    }

    private void build() throws CheckpointException {
        Object state = pop();
        Object target = peek();
        CallSite site = siteWithKey(size - 1);
        switch (target) {
            // OrderedDict.__dict__.update(state): how state_dict() keeps its _metadata.
            case PyDict dict when dict.kind() == PyDict.Kind.ORDERED_DICT -> PyState.buildOrderedDict(dict, state, site);
            case PyDict dict when dict.kind() == PyDict.Kind.COUNTER -> PyState.buildCounter(dict, state, site);
            // objects of the allowed builtin classes without a __dict__ (a plain dict's class, dict, is not allowed)
            case PySet set when !set.isFrozen() -> PyState.buildWithoutDict(set, state, site);
            case PyBytes bytes when bytes.isByteArray() -> PyState.buildWithoutDict(bytes, state, site);
            case PyComplex c -> PyState.buildWithoutDict(c, state, site);
            // An allowed class: its state is recorded, never applied through code of the class.
            case PyObject object -> PY.setState(object, state);
            default -> host.build(target, state, site);
        }
    }

    private void persid() throws CheckpointException {
        String pid = asciiLine(MAX_NAME_BYTES);
        pushCounted(host.persistentLoad(pid, siteWithKey(size)));
    }

    private void binpersid() throws CheckpointException {
        Object pid = pop();
        pushCounted(host.persistentLoad(pid, siteWithKey(size)));
    }
}
