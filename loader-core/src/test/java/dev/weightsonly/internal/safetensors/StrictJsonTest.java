package dev.weightsonly.internal.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The strict JSON reader: RFC 8259 and nothing more, duplicates refused, nesting bounded. */
class StrictJsonTest {

    private static StrictJson json(String text) {
        return new StrictJson(text.getBytes(StandardCharsets.UTF_8), 127);
    }

    /** Reads one value of any kind, then requires the end. */
    private static void skipAll(String text) throws StrictJson.SyntaxError {
        StrictJson j = json(text);
        j.skipValue();
        j.finish();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "[]", " { } ", "0", "-0", "1.5e-3", "-12E+4", "1E300", "123456789012345678901234567890", "\"\"", "true", "false",
            "null", "{\"a\":[1,{\"b\":null},\"c\"],\"d\":{}}", "[\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\"]",
            "\t\r\n[1 , 2 ]\n"})
    void acceptsJson(String text) throws StrictJson.SyntaxError {
        skipAll(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "{", "[1,]", "{\"a\":1,}", "{,}", "[,1]", "01", "-", "1.", ".5", "1e", "+1",
            "NaN", "Infinity", "1E400", "-1e309", "nul", "tru", "'a'", "{a:1}", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
            "\"\\ud800\\u0041\"", "\"a\nb\"", "\"\u0001\"", "[1] x", "{} {}", "\ufeff{}", "{\"a\" 1}", "[1 2]",
            "{\"a\":1 \"b\":2}", "/* c */ {}", "\"unterminated"})
    void refusesEverythingElse(String text) {
        assertThrows(StrictJson.SyntaxError.class, () -> skipAll(text), text);
    }

    @Test
    void refusesRepeatedKeysAtAnyDepth() {
        StrictJson.SyntaxError top = assertThrows(StrictJson.SyntaxError.class, () -> skipAll("{\"a\":1,\"a\":2}"));
        assertTrue(top.getMessage().startsWith("duplicate key 'a' at header byte 7"), top.getMessage());
        assertThrows(StrictJson.SyntaxError.class, () -> skipAll("[{\"x\":{\"k\":1,\"k\":1}}]"));
        // escapes are decoded before comparing: "a" and "\u0061" are the same key
        assertThrows(StrictJson.SyntaxError.class, () -> skipAll("{\"a\":1,\"\\u0061\":2}"));
    }

    @Test
    void nestingStopsAt127Containers() throws StrictJson.SyntaxError {
        skipAll("[".repeat(127) + "]".repeat(127));
        StrictJson.SyntaxError e = assertThrows(StrictJson.SyntaxError.class,
                () -> skipAll("[".repeat(128) + "]".repeat(128)));
        assertTrue(e.getMessage().contains("nested more than 127"), e.getMessage());
        // a deep hostile input fails fast, without recursing through all of it
        assertThrows(StrictJson.SyntaxError.class, () -> skipAll("[".repeat(1_000_000)));
    }

    @Test
    void pullsObjectsAndArrays() throws StrictJson.SyntaxError {
        StrictJson j = json("{\"name\":\"v\\u00e9\",\"n\":[0,18446744073709551615],\"skip\":{\"x\":[true]}}");
        j.beginObject();
        assertEquals("name", j.nextName());
        assertEquals("vé", j.string());
        assertEquals("n", j.nextName());
        j.beginArray();
        assertTrue(j.nextElement());
        assertEquals(0, j.unsignedLong());
        assertTrue(j.nextElement());
        assertEquals(-1L, j.unsignedLong(), "2^64 - 1 as unsigned bits");
        assertFalse(j.nextElement());
        assertEquals("skip", j.nextName());
        assertEquals(StrictJson.Kind.OBJECT, j.peek());
        j.skipValue();
        assertNull(j.nextName());
        j.finish();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "1.0", "1e2", "18446744073709551616", "99999999999999999999", "-0", "\"1\""})
    void unsignedLongIsAUsize(String text) {
        assertThrows(StrictJson.SyntaxError.class, () -> json(text).unsignedLong(), text);
    }

    @Property
    void unsignedLongReadsEveryUsize(@ForAll @LongRange(min = Long.MIN_VALUE, max = Long.MAX_VALUE) long bits)
            throws StrictJson.SyntaxError {
        assertEquals(bits, json(Long.toUnsignedString(bits)).unsignedLong());
    }

    @Test
    void findsInvalidUtf8() {
        assertEquals(-1, StrictJson.firstInvalidUtf8("aé€😀".getBytes(StandardCharsets.UTF_8)));
        assertEquals(1, StrictJson.firstInvalidUtf8(new byte[] {'a', (byte) 0xFF}));
        assertEquals(0, StrictJson.firstInvalidUtf8(new byte[] {(byte) 0xC0, (byte) 0xAF})); // overlong '/'
        assertEquals(0, StrictJson.firstInvalidUtf8(new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}));
        assertEquals(0, StrictJson.firstInvalidUtf8(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})); // U+D800
        assertEquals(0, StrictJson.firstInvalidUtf8(new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}));
        assertEquals(0, StrictJson.firstInvalidUtf8(new byte[] {(byte) 0xE2, (byte) 0x82})); // truncated
        assertEquals(0, StrictJson.firstInvalidUtf8(new byte[] {(byte) 0x80}));
    }
}
