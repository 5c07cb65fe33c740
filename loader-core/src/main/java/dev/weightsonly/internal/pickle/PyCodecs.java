package dev.weightsonly.internal.pickle;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.python.PyValues;
import java.io.ByteArrayOutputStream;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code str.encode(encoding, errors)} for the data encodings a pickle uses ({@code _codecs.encode(s, 'latin1')}
 * is how protocol 2 writes bytes; {@code bytearray(s, encoding)} takes the same arguments): UTF-8, Latin-1 and
 * ASCII under any of Python's names for them. The error handler is consulted only for a character the
 * encoding cannot write, as in Python (so {@code 'a'.encode('ascii', 'anything')} is {@code b'a'}).
 */
final class PyCodecs {

    private enum Codec { UTF_8, LATIN_1, ASCII }

    // Python's encodings.aliases for the three codecs, after encodings.normalize_encoding
    private static final Map<String, Codec> NAMES = names();

    private static final Set<String> OTHER_HANDLERS = Set.of("backslashreplace", "xmlcharrefreplace", "namereplace",
            "surrogateescape");

    private PyCodecs() {
    }

    private static Map<String, Codec> names() {
        Map<String, Codec> m = new java.util.HashMap<>();
        for (String n : new String[] {"utf_8", "utf8", "u8", "utf", "utf8_ucs2", "utf8_ucs4", "cp65001"}) {
            m.put(n, Codec.UTF_8);
        }
        for (String n : new String[] {"latin_1", "latin1", "iso_8859_1", "iso8859_1", "8859", "cp819", "ibm819",
                "iso_ir_100", "l1", "latin", "csisolatin1", "iso_8859_1_1987"}) {
            m.put(n, Codec.LATIN_1);
        }
        for (String n : new String[] {"ascii", "646", "ansi_x3.4_1968", "ansi_x3_4_1968", "ansi_x3.4_1986",
                "ansi_x3_4_1986", "cp367", "csascii", "ibm367", "iso646_us", "iso_646.irv_1991", "iso_646_irv_1991",
                "iso_ir_6", "us", "us_ascii"}) {
            m.put(n, Codec.ASCII);
        }
        return Map.copyOf(m);
    }

    /** Python's {@code encodings.normalize_encoding} of a lower-cased name: runs of punctuation become one '_'. */
    private static String normalize(String encoding) {
        StringBuilder sb = new StringBuilder();
        boolean punct = false;
        for (int i = 0; i < encoding.length(); i++) {
            char c = Character.toLowerCase(encoding.charAt(i));
            if (Character.isLetterOrDigit(c) || c == '.') {
                if (punct && !sb.isEmpty()) {
                    sb.append('_');
                }
                if (c < 128) {
                    sb.append(c);
                }
                punct = false;
            } else {
                punct = true;
            }
        }
        return sb.toString();
    }

    /**
     * {@code text.encode(encoding, errors)}.
     *
     * @return the encoded bytes
     */
    static byte[] encode(String text, String encoding, String errors, CallSite site) throws CheckpointException {
        String name = normalize(encoding);
        Codec codec = NAMES.get(name);
        if (codec == null) {
            codec = NAMES.get(name.replace('.', '_'));
        }
        if (codec == null) {
            throw site.unsupported("encoding to " + PyValues.shortRepr(encoding)
                    + " (only UTF-8, Latin-1 and ASCII, the data encodings, are supported)");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        int limit = codec == Codec.LATIN_1 ? 0xFF : codec == Codec.ASCII ? 0x7F : Integer.MAX_VALUE;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            boolean lone = cp >= 0xD800 && cp <= 0xDFFF;
            if (cp <= limit && !lone) {
                if (codec == Codec.UTF_8) {
                    Utf8.writeCodePoint(cp, out);
                } else {
                    out.write(cp);
                }
                continue;
            }
            // a character this encoding cannot write: now the error handler decides
            switch (errors) {
                case "strict" -> throw site.malformed("'" + codecName(codec) + "' codec can't encode character U+"
                        + Integer.toHexString(cp).toUpperCase(Locale.ROOT) + ": "
                        + (lone ? "surrogates not allowed" : "ordinal not in range(" + (limit + 1) + ")"));
                case "ignore" -> { }
                case "replace" -> out.write('?');
                case "surrogatepass" -> {
                    if (codec != Codec.UTF_8 || !lone) {
                        throw site.malformed("'" + codecName(codec) + "' codec can't encode character U+"
                                + Integer.toHexString(cp).toUpperCase(Locale.ROOT) + " (surrogatepass)");
                    }
                    Utf8.writeCodePoint(cp, out); // a lone surrogate as its three UTF-8 bytes
                }
                default -> {
                    if (OTHER_HANDLERS.contains(errors)) {
                        throw site.unsupported("encoding with errors=" + PyValues.shortRepr(errors)
                                + " (strict, ignore, replace and surrogatepass are supported)");
                    }
                    throw site.malformed("unknown error handler name " + PyValues.shortRepr(errors));
                }
            }
        }
        return out.toByteArray();
    }

    private static String codecName(Codec codec) {
        return switch (codec) {
            case UTF_8 -> "utf-8";
            case LATIN_1 -> "latin-1";
            case ASCII -> "ascii";
        };
    }
}
