package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.be64;
import static dev.weightsonly.internal.pickle.Pickles.le32;
import static dev.weightsonly.internal.pickle.Pickles.le64;
import static dev.weightsonly.internal.pickle.Pickles.load;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.testing.Fixtures;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pass that finds which memo slots a pickle reads back: it steps over every opcode's operands exactly as
 * the unpickler reads them, so the GETs it finds are the GETs there are; when it cannot tell, it says every
 * slot.
 */
class MemoReadsTest {

    private static MemoReads reads(byte[] pickle) {
        return MemoReads.of(new OperandReader(MemorySegment.ofArray(pickle), 0, pickle.length));
    }

    private static List<Long> readSlots(MemoReads r, long upTo) {
        List<Long> slots = new ArrayList<>();
        for (long i = 0; i < upTo; i++) {
            if (r.isRead(i)) {
                slots.add(i);
            }
        }
        return slots;
    }

    /** Every operand shape, each holding bytes that look like GETs ('h', 'j'), then the real GETs. */
    @Test
    void operandsAreSteppedOverExactly() {
        int h = 'h';
        byte[] pickle = b(0x80, 2, 0x95, le64(0),
                'K', h, 'M', h, h, 'J', le32(0x68686868L), 'G', be64(1.0),
                'U', 2, "hj", 'C', 1, "h", 0x8C, 1, "j", 0x8A, 1, h,
                'X', le32(2), "hh", 'B', le32(1), "j", 'T', le32(1), "h", 0x8B, le32(1), h,
                0x8D, le64(1), "h", 0x8E, le64(1), "j", 0x96, le64(1), "h",
                'F', "1.0\n", 'I', "104\n", 'L', "104L\n", 'S', "'h'\n", 'V', "hj\n", 'P', "h\n", 'p', "7\n",
                'c', "h\nj\n", 'i', "h\nj\n",
                'q', 9, 'r', le32(10), 0x94,
                'h', 3, 'j', le32(70_000), 'j', le32(0xFFFF_FFF0L), '.',
                'h', 5); // after STOP: not read
        MemoReads r = reads(pickle);
        assertEquals(List.of(3L), readSlots(r, 70_000));
        assertTrue(r.isRead(70_000));
        assertTrue(r.isRead(0xFFFF_FFF0L));
        assertFalse(r.isRead(5));
        assertFalse(r.isRead(9));
        assertFalse(r.isRead(10));
    }

    /** The slots the memo is made for: never more than the writes, whatever slot numbers they name. */
    @Test
    void slotsAreBoundedByTheWrites() throws CheckpointException {
        // torch's numbering, 0, 1, 2: three slots
        assertEquals(3, reads(b(']', 'q', 0, ']', 'q', 1, ']', 'r', le32(2), '.')).slots());
        // MEMOIZE takes the next slot each time; a BINPUT beyond them counts its slot, within the writes
        assertEquals(3, reads(b(']', 0x94, ']', 0x94, ']', 0x94, '.')).slots());
        assertEquals(3, reads(b(']', 0x94, ']', 0x94, ']', 'q', 2, '.')).slots());
        assertEquals(3, reads(b(']', 0x94, ']', 0x94, ']', 'q', 9, '.')).slots());
        // one write of a far slot counts one, as many writes of one slot do
        assertEquals(1, reads(b(']', 'r', le32(0x7FFF_FFFFL), '.')).slots());
        assertEquals(1, reads(b(']', 'q', 0, 'q', 0, 'q', 0, 'q', 0, '.')).slots());
        // a text PUT's slot is not read by the pass: it counts nothing
        assertEquals(0, reads(b(']', 'p', "5\n", '.')).slots());
        assertEquals(0, MemoReads.ALL.slots());
        // and the unpickler's memo works whatever it was made for
        List<?> list = (List<?>) load(b(']', 'r', le32(1_000), 'q', 0, 'h', 0, 'a', 'j', le32(1_000), 'a', '.'));
        assertEquals(2, list.size());
        assertSame(list, list.get(0));
        assertSame(list, list.get(1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"text GET", "truncated", "no STOP", "EXT1", "unknown opcode", "negative length"})
    void whenItCannotTellEverySlotIsRead(String what) {
        byte[] pickle = switch (what) {
            case "text GET" -> b(']', 'p', "0\n", 'g', "0\n", '.');
            case "truncated" -> b(']', 'q', 0, 'X', le32(100), "ab");
            case "no STOP" -> b(']', 'q', 0, 'h', 0);
            case "EXT1" -> b(0x82, 1, '.');
            case "unknown opcode" -> b(0xFF, '.');
            case "negative length" -> b('T', le32(-1), '.');
            default -> throw new IllegalArgumentException(what);
        };
        MemoReads r = reads(pickle);
        assertTrue(r.isRead(0) && r.isRead(12_345) && r.isRead(0xFFFF_FFFFL), what);
    }

    @Test
    void slotsThatAreNotReadStillCountAndMemoizeStaysExact() throws Exception {
        // ] q5 (not read) ] MEMOIZE (slot 1: len(memo) counts slot 5) h1 : the second list twice
        PyTuple t = (PyTuple) load(b('(', ']', 'q', 5, ']', 0x94, 'h', 1, 't', '.'));
        assertSame(t.get(1), t.get(2));
    }

    /** The pickles torch wrote read back far fewer slots than they write. */
    @ParameterizedTest
    @ValueSource(strings = {"train_checkpoint", "sd_embedding_tied", "shared_refs", "proto4", "proto5"})
    void torchPicklesReadFewSlots(String fixture) throws IOException {
        byte[] pickle = dataPkl(fixture);
        MemoReads r = reads(pickle);
        long read = readSlots(r, pickle.length).size();
        assertTrue(read > 0, "torch reads back at least its globals");
        assertTrue(read * 2 < countPuts(pickle), fixture + ": " + read + " slots read");
        // That none is missed: loading the fixture would stop with an IllegalStateException at a GET of a slot
        // not kept; FixtureDifferentialTest loads every fixture and compares it with PyTorch's.
    }

    /**
     * Loads keep only the slots the pass finds when the pickle is larger than 1 MiB; every fixture is smaller, so
     * here each is loaded with the pass forced and without it: the same values, shared the same way (a missed GET
     * would stop the first load with an IllegalStateException, a wrong slot would share the wrong value).
     */
    @ParameterizedTest
    @ValueSource(strings = {"train_checkpoint", "sd_embedding_tied", "shared_refs", "proto4", "proto5", "views",
            "many_tensors", "dtypes", "long_containers", "frozenset_value", "buffer_saved", "conj_neg_meta"})
    void loadsWithThePassKeepWhatLoadsWithoutItKeep(String fixture) throws Exception {
        byte[] pickle = dataPkl(fixture);
        Object withPass = Unpickler.load(MemorySegment.ofArray(pickle), 0, pickle.length, Pickles.WHERE,
                new Pickles.RecordingHost(), dev.weightsonly.LoadLimits.defaults(), 0).value();
        Object keepingAll = Unpickler.load(MemorySegment.ofArray(pickle), 0, pickle.length, Pickles.WHERE,
                new Pickles.RecordingHost(), dev.weightsonly.LoadLimits.defaults(), Long.MAX_VALUE).value();
        assertSameShape(keepingAll, withPass, new java.util.IdentityHashMap<>(), fixture);
    }

    /** The same tree, with a shared object on one side exactly where the other shares one. */
    private static void assertSameShape(Object a, Object b, java.util.IdentityHashMap<Object, Object> seen, String at) {
        if (a instanceof PyDict || a instanceof PyList || a instanceof PyTuple || a instanceof PySet
                || a instanceof PyObject) {
            Object known = seen.putIfAbsent(a, b);
            if (known != null) {
                assertSame(known, b, at + ": shared differently");
                return;
            }
        }
        switch (a) {
            case PyDict d -> {
                PyDict e = (PyDict) b;
                assertEquals(d.size(), e.size(), at);
                var ea = new ArrayList<>(d.entrySet());
                var eb = new ArrayList<>(e.entrySet());
                for (int i = 0; i < ea.size(); i++) {
                    assertSameShape(ea.get(i).getKey(), eb.get(i).getKey(), seen, at + "/key" + i);
                    assertSameShape(ea.get(i).getValue(), eb.get(i).getValue(), seen, at + "/" + ea.get(i).getKey());
                }
            }
            case PyList l -> {
                PyList m = (PyList) b;
                assertEquals(l.size(), m.size(), at);
                for (int i = 0; i < l.size(); i++) {
                    assertSameShape(l.get(i), m.get(i), seen, at + "[" + i + "]");
                }
            }
            case PyTuple t -> {
                PyTuple u = (PyTuple) b;
                assertEquals(t.size(), u.size(), at);
                for (int i = 0; i < t.size(); i++) {
                    assertSameShape(t.get(i), u.get(i), seen, at + "(" + i + ")");
                }
            }
            default -> assertEquals(String.valueOf(a), String.valueOf(b), at);
        }
    }

    private static long countPuts(byte[] pickle) {
        // An upper bound is enough: every 'q', 'r' and MEMOIZE byte, operands included.
        long n = 0;
        for (byte x : pickle) {
            n += x == 'q' || x == 'r' || x == (byte) 0x94 ? 1 : 0;
        }
        return n;
    }

    static byte[] dataPkl(String fixture) throws IOException {
        try (ZipFile zip = new ZipFile(Fixtures.file(fixture).toFile())) {
            ZipEntry entry = zip.stream().filter(e -> e.getName().endsWith("/data.pkl")).findFirst()
                    .orElseThrow(() -> new IOException(fixture + " has no data.pkl"));
            return zip.getInputStream(entry).readAllBytes();
        }
    }
}
