package dev.weightsonly.internal.torch;

import dev.weightsonly.internal.container.StorageNumber;
import dev.weightsonly.internal.paged.ObjectPages;
import dev.weightsonly.torch.TorchStorage;
import java.security.SecureRandom;

/**
 * The storages a zip load has made, by storage key (exactly, as torch's {@code loaded_storages} dict): two arrays
 * with open addressing rather than a {@code HashMap}, whose node per entry would stay live for the whole load
 * (an optimizer state holds 300,000 storages, each one more object for the garbage collector to copy while the
 * load goes on). Made for the number of records of the archive, so that a load never grows it.
 */
final class StorageCache {

    // torch.save numbers its storages "0", "1", ... in the order it meets them: such a key below the record count is
    // its own slot here (the decimal form of a number is unique, so no two keys share one), with no hash, no probe
    // and a lookup next to the one before. Any other key goes to the hash table, made when the first one comes.
    // Paged (dev.weightsonly.internal.paged): one array for 300,000 storages would be one G1 allocates as humongous.
    private final ObjectPages<TorchStorage> numbered;
    private final int expected;
    private String[] keys;
    private TorchStorage[] values;
    // Each key's spread hash, compared before the key itself: nearly every lookup of a load misses (each storage
    // is asked for once), and a miss then reads no key but the arrays.
    private int[] hashes;
    private int size;
    private int hashed; // the keys in the hash table

    /** A cache that holds {@code expected} storages without growing. */
    StorageCache(int expected) {
        this.expected = Math.max(0, Math.min(expected, 1 << 24));
        numbered = new ObjectPages<>(this.expected);
    }

    /** The storage of {@code key}, or null. */
    TorchStorage get(String key) {
        int number = StorageNumber.of(key, numbered.length());
        if (number >= 0) {
            return numbered.get(number);
        }
        if (keys == null) {
            return null;
        }
        int mask = keys.length - 1;
        int hash = hash(key);
        for (int i = hash & mask; keys[i] != null; i = (i + 1) & mask) {
            if (hashes[i] == hash && keys[i].equals(key)) {
                return values[i];
            }
        }
        return null;
    }

    /** Keeps {@code storage} as the storage of {@code key} (in place of any it held). */
    void put(String key, TorchStorage storage) {
        int number = StorageNumber.of(key, numbered.length());
        if (number >= 0) {
            if (numbered.get(number) == null) {
                size++;
            }
            numbered.set(number, storage);
            return;
        }
        if (keys == null) {
            // the least power of two at least 1.5 times the record count: probes stay short (each compares a hash first)
            int capacity = Integer.highestOneBit(Math.max(8, expected) * 3 / 2 - 1) << 1;
            keys = new String[capacity];
            values = new TorchStorage[capacity];
            hashes = new int[capacity];
        }
        if (4L * (hashed + 1) > 3L * keys.length) {
            grow();
        }
        if (insert(key, hash(key), storage)) {
            size++;
            hashed++;
        }
    }

    int size() {
        return size;
    }

    /** Whether {@code key} is new. */
    private boolean insert(String key, int hash, TorchStorage storage) {
        int mask = keys.length - 1;
        int i = hash & mask;
        while (keys[i] != null && !(hashes[i] == hash && keys[i].equals(key))) {
            i = (i + 1) & mask;
        }
        boolean fresh = keys[i] == null;
        keys[i] = key;
        values[i] = storage;
        hashes[i] = hash;
        return fresh;
    }

    private void grow() {
        String[] oldKeys = keys;
        TorchStorage[] oldValues = values;
        int[] oldHashes = hashes;
        keys = new String[oldKeys.length * 2];
        values = new TorchStorage[oldValues.length * 2];
        hashes = new int[oldHashes.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != null) {
                insert(oldKeys[i], oldHashes[i], oldValues[i]);
            }
        }
    }

    /**
     * A key's hash under a secret drawn once per process. The keys come from the file, and String's own hash is
     * a public function ("Aa" and "BB" share one): a file with tens of thousands of records whose keys share a
     * hash would make every insert walk one cluster. FNV-1a from a secret basis, then mixed.
     */
    private static int hash(String key) {
        int h = BASIS;
        for (int k = 0; k < key.length(); k++) {
            h = (h ^ key.charAt(k)) * 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        return h ^ h >>> 13;
    }

    private static final int BASIS = 0x811C9DC5 ^ new SecureRandom().nextInt();
}
