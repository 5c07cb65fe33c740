package dev.weightsonly.testing;

import dev.weightsonly.internal.pickle.Opcode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Assembles pickles opcode by opcode ({@link Opcode}, the table the unpickler reads), for tests that need exact
 * bytes (hostile ones included).
 */
public final class PickleBuilder {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public static PickleBuilder protocol(int p) {
        PickleBuilder b = new PickleBuilder();
        b.op(Opcode.PROTO).raw(p);
        return b;
    }

    public static PickleBuilder bare() {
        return new PickleBuilder();
    }

    public PickleBuilder op(int opcode) {
        out.write(opcode);
        return this;
    }

    public PickleBuilder op(Opcode opcode) {
        out.write(opcode.code);
        return this;
    }

    public PickleBuilder raw(int b) {
        out.write(b);
        return this;
    }

    public PickleBuilder raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    public PickleBuilder le32(long v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    public PickleBuilder le64(long v) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    public PickleBuilder line(String text) {
        return raw((text + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public PickleBuilder global(String module, String name) {
        return op(Opcode.GLOBAL).line(module).line(name);
    }

    public PickleBuilder mark() {
        return op(Opcode.MARK);
    }

    public PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op(Opcode.BINUNICODE).le32(b.length).raw(b);
    }

    public PickleBuilder integer(long v) {
        if (v >= 0 && v < 256) {
            return op(Opcode.BININT1).raw((int) v);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            return op(Opcode.BININT).le32(v);
        }
        byte[] le = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
        return op(Opcode.LONG1).raw(8).raw(le);
    }

    public PickleBuilder tupleOfInts(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return op(Opcode.TUPLE);
    }

    public PickleBuilder bool(boolean b) {
        return op(b ? Opcode.NEWTRUE : Opcode.NEWFALSE);
    }

    public PickleBuilder emptyDict() {
        return op(Opcode.EMPTY_DICT);
    }

    public PickleBuilder emptyList() {
        return op(Opcode.EMPTY_LIST);
    }

    public PickleBuilder emptyTuple() {
        return op(Opcode.EMPTY_TUPLE);
    }

    public PickleBuilder none() {
        return op(Opcode.NONE);
    }

    public PickleBuilder put(int i) {
        return op(Opcode.BINPUT).raw(i);
    }

    public PickleBuilder get(int i) {
        return op(Opcode.BINGET).raw(i);
    }

    public PickleBuilder reduce() {
        return op(Opcode.REDUCE);
    }

    public PickleBuilder orderedDict() {
        return global("collections", "OrderedDict").emptyTuple().reduce();
    }

    /** The persistent id torch writes: ('storage', torch.&lt;type&gt;, key, location, numel) + BINPERSID. */
    public PickleBuilder storage(String storageClass, String key, String location, long numel) {
        mark().str("storage");
        int dot = storageClass.lastIndexOf('.');
        global(storageClass.substring(0, dot), storageClass.substring(dot + 1));
        str(key).str(location).integer(numel);
        return op(Opcode.TUPLE).op(Opcode.BINPERSID);
    }

    /** A whole _rebuild_tensor_v2 call for a tensor over one storage. */
    public PickleBuilder tensorV2(String storageClass, String key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        storage(storageClass, key, "cpu", numel);
        integer(offset);
        tupleOfInts(shape);
        tupleOfInts(stride);
        bool(false);
        orderedDict();
        op(Opcode.TUPLE);
        return reduce();
    }

    public PickleBuilder stop() {
        return op(Opcode.STOP);
    }

    public byte[] bytes() {
        return out.toByteArray();
    }
}
