package dev.weightsonly.internal.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.weightsonly.internal.globals.AllowedGlobal;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Shared helpers for the pickle machine tests: byte assembly, hosts, and loads. */
public final class Pickles {

    public static final Location WHERE = Location.of("test.pkl");

    private Pickles() {
    }

    /**
     * Concatenates pickle parts: an {@link Opcode} is its byte (the table the unpickler reads), a
     * {@link Character} or {@link Integer} is one byte, a {@link String} its UTF-8 bytes, a {@code byte[]} itself.
     */
    public static byte[] b(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            switch (p) {
                case Opcode o -> out.write(o.code);
                case Character c -> out.write(c);
                case Integer i -> {
                    if (i < 0 || i > 255) {
                        throw new IllegalArgumentException("byte out of range: " + i);
                    }
                    out.write(i);
                }
                case String s -> out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                case byte[] a -> out.writeBytes(a);
                default -> throw new IllegalArgumentException("part " + p);
            }
        }
        return out.toByteArray();
    }

    public static byte[] le32(long v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array();
    }

    public static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    public static byte[] be64(double v) {
        return ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putDouble(v).array();
    }

    public static byte[] repeat(byte[] unit, int times) {
        byte[] out = new byte[unit.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(unit, 0, out, i * unit.length, unit.length);
        }
        return out;
    }

    /** BINUNICODE of {@code s}. */
    public static byte[] str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return b(Opcode.BINUNICODE, le32(u.length), u);
    }

    /** SHORT_BINUNICODE of {@code s}. */
    public static byte[] shortStr(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return b(Opcode.SHORT_BINUNICODE, u.length, u);
    }

    public static byte[] global(String module, String name) {
        return b(Opcode.GLOBAL, module, '\n', name, '\n');
    }

    public static TorchUnpicklerHost torchHost() {
        return torchHost(Set.of(), LoadLimits.defaults());
    }

    public static TorchUnpicklerHost torchHost(Set<String> allowed, LoadLimits limits) {
        return new TorchUnpicklerHost((key, site) -> {
            throw site.malformed("no storage record '" + key + "' in this test");
        }, false, allowed, limits);
    }

    public static Unpickler.Result run(byte[] pickle, UnpicklerHost host, LoadLimits limits) throws CheckpointException {
        return Unpickler.load(MemorySegment.ofArray(pickle), 0, pickle.length, WHERE, host, limits);
    }

    public static Object load(byte[] pickle) throws CheckpointException {
        return run(pickle, torchHost(), LoadLimits.defaults()).value();
    }

    public static Object load(byte[] pickle, UnpicklerHost host) throws CheckpointException {
        return run(pickle, host, LoadLimits.defaults()).value();
    }

    public static <T extends CheckpointException> T refuse(Class<T> type, String fragment, byte[] pickle) {
        return refuse(type, fragment, pickle, torchHost(), LoadLimits.defaults());
    }

    public static <T extends CheckpointException> T refuse(Class<T> type, String fragment, byte[] pickle, LoadLimits limits) {
        return refuse(type, fragment, pickle, torchHost(Set.of(), limits), limits);
    }

    /** Loads and asserts that exactly {@code type} is thrown, with {@code fragment} in its message. */
    public static <T extends CheckpointException> T refuse(Class<T> type, String fragment, byte[] pickle, UnpicklerHost host,
            LoadLimits limits) {
        Throwable thrown;
        try {
            Unpickler.Result r = run(pickle, host, limits);
            return fail("expected " + type.getSimpleName() + " (" + fragment + ") but the pickle loaded to "
                    + r.value());
        } catch (Throwable t) {
            thrown = t;
        }
        Throwable t = thrown;
        assertEquals(type, t.getClass(), () -> "wrong exception type:\n" + trace(t));
        assertTrue(t.getMessage().contains(fragment), () -> "message lacks '" + fragment + "': " + t.getMessage());
        assertTrue(t.getMessage().startsWith("test.pkl: "), () -> "message names the source: " + t.getMessage());
        return type.cast(t);
    }

    public static String trace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /** A host that records every question and answers globals with the allowlist's builtins or inert handles. */
    public static final class RecordingHost implements UnpicklerHost {
        final List<String> globals = new ArrayList<>();
        final List<Object> persistentIds = new ArrayList<>();
        final List<Object[]> builds = new ArrayList<>();

        private static final Map<String, PyBuiltin> BUILTINS = Map.of(
                "collections.OrderedDict", PyBuiltin.ORDERED_DICT,
                "collections.Counter", PyBuiltin.COUNTER,
                "builtins.set", PyBuiltin.SET,
                "builtins.bytearray", PyBuiltin.BYTEARRAY,
                "builtins.complex", PyBuiltin.COMPLEX,
                "_codecs.encode", PyBuiltin.CODECS_ENCODE);

        @Override
        public Object resolveGlobal(String module, String name, CallSite site) {
            String full = module + "." + name;
            globals.add(full);
            PyBuiltin builtin = BUILTINS.get(full);
            return builtin != null ? builtin : new AllowedGlobal(full);
        }

        @Override
        public Object persistentLoad(Object pid, CallSite site) {
            persistentIds.add(pid);
            return new Loaded(pid);
        }

        @Override
        public void build(Object target, Object state, CallSite site) throws CheckpointException {
            builds.add(new Object[] {target, state});
        }
    }

    /** What {@link RecordingHost} returns for a persistent id. */
    public record Loaded(Object pid) {
    }
}
