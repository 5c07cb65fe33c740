package dev.weightsonly.python;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.IdentityHashMap;

/**
 * Keyed hashes of Python values: SipHash-1-3 (the function CPython hashes str and bytes with) under a
 * secret drawn once per process. Java's own hash codes of strings, numbers, arrays and lists are public
 * functions, so a file can hold tens of thousands of distinct keys with one hash code and turn building a
 * dict into quadratic work (a 480 KB pickle of tuple keys took 37 s). Without the secret no input can be
 * made to collide more often than chance, so dicts and sets are built in expected linear time for any keys.
 * No hash ever reaches an output (dicts keep insertion order and the dump sorts sets by text), so the
 * secret cannot be learnt from one.
 *
 * <p>Values are hashed as a sequence of 64-bit words: a tag naming the form, then the form's contents
 * (lengths included), so that different forms never share an encoding.
 */
final class PyHash {

    private static final long K0;
    private static final long K1;

    static {
        SecureRandom random = new SecureRandom();
        K0 = random.nextLong();
        K1 = random.nextLong();
    }

    // Form tags: each encoding starts with one, so no two forms share an encoding.
    static final long INT = 1;
    static final long BIG_INT = 2;
    static final long FLOAT = 3;
    static final long COMPLEX = 4;
    static final long STR = 5;
    static final long BYTES = 6;
    static final long NONE = 7;
    static final long TUPLE = 8;
    static final long FROZENSET = 9;
    static final long IDENTITY = 10;
    static final long OTHER = 11;
    static final long BOOL = 12;
    static final long SIZE = 13;

    // Strings, bytes and ints at least this long have their hash remembered per object during a load, so
    // that one long string reached through the memo many times is hashed once (as CPython caches it).
    static final int CACHED_LENGTH = 32;
    private static final ThreadLocal<Cache> CACHE = new ThreadLocal<>();

    private long v0 = K0 ^ 0x736f6d6570736575L;
    private long v1 = K1 ^ 0x646f72616e646f6dL;
    private long v2 = K0 ^ 0x6c7967656e657261L;
    private long v3 = K1 ^ 0x7465646279746573L;
    private long words;

    private PyHash(long tag) {
        word(tag);
    }

    static PyHash start(long tag) {
        return new PyHash(tag);
    }

    PyHash word(long m) {
        v3 ^= m;
        round();
        v0 ^= m;
        words++;
        return this;
    }

    long finish() {
        long b = (words * 8) << 56;
        v3 ^= b;
        round();
        v0 ^= b;
        v2 ^= 0xff;
        round();
        round();
        round();
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private void round() {
        v0 += v1;
        v1 = Long.rotateLeft(v1, 13);
        v1 ^= v0;
        v0 = Long.rotateLeft(v0, 32);
        v2 += v3;
        v3 = Long.rotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = Long.rotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = Long.rotateLeft(v1, 17);
        v1 ^= v2;
        v2 = Long.rotateLeft(v2, 32);
    }

    static long of(long tag, long value) {
        return start(tag).word(value).finish();
    }

    static long of(long tag, long a, long b) {
        return start(tag).word(a).word(b).finish();
    }

    /** Folds a 64-bit hash to a Java hash code. */
    static int fold(long h) {
        return (int) (h ^ (h >>> 32));
    }

    static long ofIdentity(Object o) {
        return of(IDENTITY, System.identityHashCode(o));
    }

    static long ofString(String s) {
        if (s.length() < CACHED_LENGTH) {
            return stringHash(s);
        }
        return cached(s);
    }

    static long ofBytes(PyBytes b) {
        if (b.length() < CACHED_LENGTH) {
            return bytesHash(b);
        }
        return cached(b);
    }

    /** A Python int beyond 64 bits (an exact integer, as a normalized key holds it). */
    static long ofBigInteger(BigInteger b) {
        if (b.bitLength() < 64 * 4) {
            return bigHash(b);
        }
        return cached(b);
    }

    private static long stringHash(String s) {
        PyHash h = start(STR).word(s.length());
        int n = s.length();
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            h.word(s.charAt(i) | (long) s.charAt(i + 1) << 16 | (long) s.charAt(i + 2) << 32
                    | (long) s.charAt(i + 3) << 48);
        }
        long last = 0;
        for (int shift = 0; i < n; i++, shift += 16) {
            last |= (long) s.charAt(i) << shift;
        }
        return h.word(last).finish();
    }

    private static long bytesHash(PyBytes b) {
        return words(start(BYTES), b.bytes()).finish();
    }

    private static long bigHash(BigInteger b) {
        return words(start(BIG_INT), b.toByteArray()).finish();
    }

    private static PyHash words(PyHash h, byte[] data) {
        h.word(data.length);
        int i = 0;
        for (; i + 8 <= data.length; i += 8) {
            long w = 0;
            for (int j = 7; j >= 0; j--) {
                w = (w << 8) | (data[i + j] & 0xFF);
            }
            h.word(w);
        }
        long last = 0;
        for (int shift = 0; i < data.length; i++, shift += 8) {
            last |= (long) (data[i] & 0xFF) << shift;
        }
        return h.word(last);
    }

    /** The tuple a tuple-like value equals, made once per object during a load (its key is then reused). */
    static PyTuple tupleOf(TupleValue value) {
        Cache cache = CACHE.get();
        if (cache == null) {
            return value.asTuple();
        }
        return (PyTuple) cache.values.computeIfAbsent(value, v -> ((TupleValue) v).asTuple());
    }

    private static long cached(Object value) {
        Cache cache = CACHE.get();
        if (cache != null) {
            Object known = cache.values.get(value);
            if (known != null) {
                return (Long) known;
            }
        }
        long h = switch (value) {
            case String s -> stringHash(s);
            case PyBytes b -> bytesHash(b);
            case BigInteger b -> bigHash(b);
            default -> throw new IllegalArgumentException(value.getClass().getName());
        };
        if (cache != null) {
            cache.values.put(value, h);
        }
        return h;
    }

    /**
     * Remembers the hashes of long strings, bytes and ints per object until closed (the whole of a load):
     * the work of hashing then stays within the size of the input, however often the memo repeats a value.
     * Scopes nest; the outermost one ends the cache.
     */
    static Scope scope() {
        Cache cache = CACHE.get();
        if (cache == null) {
            cache = new Cache();
            CACHE.set(cache);
        }
        cache.depth++;
        return new Scope(cache);
    }

    private static final class Cache {
        // by identity: an object's identity hash is the JVM's, not the file's
        // a hash (Long) or, for a tuple-like value, its tuple
        final IdentityHashMap<Object, Object> values = new IdentityHashMap<>();
        int depth;
    }

    /** Ends a {@link #scope()}. */
    static final class Scope implements AutoCloseable {
        private final Cache cache;
        private boolean closed;

        private Scope(Cache cache) {
            this.cache = cache;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                if (--cache.depth == 0) {
                    CACHE.remove();
                }
            }
        }
    }
}
