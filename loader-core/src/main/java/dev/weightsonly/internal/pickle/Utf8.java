package dev.weightsonly.internal.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 as Python does it for pickles: decoding strict, or strict but letting lone surrogates pass, and encoding
 * with {@code surrogatepass}.
 */
public final class Utf8 {

    private Utf8() {
    }

    /**
     * Python's {@code s.encode('utf-8', 'surrogatepass')}, which pickle uses for str: a lone surrogate as its
     * three bytes.
     *
     * @param s the text
     * @return its UTF-8 bytes
     */
    public static byte[] encodeSurrogatePass(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 8);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i); // a lone surrogate is returned as itself
            i += Character.charCount(cp);
            writeCodePoint(cp, out);
        }
        return out.toByteArray();
    }

    /** Appends the UTF-8 bytes of one code point (of a lone surrogate too: three bytes). */
    static void writeCodePoint(int cp, ByteArrayOutputStream out) {
        if (cp < 0x80) {
            out.write(cp);
        } else if (cp < 0x800) {
            out.write(0xC0 | cp >> 6);
            out.write(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out.write(0xE0 | cp >> 12);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        } else {
            out.write(0xF0 | cp >> 18);
            out.write(0x80 | cp >> 12 & 0x3F);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        }
    }

    /** Strict UTF-8; null if the bytes are not valid UTF-8. */
    static String strict(byte[] bytes) {
        if (isAscii(bytes)) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /**
     * UTF-8 with Python's {@code surrogatepass}: a surrogate code point encoded as three bytes
     * ({@code ED A0..BF xx}) decodes to that lone surrogate. Null if the bytes are otherwise invalid.
     */
    static String surrogatePass(byte[] bytes) {
        String s = strict(bytes);
        return s != null ? s : decodeAllowingSurrogates(bytes);
    }

    private static boolean isAscii(byte[] bytes) {
        return isAscii(bytes, 0, bytes.length);
    }

    /** Whether {@code bytes[from, from + n)} are all ASCII. */
    static boolean isAscii(byte[] bytes, int from, int n) {
        for (int i = from; i < from + n; i++) {
            if (bytes[i] < 0) {
                return false;
            }
        }
        return true;
    }

    private static String decodeAllowingSurrogates(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length);
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xFF;
            int cp;
            int n;
            if (c < 0x80) {
                cp = c;
                n = 1;
            } else if (c >= 0xC2 && c <= 0xDF) {
                cp = c & 0x1F;
                n = 2;
            } else if (c >= 0xE0 && c <= 0xEF) {
                cp = c & 0x0F;
                n = 3;
            } else if (c >= 0xF0 && c <= 0xF4) {
                cp = c & 0x07;
                n = 4;
            } else {
                return null;
            }
            if (i + n > b.length) {
                return null;
            }
            for (int k = 1; k < n; k++) {
                int cc = b[i + k] & 0xFF;
                if ((cc & 0xC0) != 0x80) {
                    return null;
                }
                cp = (cp << 6) | (cc & 0x3F);
            }
            // Reject overlong forms and values past U+10FFFF; surrogates are what we let pass.
            if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
                return null;
            }
            sb.appendCodePoint(cp);
            i += n;
        }
        return sb.toString();
    }
}
