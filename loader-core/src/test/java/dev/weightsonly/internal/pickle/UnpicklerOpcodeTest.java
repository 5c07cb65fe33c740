package dev.weightsonly.internal.pickle;

import dev.weightsonly.internal.globals.AllowedGlobal;
import dev.weightsonly.python.PyBytes;
import dev.weightsonly.python.PyComplex;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.be64;
import static dev.weightsonly.internal.pickle.Pickles.global;
import static dev.weightsonly.internal.pickle.Pickles.le32;
import static dev.weightsonly.internal.pickle.Pickles.le64;
import static dev.weightsonly.internal.pickle.Pickles.load;
import static dev.weightsonly.internal.pickle.Pickles.refuse;
import static dev.weightsonly.internal.pickle.Pickles.run;
import static dev.weightsonly.internal.pickle.Pickles.shortStr;
import static dev.weightsonly.internal.pickle.Pickles.str;
import static dev.weightsonly.internal.pickle.Pickles.torchHost;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.torch.TorchStorage;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every opcode the restricted machine accepts, each in a hand-assembled pickle, with the exact Java value
 * it must produce (types as package-info lists them).
 */
class UnpicklerOpcodeTest {

    /** Every opcode of protocols 0..5 except EXT1/2/4 and NEXT_BUFFER. */
    static final Set<Integer> ACCEPTED = Set.of(
            0x28, 0x2E, 0x30, 0x31, 0x32, 0x46, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x50, 0x51, 0x52, 0x53,
            0x54, 0x55, 0x56, 0x58, 0x61, 0x62, 0x63, 0x64, 0x7D, 0x65, 0x67, 0x68, 0x69, 0x6A, 0x6C, 0x5D,
            0x6F, 0x70, 0x71, 0x72, 0x73, 0x74, 0x29, 0x75, 0x47, 0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89,
            0x8A, 0x8B, 0x42, 0x43, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x98);

    private static List<Object> items(Object value) {
        return switch (value) {
            case PyTuple t -> t.items();
            case PyList l -> List.copyOf(l);
            default -> throw new AssertionError("not a sequence: " + value);
        };
    }

    private static PyTuple tuple(Object value) {
        return assertInstanceOf(PyTuple.class, value);
    }

    @Nested
    class OpcodeTable {

        @Test
        void sixtyFourOpcodesAreAccepted() {
            assertEquals(64, ACCEPTED.size());
        }

        @Test
        void everyByteIsAnAcceptedOpcodeOrRefusedByNumber() throws Exception {
            Set<Integer> accepted = new TreeSet<>();
            for (int op = 0; op < 256; op++) {
                byte[] alone = {(byte) op};
                try {
                    Unpickler.Result r = run(alone, torchHost(), LoadLimits.defaults());
                    throw new AssertionError("a lone opcode " + op + " loaded to " + r.value());
                } catch (CheckpointException e) {
                    if (!e.getMessage().contains("Unsupported operand " + op)) {
                        accepted.add(op);
                        assertInstanceOf(MalformedCheckpointException.class, e, e.getMessage());
                        // the opcode itself failed (offset 0), or the input ended where the next one belongs
                        assertTrue(e.pickleOffset() == 0 || e.getMessage().contains("ended before STOP"),
                                e.getMessage());
                    } else {
                        assertEquals(0, e.pickleOffset(), e.getMessage());
                    }
                }
            }
            assertEquals(new TreeSet<>(ACCEPTED), accepted);
        }
    }

    @Nested
    class Integers {

        @Test
        void binint1IsUnsigned() throws Exception {
            assertEquals(255L, load(b('K', 0xFF, '.')));
            assertEquals(0L, load(b('K', 0x00, '.')));
            assertEquals(128L, load(b('K', 0x80, '.')));
        }

        @Test
        void binint2IsUnsignedLittleEndian() throws Exception {
            assertEquals(65535L, load(b('M', 0xFF, 0xFF, '.')));
            assertEquals(0x1234L, load(b('M', 0x34, 0x12, '.')));
            assertEquals(0x8000L, load(b('M', 0x00, 0x80, '.')));
        }

        @Test
        void binintIsSignedLittleEndian() throws Exception {
            assertEquals(-1L, load(b('J', 0xFF, 0xFF, 0xFF, 0xFF, '.')));
            assertEquals((long) Integer.MIN_VALUE, load(b('J', 0, 0, 0, 0x80, '.')));
            assertEquals((long) Integer.MAX_VALUE, load(b('J', 0xFF, 0xFF, 0xFF, 0x7F, '.')));
            assertEquals(0x12345678L, load(b('J', 0x78, 0x56, 0x34, 0x12, '.')));
        }

        static Stream<Arguments> long1Patterns() {
            List<Arguments> out = new ArrayList<>();
            java.util.Random random = new java.util.Random(42);
            for (int n = 0; n <= 9; n++) {
                List<byte[]> patterns = new ArrayList<>();
                byte[] zeros = new byte[n];
                byte[] ones = new byte[n];
                java.util.Arrays.fill(ones, (byte) 0xFF);
                patterns.add(zeros);
                patterns.add(ones);
                if (n > 0) {
                    byte[] minTop = new byte[n];
                    minTop[n - 1] = (byte) 0x80;
                    byte[] maxTop = ones.clone();
                    maxTop[n - 1] = 0x7F;
                    patterns.add(minTop);
                    patterns.add(maxTop);
                    for (int k = 0; k < 4; k++) {
                        byte[] r = new byte[n];
                        random.nextBytes(r);
                        patterns.add(r);
                    }
                }
                for (byte[] p : patterns) {
                    out.add(Arguments.of(n, p));
                }
            }
            return out.stream();
        }

        /** LONG1 of n little-endian two's-complement bytes: Long when it fits in 64 bits, else BigInteger. */
        @ParameterizedTest(name = "LONG1 n={0} {1}")
        @MethodSource("long1Patterns")
        void long1OfZeroToNineBytes(int n, byte[] littleEndian) throws Exception {
            byte[] bigEndian = new byte[n];
            for (int i = 0; i < n; i++) {
                bigEndian[i] = littleEndian[n - 1 - i];
            }
            BigInteger expected = n == 0 ? BigInteger.ZERO : new BigInteger(bigEndian);
            Object v = load(b(0x8A, n, littleEndian, '.'));
            if (expected.bitLength() < 64) {
                assertEquals(expected.longValueExact(), assertInstanceOf(Long.class, v));
            } else {
                assertEquals(expected, assertInstanceOf(BigInteger.class, v));
            }
        }

        @Test
        void long1Boundaries() throws Exception {
            BigInteger twoTo63 = BigInteger.ONE.shiftLeft(63);
            // 2^63 needs nine bytes and is no Long
            assertEquals(twoTo63, load(b(0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, '.')));
            // -(2^63) is Long.MIN_VALUE, whether written in eight bytes or (non-minimally) in nine
            assertEquals(Long.MIN_VALUE, load(b(0x8A, 8, 0, 0, 0, 0, 0, 0, 0, 0x80, '.')));
            assertEquals(Long.MIN_VALUE, load(b(0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, '.')));
            // -(2^63) - 1 is not
            assertEquals(twoTo63.negate().subtract(BigInteger.ONE),
                    load(b(0x8A, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, '.')));
            assertEquals(Long.MAX_VALUE, load(b(0x8A, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, '.')));
            assertEquals(1L, load(b(0x8A, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, '.')));
            assertEquals(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE),
                    load(b(0x8A, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, '.')));
            assertEquals(0L, load(b(0x8A, 0, '.')));
            assertEquals(-1L, load(b(0x8A, 1, 0xFF, '.')));
            assertEquals(-32768L, load(b(0x8A, 2, 0x00, 0x80, '.')));
        }

        @Test
        void long4() throws Exception {
            assertEquals(BigInteger.ONE.shiftLeft(64), load(b(0x8B, le32(9), 0, 0, 0, 0, 0, 0, 0, 0, 1, '.')));
            assertEquals(0L, load(b(0x8B, le32(0), '.')));
            assertEquals(-2L, load(b(0x8B, le32(2), 0xFE, 0xFF, '.')));
            byte[] twoTo100 = new byte[14];
            twoTo100[12] = 0x10; // 2^100 = 0x10 << 96
            assertEquals(BigInteger.ONE.shiftLeft(100), load(b(0x8B, le32(14), twoTo100, '.')));
        }

        @Test
        void textIntZeroOneAreBools() throws Exception {
            assertEquals(Boolean.TRUE, load(b("I01\n.")));
            assertEquals(Boolean.FALSE, load(b("I00\n.")));
            assertEquals(1L, load(b("I1\n.")));
            assertEquals(0L, load(b("I0\n.")));
        }

        @Test
        void textIntDecimals() throws Exception {
            assertEquals(-42L, load(b("I-42\n.")));
            assertEquals(42L, load(b("I+42\n.")));
            assertEquals(Long.MAX_VALUE, load(b("I9223372036854775807\n.")));
            assertEquals(Long.MIN_VALUE, load(b("I-9223372036854775808\n.")));
            assertEquals(new BigInteger("9223372036854775808"), load(b("I9223372036854775808\n.")));
            assertEquals(new BigInteger("-123456789012345678901234567890"),
                    load(b("I-123456789012345678901234567890\n.")));
            String thousand = "7".repeat(1000);
            assertEquals(new BigInteger(thousand), load(b("I", thousand, "\n.")));
        }

        @Test
        void textLongWithAndWithoutTrailingL() throws Exception {
            assertEquals(123L, load(b("L123L\n.")));
            assertEquals(-5L, load(b("L-5L\n.")));
            assertEquals(7L, load(b("L7\n.")));
            assertEquals(new BigInteger("99999999999999999999"), load(b("L99999999999999999999L\n.")));
            assertEquals(Long.MIN_VALUE, load(b("L-9223372036854775808L\n.")));
            refuse(MalformedCheckpointException.class, "invalid LONG operand", b("L12LL\n."));
            refuse(MalformedCheckpointException.class, "invalid INT operand", b("I12L\n."));
            refuse(MalformedCheckpointException.class, "invalid INT operand", b("I\n."));
        }
    }

    @Nested
    class Floats {

        @Test
        void textFloats() throws Exception {
            assertEquals(1.5, load(b("F1.5\n.")));
            assertEquals(3.0, load(b("F3\n.")));
            assertEquals(0.5, load(b("F.5\n.")));
            assertEquals(1e-05, load(b("F1e-05\n.")));
            assertEquals(-2.5e300, load(b("F-2.5E+300\n.")));
            assertEquals(Double.valueOf(-0.0), load(b("F-0.0\n.")));
            assertTrue(((Double) load(b("Fnan\n."))).isNaN());
            assertEquals(Double.POSITIVE_INFINITY, load(b("Finf\n.")));
            assertEquals(Double.NEGATIVE_INFINITY, load(b("F-inf\n.")));
            assertEquals(Double.POSITIVE_INFINITY, load(b("FInfinity\n.")));
            refuse(MalformedCheckpointException.class, "invalid FLOAT operand", b("F1.5d\n."));
            refuse(MalformedCheckpointException.class, "invalid FLOAT operand", b("F0x10\n."));
        }

        @Test
        void binfloatIsBigEndian() throws Exception {
            assertEquals(1.5, load(b('G', 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, '.')));
            assertEquals(-2.0, load(b('G', 0xC0, 0, 0, 0, 0, 0, 0, 0, '.')));
            assertEquals(Math.PI, load(b('G', be64(Math.PI), '.')));
            assertEquals(Double.valueOf(-0.0), load(b('G', 0x80, 0, 0, 0, 0, 0, 0, 0, '.')));
            assertTrue(((Double) load(b('G', 0x7F, 0xF8, 0, 0, 0, 0, 0, 0, '.'))).isNaN());
        }
    }

    @Nested
    class Strings {

        @Test
        void stringWithEscapes() throws Exception {
            // S'A\x41\n\101\'b'
            assertEquals("AA\nA'b", load(b("S'A\\x41\\n\\101\\'b'\n.")));
            assertEquals("q\"x", load(b("S\"q\\\"x\"\n.")));
            assertEquals("\t\r\\\u0007\u000b\b\f", load(b("S'\\t\\r\\\\\\a\\v\\b\\f'\n.")));
            // unknown escapes keep the backslash
            assertEquals("\\q", load(b("S'\\q'\n.")));
            // octal takes at most three digits
            assertEquals("\u00011", load(b("S'\\0011'\n.")));
            assertEquals("\u0007", load(b("S'\\7'\n.")));
            // the escaped bytes are then strict UTF-8
            assertEquals("\u00e9", load(b("S'\\xc3\\xa9'\n.")));
            assertEquals("\u00e9", load(b("S'", 0xC3, 0xA9, "'\n.")));
            assertEquals("", load(b("S''\n.")));
        }

        @Test
        void stringRefusals() {
            refuse(MalformedCheckpointException.class, "must be quoted", b("Sabc\n."));
            refuse(MalformedCheckpointException.class, "must be quoted", b("S'abc\"\n."));
            refuse(MalformedCheckpointException.class, "must be quoted", b("S'\n."));
            refuse(MalformedCheckpointException.class, "invalid escape", b("S'\\x4'\n."));
            refuse(MalformedCheckpointException.class, "invalid escape", b("S'\\xzz'\n."));
            refuse(MalformedCheckpointException.class, "invalid escape", b("S'ab\\'\n."));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b("S'\\377'\n."));
        }

        @Test
        void unicodeIsRawUnicodeEscape() throws Exception {
            assertEquals("\u00e9", load(b("V\\u00e9\n.")));
            assertEquals("\uD83D\uDE00", load(b("V\\U0001F600\n.")));
            assertEquals("x\u00e9y", load(b("Vx", 0xE9, "y\n."))); // raw bytes are Latin-1
            // an even run of backslashes escapes nothing; an odd one escapes the u
            assertEquals("ab\\\\u0041", load(b("Vab\\\\u0041\n.")));
            assertEquals("\\\\A", load(b("V\\\\\\u0041\n.")));
            assertEquals("\\A", load(b("V\\A\n.")));
            assertEquals("\\", load(b("V\\\n.")));
            assertEquals("\uD800", load(b("V\\ud800\n.")));
            assertEquals("", load(b("V\n.")));
            refuse(MalformedCheckpointException.class, "invalid \\u escape", b("V\\u00e\n."));
            refuse(MalformedCheckpointException.class, "invalid \\u escape", b("V\\U00110000\n."));
            refuse(MalformedCheckpointException.class, "invalid \\u escape", b("V\\UFFFFFFFF\n."));
        }

        @Test
        void binunicodeIsUtf8WithSurrogatePass() throws Exception {
            assertEquals("h\u00e9llo \uD83D\uDE00", load(b(str("h\u00e9llo \uD83D\uDE00"), '.')));
            // a lone surrogate encoded as three bytes (CESU/WTF-8) passes, as with Python's surrogatepass
            assertEquals("\uD800", load(b('X', le32(3), 0xED, 0xA0, 0x80, '.')));
            assertEquals("a\uDC00b", load(b('X', le32(5), 'a', 0xED, 0xB0, 0x80, 'b', '.')));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('X', le32(2), 0xC3, 0x28, '.'));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('X', le32(2), 0xC0, 0x80, '.'));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('X', le32(1), 0xFF, '.'));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('X', le32(4), 0xF4, 0x90, 0x80, 0x80, '.'));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('X', le32(3), 0xE0, 0x80, 0x80, '.'));
            // a lone surrogate next to a four-byte character
            assertEquals("a\uD800\uD83D\uDE00", load(b('X', le32(8), 'a', 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x98, 0x80,
                    '.')));
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('X', le32(4), 0xED, 0xA0, 0x80, 0x80, '.'));
        }

        @Test
        void shortBinunicodeAndBinunicode8() throws Exception {
            assertEquals("collections", load(b(shortStr("collections"), '.')));
            assertEquals("", load(b(0x8C, 0, '.')));
            assertEquals("\u00e9t\u00e9", load(b(0x8D, le64(5), "\u00e9t\u00e9", '.')));
            assertEquals("\uD800", load(b(0x8C, 3, 0xED, 0xA0, 0x80, '.')));
        }

        @Test
        void pythonTwoStringsAreStrictUtf8() throws Exception {
            assertEquals("abc", load(b('U', 3, "abc", '.')));
            assertEquals("\u00e9", load(b('U', 2, 0xC3, 0xA9, '.')));
            assertEquals("abcd", load(b('T', le32(4), "abcd", '.')));
            assertEquals("", load(b('T', le32(0), '.')));
            // strict: no surrogatepass for Python 2 str
            refuse(MalformedCheckpointException.class, "invalid UTF-8 in a Python 2 string",
                    b('U', 3, 0xED, 0xA0, 0x80, '.'));
            refuse(MalformedCheckpointException.class, "invalid UTF-8 in a Python 2 string",
                    b('T', le32(1), 0xE9, '.'));
        }
    }

    @Nested
    class Bytes {

        @Test
        void binbytesFamily() throws Exception {
            PyBytes b1 = assertInstanceOf(PyBytes.class, load(b('B', le32(3), 1, 2, 3, '.')));
            assertEquals(PyBytes.of(new byte[] {1, 2, 3}), b1);
            assertFalse(b1.isByteArray());
            PyBytes b2 = assertInstanceOf(PyBytes.class, load(b('C', 2, 0xFF, 0x00, '.')));
            assertEquals(PyBytes.of(new byte[] {(byte) 0xFF, 0}), b2);
            PyBytes b3 = assertInstanceOf(PyBytes.class, load(b(0x8E, le64(1), 7, '.')));
            assertEquals(PyBytes.of(new byte[] {7}), b3);
            assertEquals(0, ((PyBytes) load(b('C', 0, '.'))).length());
        }

        @Test
        void bytearray8AndReadonlyBuffer() throws Exception {
            PyBytes array = assertInstanceOf(PyBytes.class, load(b(0x96, le64(2), 'h', 'i', '.')));
            assertTrue(array.isByteArray());
            assertEquals("hi", new String(array.toByteArray(), StandardCharsets.US_ASCII));
            PyBytes frozen = assertInstanceOf(PyBytes.class, load(b(0x96, le64(2), 'h', 'i', 0x98, '.')));
            assertFalse(frozen.isByteArray());
            assertEquals(array, frozen);
            // on bytes it is the identity
            PyTuple t = tuple(load(b('(', 'C', 1, 'x', 0x32, 0x98, 't', '.')));
            assertSame(t.get(0), t.get(1));
            refuse(MalformedCheckpointException.class, "READONLY_BUFFER on str", b(str("x"), 0x98, '.'));
        }
    }

    @Nested
    class Memo {

        @Test
        void textPutGet() throws Exception {
            PyTuple t = tuple(load(b("(]p0\ng0\nt.")));
            assertEquals(2, t.size());
            assertInstanceOf(PyList.class, t.get(0));
            assertSame(t.get(0), t.get(1));
            PyTuple big = tuple(load(b("(]p4294967295\ng4294967295\nt.")));
            assertSame(big.get(0), big.get(1));
        }

        @Test
        void binputBinget() throws Exception {
            PyTuple t = tuple(load(b('(', ']', 'q', 5, 'h', 5, 'h', 5, 't', '.')));
            assertSame(t.get(0), t.get(1));
            assertSame(t.get(0), t.get(2));
        }

        @Test
        void longBinputLongBinget() throws Exception {
            for (long index : new long[] {0, 70_000, 262_143, 262_144, 1_000_000, 0xFFFF_FFFFL}) {
                PyTuple t = tuple(load(b('(', '}', 'r', le32(index), 'j', le32(index), 't', '.')));
                assertInstanceOf(PyDict.class, t.get(0));
                assertSame(t.get(0), t.get(1), "index " + index);
            }
        }

        @Test
        void memoizeUsesTheNumberOfEntries() throws Exception {
            PyTuple t = tuple(load(b('(', ']', 0x94, ']', 0x94, 'h', 0, 'h', 1, 't', '.')));
            assertNotSame(t.get(0), t.get(1));
            assertSame(t.get(0), t.get(2));
            assertSame(t.get(1), t.get(3));
            // memo {5: a}: MEMOIZE stores at len(memo) == 1
            PyTuple u = tuple(load(b('(', ']', 'q', 5, ']', 0x94, 'h', 1, 't', '.')));
            assertSame(u.get(1), u.get(2));
            // rewriting a slot does not add an entry: {0: b}, then MEMOIZE stores at 1
            PyTuple w = tuple(load(b('(', ']', 'q', 0, ']', 'q', 0, ']', 0x94, 'h', 1, 'h', 0, 't', '.')));
            assertSame(w.get(2), w.get(3));
            assertSame(w.get(1), w.get(4));
        }

        @Test
        void millionsOfDenselyNumberedSlotsAreAllKept() throws Exception {
            // As torch writes them (MEMOIZE after each value): a training checkpoint with 300,000 tensors has
            // about 3 million; the slots past the first 2^18 go to the array as long as it stays half full.
            int n = 1_500_000;
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.write(0x80);
            out.write(4);
            out.write(']');
            for (int i = 0; i < n; i++) {
                out.write(0x94); // MEMOIZE the list at slot i, then a new int at i + 1 ... (every other slot)
                out.write('J');
                out.writeBytes(le32(i));
                out.write(0x94);
                out.write('a');
            }
            // read back a few slots, and one far slot written after all of them
            out.write('0');
            out.write('(');
            for (long slot : new long[] {1, 2L * 262_143 + 1, 2L * 262_144 + 1, 2L * (n - 1) + 1}) {
                out.write('j');
                out.writeBytes(le32(slot));
            }
            out.write('}');
            out.write('r');
            out.writeBytes(le32(0xFFFF_FFF0L));
            out.write('j');
            out.writeBytes(le32(0xFFFF_FFF0L));
            out.write('t');
            out.write('.');
            PyTuple t = tuple(load(out.toByteArray()));
            assertEquals(List.of(0L, 262_143L, 262_144L, (long) n - 1), List.of(t.get(0), t.get(1), t.get(2), t.get(3)));
            assertSame(t.get(4), t.get(5));
        }

        @Test
        void memoHoldsTheObjectNotACopy() throws Exception {
            // ] q0 K1 a 0 h0 .  -> the list read back from the memo has the appended item
            Object v = load(b(']', 'q', 0, 'K', 1, 'a', '0', 'h', 0, '.'));
            assertEquals(List.of(1L), items(v));
        }

        @Test
        void putOverwrites() throws Exception {
            assertEquals("b", load(b(str("a"), 'q', 1, str("b"), 'q', 1, '0', '0', 'h', 1, '.')));
        }
    }

    @Nested
    class Stack {

        @Test
        void dupSharesTheObject() throws Exception {
            PyTuple t = tuple(load(b('(', ']', '2', 't', '.')));
            assertSame(t.get(0), t.get(1));
            assertEquals(List.of(5L, 5L), items(load(b('(', 'K', 5, '2', 't', '.'))));
        }

        @Test
        void pop() throws Exception {
            assertEquals(List.of(1L), items(load(b('(', 'K', 1, 'K', 2, '0', 't', '.'))));
        }

        @Test
        void popOnAnEmptyFramePopsTheMark() throws Exception {
            // CPython's load_pop: with nothing above the mark, POP removes the mark itself
            assertEquals(7L, load(b('K', 7, '(', '0', '.')));
            assertEquals(List.of(1L), items(load(b('(', 'K', 1, '(', '0', 't', '.'))));
            refuse(MalformedCheckpointException.class, "could not find MARK", b('(', '0', '0', 't', '.'));
        }

        @Test
        void popMark() throws Exception {
            assertEquals(9L, load(b('K', 9, '(', 'K', 1, 'K', 2, '1', '.')));
            assertEquals(9L, load(b('K', 9, '(', '1', '.')));
        }

        @Test
        void noneTrueFalse() throws Exception {
            assertSame(PyNone.NONE, load(b('N', '.')));
            assertSame(Boolean.TRUE, load(b(0x88, '.')));
            assertSame(Boolean.FALSE, load(b(0x89, '.')));
        }

        @Test
        void stopLeavesTrailingBytesUnread() throws Exception {
            byte[] p = b('K', 1, '.', 0xFF, 'R', 0x82);
            Unpickler.Result r = run(p, torchHost(), LoadLimits.defaults());
            assertEquals(1L, r.value());
            assertEquals(3, r.end());
            // Result.end() is an absolute offset, just past STOP, when the pickle starts inside the data
            byte[] q = b(0xAA, 0xBB, 0x80, 2, 'N', '.', 'K', 2, '.', 0xFF);
            MemorySegment seg = MemorySegment.ofArray(q);
            Unpickler.Result first = Unpickler.load(seg, 2, q.length, Pickles.WHERE, torchHost(),
                    LoadLimits.defaults());
            assertSame(PyNone.NONE, first.value());
            assertEquals(6, first.end());
            Unpickler.Result second = Unpickler.load(seg, first.end(), q.length, Pickles.WHERE, torchHost(),
                    LoadLimits.defaults());
            assertEquals(2L, second.value());
            assertEquals(9, second.end());
        }

        @Test
        void stopNeedsExactlyOneValue() throws Exception {
            // Stricter than CPython, which returns the top and drops the rest (see UnpicklerRefusalTest)
            assertEquals(3L, load(b('(', 'K', 1, '(', 'K', 2, '1', '1', 'K', 3, '.')));
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 1, 2, 3, 4, 5})
        void protocolsZeroToFive(int protocol) throws Exception {
            assertSame(PyNone.NONE, load(b(0x80, protocol, 'N', '.')));
            // PROTO may appear anywhere
            assertSame(PyNone.NONE, load(b('N', 0x80, protocol, '.')));
        }

        @Test
        void protocolSixIsRefused() {
            MalformedCheckpointException e = refuse(MalformedCheckpointException.class,
                    "unsupported pickle protocol: 6",
                    b(0x80, 6, 'N', '.'));
            assertEquals(0, e.pickleOffset());
            refuse(MalformedCheckpointException.class, "unsupported pickle protocol: 255", b(0x80, 255, 'N', '.'));
        }

        @Test
        void frameIsIgnoredButSizeChecked() throws Exception {
            byte[] body = b(str("hi"), '.');
            assertEquals("hi", load(b(0x80, 4, 0x95, le64(body.length), body)));
            assertEquals("hi", load(b(0x80, 4, 0x95, le64(0), body)));
            // several frames, the last one ending at STOP
            assertEquals(List.of(1L, 2L), items(load(b(0x80, 4, 0x95, le64(3), '(', 'K', 1,
                    0x95, le64(4), 'K', 2, 'l', '.'))));
            refuse(MalformedCheckpointException.class, "FRAME of " + (body.length + 1) + " bytes",
                    b(0x80, 4, 0x95, le64(body.length + 1), body));
        }
    }

    @Nested
    class Containers {

        @Test
        void listFromMark() throws Exception {
            PyList l = assertInstanceOf(PyList.class, load(b('(', 'K', 1, 'K', 2, 'l', '.')));
            assertEquals(List.of(1L, 2L), List.copyOf(l));
            assertEquals(0, assertInstanceOf(PyList.class, load(b('(', 'l', '.'))).size());
            assertEquals(0, assertInstanceOf(PyList.class, load(b(']', '.'))).size());
        }

        @Test
        void dictFromMark() throws Exception {
            PyDict d = assertInstanceOf(PyDict.class, load(b('(', 'U', 1, 'a', 'K', 1, 'U', 1, 'b', 'K', 2, 'd', '.')));
            assertEquals(PyDict.Kind.DICT, d.kind());
            assertEquals(List.of("a", "b"), List.copyOf(d.keySet()));
            assertEquals(1L, d.get("a"));
            assertEquals(2L, d.get("b"));
            assertTrue(assertInstanceOf(PyDict.class, load(b('(', 'd', '.'))).isEmpty());
            assertTrue(assertInstanceOf(PyDict.class, load(b('}', '.'))).isEmpty());
        }

        @Test
        void tuples() throws Exception {
            assertEquals(List.of(1L, "a", PyNone.NONE), items(load(b('(', 'K', 1, 'U', 1, 'a', 'N', 't', '.'))));
            assertEquals(0, tuple(load(b('(', 't', '.'))).size());
            assertEquals(0, tuple(load(b(')', '.'))).size());
            assertEquals(List.of(1L), items(load(b('K', 1, 0x85, '.'))));
            assertEquals(List.of(1L, 2L), items(load(b('K', 1, 'K', 2, 0x86, '.'))));
            assertEquals(List.of(1L, 2L, 3L), items(load(b('K', 1, 'K', 2, 'K', 3, 0x87, '.'))));
            // tuples compare by value
            assertEquals(PyTuple.of(1L, "a"), load(b('K', 1, 'U', 1, 'a', 0x86, '.')));
            // TUPLE1..3 do not reach below the top of the stack
            PyTuple t = tuple(load(b('K', 1, 'K', 2, 0x85, 0x86, '.')));
            assertEquals(1L, t.get(0));
            assertEquals(PyTuple.of(2L), t.get(1));
        }

        @Test
        void appendAndAppends() throws Exception {
            assertEquals(List.of(1L, 2L), items(load(b(']', 'K', 1, 'a', 'K', 2, 'a', '.'))));
            assertEquals(List.of(1L, 2L, 3L), items(load(b(']', 'K', 1, 'a', '(', 'K', 2, 'K', 3, 'e', '.'))));
            assertEquals(List.of(), items(load(b(']', '(', 'e', '.'))));
        }

        @Test
        void setitemAndSetitemsKeepFirstPositionLastValue() throws Exception {
            PyDict d = assertInstanceOf(PyDict.class, load(b('}', 'U', 1, 'a', 'K', 1, 's',
                    '(', 'U', 1, 'b', 'K', 2, 'U', 1, 'a', 'K', 3, 'u', '.')));
            assertEquals(List.of("a", "b"), List.copyOf(d.keySet()));
            assertEquals(3L, d.get("a"));
            assertEquals(2L, d.get("b"));
            // keys of any hashable kind
            PyDict e = assertInstanceOf(PyDict.class, load(b('}', 'K', 1, 'K', 2, 0x86, 'N', 's',
                    'N', 'K', 3, 's', 0x88, 'K', 4, 's', '(', 0x91, 'K', 5, 's', '.')));
            assertEquals(PyNone.NONE, e.get(PyTuple.of(1L, 2L)));
            assertEquals(3L, e.get(PyNone.NONE));
            assertEquals(4L, e.get(Boolean.TRUE));
            assertEquals(4, e.size());
        }

        @Test
        void emptySetAdditemsFrozenset() throws Exception {
            PySet s = assertInstanceOf(PySet.class, load(b(0x8F, '.')));
            assertFalse(s.isFrozen());
            assertTrue(s.isEmpty());
            PySet t = assertInstanceOf(PySet.class, load(b(0x8F, '(', 'K', 1, 'K', 2, 'K', 1, 0x90, '(', 'K', 3,
                    0x90, '.')));
            assertFalse(t.isFrozen());
            assertEquals(List.of(1L, 2L, 3L), List.copyOf(t));
            PySet f = assertInstanceOf(PySet.class, load(b('(', 'K', 1, 'U', 1, 'a', 'K', 1, 0x91, '.')));
            assertTrue(f.isFrozen());
            assertEquals(List.of(1L, "a"), List.copyOf(f));
            PySet empty = assertInstanceOf(PySet.class, load(b('(', 0x91, '.')));
            assertTrue(empty.isFrozen());
            assertTrue(empty.isEmpty());
            // frozensets are hashable and compare by value
            PySet nested = assertInstanceOf(PySet.class, load(b('(', '(', 'K', 1, 0x91, '(', 'K', 1, 0x91, 0x91, '.')));
            assertEquals(1, nested.size());
        }
    }

    @Nested
    class Globals {

        @Test
        void globalGoesThroughTheHost() throws Exception {
            Pickles.RecordingHost host = new Pickles.RecordingHost();
            Object v = load(b(global("mymod", "Thing"), '.'), host);
            assertEquals(new AllowedGlobal("mymod.Thing"), v);
            assertEquals(List.of("mymod.Thing"), host.globals);
        }

        @Test
        void stackGlobalGoesThroughTheHost() throws Exception {
            Pickles.RecordingHost host = new Pickles.RecordingHost();
            Object v = load(b(0x80, 4, shortStr("collections"), shortStr("OrderedDict"), 0x93, '.'), host);
            assertSame(PyBuiltin.ORDERED_DICT, v);
            assertEquals(List.of("collections.OrderedDict"), host.globals);
            assertSame(PyBuiltin.ORDERED_DICT,
                    load(b(0x80, 4, shortStr("collections"), 0x94, shortStr("OrderedDict"), 0x94, 0x93, '.')));
        }

        @Test
        void pythonTwoNamesAreMapped() throws Exception {
            Pickles.RecordingHost host = new Pickles.RecordingHost();
            assertSame(PyBuiltin.SET, load(b(global("__builtin__", "set"), '.'), host));
            load(b(global("copy_reg", "_reconstructor"), '.'), host);
            load(b(global("__builtin__", "xrange"), '.'), host);
            load(b(global("__builtin__", "unicode"), '.'), host);
            load(b(global("UserDict", "IterableUserDict"), '.'), host);
            load(b(global("builtins", "set"), '.'), host);
            load(b(global("__builtin__x", "set"), '.'), host);
            load(b(shortStr("__builtin__"), shortStr("bytearray"), 0x93, '.'), host);
            load(b(shortStr("cStringIO"), shortStr("StringIO"), 0x93, '.'), host);
            assertEquals(List.of("builtins.set", "copyreg._reconstructor", "builtins.range", "builtins.str",
                    "collections.UserDict", "builtins.set", "__builtin__x.set", "builtins.bytearray",
                    "io.StringIO"), host.globals);
        }

        @Test
        void torchHostHandsOutTheBuiltins() throws Exception {
            assertSame(PyBuiltin.SET, load(b(global("__builtin__", "set"), '.')));
            assertSame(PyBuiltin.COMPLEX, load(b(global("builtins", "complex"), '.')));
            assertSame(PyBuiltin.CODECS_ENCODE, load(b(global("_codecs", "encode"), '.')));
            assertSame(PyBuiltin.COUNTER, load(b(shortStr("collections"), shortStr("Counter"), 0x93, '.')));
            assertSame(DType.FLOAT32, load(b(global("torch", "float32"), '.')));
        }
    }

    @Nested
    class Calls {

        @Test
        void reduceOrderedDict() throws Exception {
            PyDict empty = assertInstanceOf(PyDict.class, load(b(global("collections", "OrderedDict"), ')', 'R', '.')));
            assertEquals(PyDict.Kind.ORDERED_DICT, empty.kind());
            assertTrue(empty.isEmpty());
            PyDict filled = assertInstanceOf(PyDict.class, load(b(global("collections", "OrderedDict"),
                    ']', '(', 'U', 1, 'b', 'K', 1, 0x86, 'U', 1, 'a', 'K', 2, 0x86, 'e', 0x85, 'R', '.')));
            assertEquals(PyDict.Kind.ORDERED_DICT, filled.kind());
            assertEquals(List.of("b", "a"), List.copyOf(filled.keySet()));
            assertEquals(2L, filled.get("a"));
        }

        @Test
        void reduceCounter() throws Exception {
            PyDict c = assertInstanceOf(PyDict.class, load(b(global("collections", "Counter"),
                    '}', 'U', 1, 'x', 'K', 3, 's', 0x85, 'R', '.')));
            assertEquals(PyDict.Kind.COUNTER, c.kind());
            assertEquals(Map.of("x", 3L), Map.copyOf(c));
        }

        @Test
        void reduceCounterOfAListCountsItsElements() throws Exception {
            // Counter(iterable) counts; only OrderedDict takes a list of (key, value) pairs
            PyDict c = assertInstanceOf(PyDict.class, load(b(global("collections", "Counter"),
                    ']', '(', 'U', 1, 'a', 'U', 1, 'b', 'U', 1, 'a', 'e', 0x85, 'R', '.')));
            assertEquals(PyDict.Kind.COUNTER, c.kind());
            assertEquals(List.of("a", "b"), List.copyOf(c.keySet()));
            assertEquals(2L, c.get("a"));
            assertEquals(1L, c.get("b"));
            PyDict pairs = assertInstanceOf(PyDict.class, load(b(global("collections", "Counter"),
                    ']', 'U', 1, 'x', 'K', 5, 0x86, 'a', 0x85, 'R', '.')));
            assertEquals(1L, pairs.get(PyTuple.of("x", 5L)));
            refuse(MalformedCheckpointException.class, "unhashable type: 'list'", b(global("collections", "Counter"),
                    ']', ']', 'a', 0x85, 'R', '.'));
        }

        @Test
        void reduceSet() throws Exception {
            PySet s = assertInstanceOf(PySet.class, load(b(global("__builtin__", "set"),
                    ']', '(', 'K', 1, 'K', 2, 'K', 1, 'e', 0x85, 'R', '.')));
            assertFalse(s.isFrozen());
            assertEquals(List.of(1L, 2L), List.copyOf(s));
            assertTrue(assertInstanceOf(PySet.class, load(b(global("builtins", "set"), ')', 'R', '.'))).isEmpty());
        }

        @Test
        void reduceBytearray() throws Exception {
            PyBytes a = assertInstanceOf(PyBytes.class, load(b(global("__builtin__", "bytearray"),
                    'C', 3, "abc", 0x85, 'R', '.')));
            assertTrue(a.isByteArray());
            assertEquals("abc", new String(a.toByteArray(), StandardCharsets.US_ASCII));
            // protocol 2 writes bytearray(_codecs.encode(text, 'latin1'))
            PyBytes p2 = assertInstanceOf(PyBytes.class, load(b(0x80, 2, global("__builtin__", "bytearray"),
                    global("_codecs", "encode"), str("\u00ff\u0000"), str("latin1"), 0x86, 'R', 0x85, 'R', '.')));
            assertTrue(p2.isByteArray());
            assertEquals(PyBytes.of(new byte[] {(byte) 0xFF, 0}), p2);
            assertEquals(0, ((PyBytes) load(b(global("builtins", "bytearray"), ')', 'R', '.'))).length());
        }

        @Test
        void reduceComplex() throws Exception {
            assertEquals(new PyComplex(1.5, -2.0), load(b(global("__builtin__", "complex"),
                    'G', be64(1.5), 'G', be64(-2.0), 0x86, 'R', '.')));
            assertEquals(new PyComplex(1.0, 2.0),
                    load(b(global("builtins", "complex"), 'K', 1, 'K', 2, 0x86, 'R', '.')));
            assertEquals(new PyComplex(0.0, 0.0), load(b(global("builtins", "complex"), ')', 'R', '.')));
        }

        @Test
        void reduceCodecsEncodeLatin1RoundTripsEveryByte() throws Exception {
            StringBuilder text = new StringBuilder();
            byte[] expected = new byte[256];
            for (int i = 0; i < 256; i++) {
                text.append((char) i);
                expected[i] = (byte) i;
            }
            for (String codec : List.of("latin1", "latin-1", "iso-8859-1", "ISO_8859_1", "l1")) {
                PyBytes bytes = assertInstanceOf(PyBytes.class, load(b(global("_codecs", "encode"),
                        str(text.toString()), str(codec), 0x86, 'R', '.')));
                assertFalse(bytes.isByteArray());
                assertEquals(PyBytes.of(expected), bytes, codec);
            }
            assertEquals(PyBytes.of("\u00e9".getBytes(StandardCharsets.UTF_8)), load(b(global("_codecs", "encode"),
                    str("\u00e9"), str("utf-8"), 0x86, 'R', '.')));
            assertEquals(PyBytes.of(new byte[] {'a'}), load(b(global("_codecs", "encode"),
                    str("a"), str("ascii"), 0x86, 'R', '.')));
            // a lone surrogate has no UTF-8 form (Python raises UnicodeEncodeError); it is never written as '?'
            refuse(MalformedCheckpointException.class, "'utf-8' codec can't encode character U+D800: surrogates not"
                    + " allowed", b(global("_codecs", "encode"), 'X', le32(3), 0xED, 0xA0, 0x80, str("utf-8"), 0x86,
                    'R', '.'));
            refuse(MalformedCheckpointException.class, "'ascii' codec can't encode character U+E9: ordinal not in"
                    + " range(128)", b(global("_codecs", "encode"),
                    str("\u00e9"), str("ascii"), 0x86, 'R', '.'));
        }

        @Test
        void newobjOfOrderedDict() throws Exception {
            PyDict d = assertInstanceOf(PyDict.class, load(b(global("collections", "OrderedDict"), ')', 0x81,
                    '(', 'U', 1, 'a', 'K', 1, 'u', '.')));
            assertEquals(PyDict.Kind.ORDERED_DICT, d.kind());
            assertEquals(Map.of("a", 1L), Map.copyOf(d));
            PyDict c = assertInstanceOf(PyDict.class, load(b(global("collections", "Counter"), ')', 0x81, '.')));
            assertEquals(PyDict.Kind.COUNTER, c.kind());
            PySet s = assertInstanceOf(PySet.class, load(b(global("builtins", "set"), ')', 0x81, '.')));
            assertFalse(s.isFrozen());
        }

        @Test
        void newobjExWithoutKeywords() throws Exception {
            PyDict d = assertInstanceOf(PyDict.class, load(b(0x80, 4, shortStr("collections"),
                    shortStr("OrderedDict"), 0x93, ')', '}', 0x92, '.')));
            assertEquals(PyDict.Kind.ORDERED_DICT, d.kind());
        }

        @Test
        void buildOfAnOrderedDictSetsAttributes() throws Exception {
            // state_dict(): OrderedDict whose _metadata ({'': {'version': 1}}) BUILD puts in __dict__
            PyDict d = assertInstanceOf(PyDict.class, load(b(0x80, 2, global("collections", "OrderedDict"), ')', 'R',
                    '(', 'U', 1, 'w', 'K', 1, 'u',
                    '}', 'U', 9, "_metadata", '}', 'U', 0, '}', 'U', 7, "version", 'K', 1, 's', 's', 's',
                    'b', '.')));
            assertEquals(Map.of("w", 1L), Map.copyOf(d));
            assertEquals(Set.of("_metadata"), d.attributes().keySet());
            PyDict metadata = assertInstanceOf(PyDict.class, d.attributes().get("_metadata"));
            PyDict root = assertInstanceOf(PyDict.class, metadata.get(""));
            assertEquals(1L, root.get("version"));
            // a second BUILD adds to the attributes
            PyDict twice = assertInstanceOf(PyDict.class, load(b(global("collections", "OrderedDict"), ')', 'R',
                    '}', 'U', 1, 'a', 'K', 1, 's', 'b', '}', 'U', 1, 'b', 'K', 2, 's', 'b', '.')));
            assertEquals(Map.of("a", 1L, "b", 2L), twice.attributes());
            assertTrue(twice.isEmpty());
        }

        @Test
        void instAndObj() throws Exception {
            assertEquals(new PyComplex(1.0, 2.0), load(b('(', 'K', 1, 'K', 2, "i__builtin__\ncomplex\n", '.')));
            assertEquals(new PyComplex(1.0, 2.0),
                    load(b('(', global("builtins", "complex"), 'K', 1, 'K', 2, 'o', '.')));
            PyDict d = assertInstanceOf(PyDict.class, load(b('(', "icollections\nOrderedDict\n", '.')));
            assertEquals(PyDict.Kind.ORDERED_DICT, d.kind());
            PyDict e = assertInstanceOf(PyDict.class, load(b('(', global("collections", "OrderedDict"), 'o', '.')));
            assertEquals(PyDict.Kind.ORDERED_DICT, e.kind());
        }

        @Test
        void allowedGlobalsBecomeInertObjectsThatBuildRecords() throws Exception {
            TorchUnpicklerHost host = Pickles.torchHost(Set.of("mymod.Thing"), LoadLimits.defaults());
            PyObject o = assertInstanceOf(PyObject.class, load(b(global("mymod", "Thing"), 'K', 1, 0x85, 0x81,
                    '}', 'U', 1, 'a', 'K', 2, 's', 'b', '.'), host));
            assertEquals("mymod.Thing", o.className());
            assertEquals(PyTuple.of(1L), o.args());
            assertEquals(Map.of("a", 2L), Map.copyOf((PyDict) o.state()));
            PyObject r = assertInstanceOf(PyObject.class, load(b(global("mymod", "Thing"), ')', 'R', '.'),
                    Pickles.torchHost(Set.of("mymod.Thing"), LoadLimits.defaults())));
            assertSame(PyNone.NONE, r.state());
        }

        @Test
        void buildOnAForeignObjectAsksTheHost() throws Exception {
            Pickles.RecordingHost host = new Pickles.RecordingHost();
            Object v = load(b("Pid\n", 'K', 4, 'b', '.'), host);
            assertEquals(1, host.builds.size());
            assertSame(v, host.builds.get(0)[0]);
            assertEquals(4L, host.builds.get(0)[1]);
        }

        @Test
        void persidAndBinpersidGoThroughTheHost() throws Exception {
            Pickles.RecordingHost host = new Pickles.RecordingHost();
            assertEquals(new Pickles.Loaded("abc"), load(b("Pabc\n.")  , host));
            assertEquals(new Pickles.Loaded(PyTuple.of("a", 1L)),
                    load(b('(', 'U', 1, 'a', 'K', 1, 't', 'Q', '.'), host));
            assertEquals(List.of("abc", PyTuple.of("a", 1L)), host.persistentIds);
        }

        @Test
        void binpersidOfATorchStorageIsLoadedOnceAndShared() throws Exception {
            List<String> asked = new ArrayList<>();
            TorchUnpicklerHost host = new TorchUnpicklerHost((key, site) -> {
                asked.add(key);
                return MemorySegment.ofArray(new byte[8]);
            }, false, Set.of(), LoadLimits.defaults());
            byte[] pid = b('(', str("storage"), global("torch", "FloatStorage"), str("0"), str("cpu"), 'K', 2, 't',
                    'Q');
            PyTuple t = tuple(load(b('(', pid, pid, 't', '.'), host));
            TorchStorage s = assertInstanceOf(TorchStorage.class, t.get(0));
            assertSame(s, t.get(1));
            assertEquals(DType.FLOAT32, s.dtype());
            assertEquals(List.of("0"), asked);
        }
    }

    @Test
    void aProtocolTwoStateDictShapedPickle() throws Exception {
        // every opcode torch.save writes for a state dict with metadata, minus the tensors
        byte[] p = b(0x80, 2, global("collections", "OrderedDict"), 'q', 0, ')', 'R', 'q', 1,
                '(', 'X', le32(1), "a", 'q', 2, 'K', 1, 'X', le32(1), "b", 'q', 3,
                'G', be64(0.25), 'u', '}', 'q', 4, 'X', le32(9), "_metadata", 'q', 5,
                'h', 0, ')', 'R', 'q', 6, 'X', le32(0), '}', 'X', le32(7), "version", 'K', 1, 's', 's', 's', 'b', '.');
        PyDict d = assertInstanceOf(PyDict.class, load(p));
        assertEquals(List.of("a", "b"), List.copyOf(d.keySet()));
        assertEquals(0.25, d.get("b"));
        PyDict metadata = assertInstanceOf(PyDict.class, d.attributes().get("_metadata"));
        assertEquals(PyDict.Kind.ORDERED_DICT, metadata.kind());
        assertEquals(1L, ((PyDict) metadata.get("")).get("version"));
    }

    @Test
    void deepButLegalNestingLoads() throws Exception {
        // a thousand nested lists: the machine never recurses on the input's structure
        byte[] p = b(Pickles.repeat(b(']'), 1000), Pickles.repeat(b('a'), 999), '.');
        int depth = 1;
        for (PyList l = (PyList) load(p); !l.isEmpty(); l = (PyList) l.get(0)) {
            depth++;
        }
        assertEquals(1000, depth);
    }

    @Test
    void unsafeAndUnsupportedAreDistinctTypes() {
        // sanity for the refusal helper used above
        refuse(UnsafeCheckpointException.class, "Unsupported operand 130", b(0x82, 1, '.'));
        refuse(UnsupportedCheckpointException.class, "Unsupported operand 151", b(0x97, '.'));
    }
}
