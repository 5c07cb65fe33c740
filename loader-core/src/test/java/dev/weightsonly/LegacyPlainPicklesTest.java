package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The legacy stream's four pickles of plain data (magic number, protocol version, sys_info, storage keys), which
 * torch 2.6 reads with the same restricted unpickler as the object pickle: an allowed global works there, a
 * persistent id does not, the protocol version is compared with Python's {@code !=}, the key list is read by a
 * {@code for} loop, and the magic number is the top of its pickle's stack (refused here, by the one-value rule,
 * when more is left). Each case was given to PyTorch 2.6 (tools/torch26) with the verdict asserted here.
 */
class LegacyPlainPicklesTest {

    // legacy_state_dict.pt: its pickles end at 15, 21, 137, 890 (the object) and 1010 (the key list)
    private static final String FIXTURE = "legacy_state_dict";
    private static final int[] ENDS = {15, 21, 137, 890, 1010};
    private static final byte[] MAGIC = {(byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a,
        (byte) 0xa8, 0x50, 0x19};
    private static final List<String> KEYS = List.of("405534448", "405579008", "405704768", "405734544",
            "405740752", "405884704", "405915936");

    /** The fixture with pickle {@code index} (0 to 4) replaced by {@code PROTO 2, body, STOP}. */
    private static byte[] with(int index, byte[] body) throws IOException {
        byte[] f = Fixtures.bytes(FIXTURE);
        int start = index == 0 ? 0 : ENDS[index - 1];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(f, 0, start);
        out.writeBytes(b(0x80, 2, body, '.'));
        out.write(f, ENDS[index], f.length - ENDS[index]);
        return out.toByteArray();
    }

    private static byte[] b(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            switch (p) {
                case Character c -> out.write(c);
                case Integer i -> out.write(i);
                case byte[] a -> out.writeBytes(a);
                default -> throw new IllegalArgumentException(String.valueOf(p));
            }
        }
        return out.toByteArray();
    }

    private static byte[] str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return b('X', ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(u.length).array(), u);
    }

    private static byte[] global(String module, String name) {
        return b('c', (module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] keys() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        KEYS.forEach(k -> out.writeBytes(str(k)));
        return out.toByteArray();
    }

    private static String dump(byte[] file) throws IOException {
        try (Checkpoint c = Checkpoint.load(file, FIXTURE)) {
            return CanonicalDump.toJson(c.root(), 1000, 10_000_000L);
        }
    }

    private static <T extends CheckpointException> T refused(Class<T> type, byte[] file, String fragment) {
        T e = assertThrows(type, () -> Checkpoint.load(file, FIXTURE));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        return e;
    }

    @Test
    void theFixtureIsWhatTheseOffsetsSay() throws IOException {
        byte[] f = Fixtures.bytes(FIXTURE);
        assertEquals(List.of((byte) 0x80, (byte) 2), List.of(f[0], f[1]));
        assertTrue(Arrays.equals(MAGIC, Arrays.copyOfRange(f, 2, 14)));
        assertEquals('.', f[ENDS[4] - 1]);
        // the unchanged splice is the fixture itself
        assertEquals(dump(f), dump(with(0, MAGIC)));
    }

    @Test
    void allowedGlobalsWorkInThePlainPickles() throws IOException {
        String reference = dump(Fixtures.bytes(FIXTURE));
        // sys_info = OrderedDict(): ignored by torch, as here
        assertEquals(reference, dump(with(2, b(global("collections", "OrderedDict"), ')', 'R'))));
        // protocol version complex(1001): torch's != finds it equal to 1001, as 1001.0
        assertEquals(reference, dump(with(1, b(global("builtins", "complex"), 'M', 0xe9, 0x03, 0x85, 'R'))));
        assertEquals(reference, dump(with(1, b('G', ByteBuffer.allocate(8).putDouble(1001.0).array()))));
        refused(UnsupportedCheckpointException.class, with(1, b(0x88)), "Invalid protocol version: True");
        // still the allowlist: a refused global is refused, a persistent id is no storage here
        refused(UnsafeCheckpointException.class, with(2, b(global("os", "system"), ')', 'R')),
                "pickle 3 (sys_info)");
        refused(MalformedCheckpointException.class, with(2, b('(', str("storage"), 't', 'Q')),
                "a persistent id in a pickle that holds only plain data");
    }

    @Test
    void theKeyListIsAnyIterableOfKeys() throws IOException {
        String reference = dump(Fixtures.bytes(FIXTURE));
        assertEquals(reference, dump(with(4, b('(', keys(), 't'))));
        // an OrderedDict iterates its keys
        ByteArrayOutputStream pairs = new ByteArrayOutputStream();
        KEYS.forEach(k -> pairs.writeBytes(b(str(k), 'K', 1, 0x86)));
        assertEquals(reference, dump(with(4, b(global("collections", "OrderedDict"), '(', pairs.toByteArray(), 't',
                0x85, 'R'))));
        // a set of several keys has no reproducible order in Python (python-values)
        refused(UnsupportedCheckpointException.class, with(4, b(global("builtins", "set"), '(', keys(), 't', 0x85,
                'R')), "Python reads a set in the order of its hash table");
        refused(MalformedCheckpointException.class, with(4, b('(', 'K', 1, 't')), "must hold str keys, got int");
        // an allowed global left under the list: torch returns the list, here the pickle ends with two values
        refused(MalformedCheckpointException.class, with(4, b(global("torch", "FloatStorage"), ']', '(', keys(),
                'e')), "STOP leaves 2 values on the stack");
    }

    @Test
    void theMagicNumberIsTheTopOfItsStackAndTheOnlyValue() throws IOException {
        // Python returns the top value, so torch loads these; one pickle ends with one value here (strict-structure)
        MalformedCheckpointException e = refused(MalformedCheckpointException.class, with(0, b('N', MAGIC)),
                "STOP leaves 2 values on the stack: a pickle ends with exactly one value (torch's unpickler would"
                        + " read on and return the top value, the legacy magic number)");
        assertTrue(e.getMessage().contains("pickle 1 (magic number)"), e.getMessage());
        refused(MalformedCheckpointException.class, with(0, b(MAGIC, MAGIC)), "STOP leaves 2 values");
        refused(MalformedCheckpointException.class, with(0, b('(', MAGIC)), "STOP inside 1 open MARK");
        // torch's unpickler takes any protocol (Python's refuses one above 5, as weightsonly does)
        byte[] proto255 = with(0, MAGIC);
        proto255[1] = (byte) 0xff;
        refused(MalformedCheckpointException.class, proto255, "unsupported pickle protocol: 255 (torch's unpickler");
        // when the top is not the magic number, it is no legacy stream, for torch as here
        refused(MalformedCheckpointException.class, with(0, b(MAGIC, 'N')), "Invalid magic number");
    }
}
