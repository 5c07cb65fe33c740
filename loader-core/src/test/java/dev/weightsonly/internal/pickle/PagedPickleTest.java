package dev.weightsonly.internal.pickle;

import static dev.weightsonly.internal.pickle.Pickles.WHERE;
import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.be64;
import static dev.weightsonly.internal.pickle.Pickles.le32;
import static dev.weightsonly.internal.pickle.Pickles.torchHost;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyList;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A pickle of native memory is read from a heap copy in pages of 256 KiB ({@link OperandReader#copying}): every
 * operand that straddles two pages reads as it does from one array, and a whole pickle loads to the same values.
 */
class PagedPickleTest {

    private static final int PAGE = 1 << 18;

    /** {@code bytes} in native memory of a confined arena. */
    private static MemorySegment nativeCopy(Arena arena, byte[] bytes) {
        MemorySegment segment = arena.allocate(bytes.length);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return segment;
    }

    private interface Read {
        Object apply(OperandReader in) throws OperandReader.Malformed;
    }

    /** What {@code read} gives at {@code at}, or the exception's class if it throws. */
    private static Object at(OperandReader in, long at, Read read) {
        try {
            in.take(at - in.position());
            Object v = read.apply(in);
            return v instanceof byte[] a ? new String(a, StandardCharsets.ISO_8859_1) : v;
        } catch (OperandReader.Malformed e) {
            return e.getClass();
        }
    }

    @Test
    void operandsAcrossPageBoundariesReadAsFromOneArray() {
        byte[] bytes = new byte[2 * PAGE + 1000];
        Random random = new Random(11);
        random.nextBytes(bytes);
        for (int i = 0; i < bytes.length; i += 7) {
            bytes[i] = (byte) (i % 3 == 0 ? '\n' : 'a' + i % 26); // lines and ASCII runs to find
        }
        int start = 5; // pages start at the pickle's start, not at the data's
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = nativeCopy(arena, bytes);
            Read[] reads = {
                in -> in.nextByte(),
                in -> in.integer(Opcode.BININT1),
                in -> in.integer(Opcode.BININT2),
                in -> in.integer(Opcode.BININT),
                in -> in.integer(Opcode.LONG_BINPUT),
                in -> in.length(Opcode.BINBYTES8),
                in -> in.float8(),
                in -> in.lineLength(40),
                in -> in.bytes(in.take(13), 13),
            };
            for (int boundary = start + PAGE; boundary < bytes.length; boundary += PAGE) {
                for (int at = boundary - 12; at <= boundary + 4; at++) {
                    for (Read read : reads) {
                        OperandReader paged = OperandReader.copying(memory, start, bytes.length);
                        // The oracle reads through the segment (a read-only heap segment shows no array), with
                        // the JDK's layouts, not the byte composition the pages use.
                        OperandReader whole = new OperandReader(MemorySegment.ofArray(bytes).asReadOnly(), start,
                                bytes.length);
                        assertEquals(at(whole, at, read), at(paged, at, read), "offset " + at);
                    }
                    OperandReader paged = OperandReader.copying(memory, start, bytes.length);
                    for (int n = 0; n <= 10; n++) {
                        String ascii = paged.asciiInPlace(at, n);
                        String expected = new String(bytes, at, n, StandardCharsets.ISO_8859_1);
                        boolean isAscii = expected.chars().allMatch(c -> c < 0x80);
                        if (at + n > boundary && at < boundary || !isAscii) {
                            assertNull(ascii, "offset " + at + ", " + n + " bytes"); // decoded from a copy instead
                        } else {
                            assertEquals(expected, ascii, "offset " + at + ", " + n + " bytes");
                        }
                    }
                }
            }
        }
    }

    @Test
    void aPickleOfNativeMemoryLoadsToTheValuesWritten() throws CheckpointException {
        // A list of values of every operand width, their lengths drawn so that operands straddle the pages, some
        // memoized and read back; over 1 MiB, so that the memo pass runs on the same pages too. Each value is also
        // kept as Java makes it, the oracle.
        Random random = new Random(3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Object> written = new ArrayList<>();
        out.writeBytes(b(0x80, 2, Opcode.EMPTY_LIST, Opcode.MARK));
        int memo = 0;
        while (out.size() < 5 * PAGE) {
            switch (random.nextInt(7)) {
                case 0 -> {
                    StringBuilder s = new StringBuilder();
                    int n = random.nextInt(600);
                    for (int k = 0; k < n; k++) {
                        s.append(random.nextInt(10) == 0 ? (char) (0xE0 + random.nextInt(20)) : (char) ('a' + k % 26));
                    }
                    byte[] u = s.toString().getBytes(StandardCharsets.UTF_8);
                    out.writeBytes(b(Opcode.BINUNICODE, le32(u.length), u));
                    written.add(s.toString());
                }
                case 1 -> {
                    int v = random.nextInt();
                    out.writeBytes(b(Opcode.BININT, le32(v)));
                    written.add((long) v);
                }
                case 2 -> {
                    double v = random.nextDouble() * 1e6 - 5e5;
                    out.writeBytes(b(Opcode.BINFLOAT, be64(v)));
                    written.add(v);
                }
                case 3 -> {
                    byte[] raw = new byte[random.nextInt(300)];
                    random.nextBytes(raw);
                    out.writeBytes(b(Opcode.BINBYTES, le32(raw.length), raw));
                    written.add(raw);
                }
                case 4 -> {
                    byte[] raw = new byte[1 + random.nextInt(20)]; // LONG1: up to 8 bytes as a long, else big
                    random.nextBytes(raw);
                    out.writeBytes(b(Opcode.LONG1, raw.length, raw));
                    byte[] bigEndian = new byte[raw.length];
                    for (int k = 0; k < raw.length; k++) {
                        bigEndian[k] = raw[raw.length - 1 - k];
                    }
                    BigInteger v = new BigInteger(bigEndian);
                    written.add(v.bitLength() < 64 ? (Object) v.longValue() : v);
                }
                case 5 -> {
                    int lo = random.nextInt(256);
                    int hi = random.nextInt(256);
                    out.writeBytes(b(Opcode.BININT2, lo, hi));
                    written.add((long) (hi << 8 | lo));
                }
                default -> {
                    String key = "key" + memo;
                    out.writeBytes(b(Opcode.SHORT_BINUNICODE, key.length(), key, Opcode.LONG_BINPUT, le32(memo)));
                    int back = random.nextInt(memo + 1);
                    out.writeBytes(b(Opcode.LONG_BINGET, le32(back)));
                    written.add(key);
                    written.add("key" + back);
                    memo++;
                }
            }
        }
        out.writeBytes(b(Opcode.APPENDS, Opcode.STOP));
        byte[] pickle = out.toByteArray();
        // On the heap in place, and from native memory in the real pages (256 KiB) and in pages of 16 and 128
        // bytes, where nearly every operand straddles two.
        List<Object> loads = new ArrayList<>();
        loads.add(Unpickler.load(MemorySegment.ofArray(pickle), 0, pickle.length, WHERE, torchHost(),
                LoadLimits.defaults()).value());
        for (int pageShift : new int[] {OperandReader.PAGE_SHIFT, 4, 7}) {
            try (Arena arena = Arena.ofConfined()) {
                loads.add(Unpickler.load(nativeCopy(arena, pickle), 0, pickle.length, WHERE, torchHost(),
                        LoadLimits.defaults(), 1 << 20, pageShift).value());
            }
        }
        for (Object load : loads) {
            PyList actual = (PyList) load;
            assertEquals(written.size(), actual.size());
            for (int i = 0; i < written.size(); i++) {
                Object e = written.get(i);
                Object a = actual.get(i);
                if (e instanceof byte[] raw) {
                    assertArrayEquals(raw, ((PyBytes) a).toByteArray(), "item " + i);
                } else {
                    assertEquals(e, a, "item " + i);
                }
            }
        }
    }

    /** An empty string whose operand ends the data exactly at a page's end: a truncated pickle, refused as such. */
    @Test
    void anEmptyStringAtTheEndOfAWholePageIsATruncatedPickle() {
        byte[] head = b(0x80, 2);
        byte[] tail = b(Opcode.BINUNICODE, le32(0)); // no STOP after it
        int filler = PAGE - head.length - tail.length - 5; // BINBYTES opcode and its 4-byte length
        byte[] pickle = b(head, Opcode.BINBYTES, le32(filler), new byte[filler], tail);
        assertEquals(PAGE, pickle.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = nativeCopy(arena, pickle);
            CheckpointException e = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                    () -> Unpickler.load(memory, 0, pickle.length, WHERE, torchHost(), LoadLimits.defaults()));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }
}
