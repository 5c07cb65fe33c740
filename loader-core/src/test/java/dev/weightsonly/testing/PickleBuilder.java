package dev.weightsonly.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Assembles pickles opcode by opcode, for tests that need exact bytes (hostile ones included). */
public final class PickleBuilder {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public static PickleBuilder protocol(int p) {
        PickleBuilder b = new PickleBuilder();
        b.op(0x80).raw(p);
        return b;
    }

    public static PickleBuilder bare() {
        return new PickleBuilder();
    }

    public PickleBuilder op(int opcode) {
        out.write(opcode);
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
        return op('c').line(module).line(name);
    }

    public PickleBuilder mark() {
        return op('(');
    }

    public PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').le32(b.length).raw(b);
    }

    public PickleBuilder integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').raw((int) v);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            return op('J').le32(v);
        }
        byte[] le = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
        return op(0x8A).raw(8).raw(le);
    }

    public PickleBuilder tupleOfInts(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    public PickleBuilder bool(boolean b) {
        return op(b ? 0x88 : 0x89);
    }

    public PickleBuilder emptyDict() {
        return op('}');
    }

    public PickleBuilder emptyList() {
        return op(']');
    }

    public PickleBuilder emptyTuple() {
        return op(')');
    }

    public PickleBuilder none() {
        return op('N');
    }

    public PickleBuilder put(int i) {
        return op('q').raw(i);
    }

    public PickleBuilder get(int i) {
        return op('h').raw(i);
    }

    public PickleBuilder reduce() {
        return op('R');
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
        return op('t').op('Q');
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
        op('t');
        return reduce();
    }

    public PickleBuilder stop() {
        return op('.');
    }

    public byte[] bytes() {
        return out.toByteArray();
    }
}
