package dev.weightsonly.internal.torch;

import dev.weightsonly.torch.TorchStorage;

/**
 * The storages a zip load has made, by storage key (exactly, as torch's {@code loaded_storages} dict): two arrays
 * with open addressing rather than a {@code HashMap}, whose node per entry would stay live for the whole load
 * (an optimizer state holds 300,000 storages, each one more object for the garbage collector to copy while the
 * load goes on). Made for the number of records of the archive, so that a load never grows it.
 */
final class StorageCache {

    private String[] keys;
    private TorchStorage[] values;
    private int size;

    /** A cache that holds {@code expected} storages without growing. */
    StorageCache(int expected) {
        int capacity = Integer.highestOneBit(Math.max(8, Math.min(expected, 1 << 24)) * 2 - 1) << 1;
        keys = new String[capacity];
        values = new TorchStorage[capacity];
    }

    /** The storage of {@code key}, or null. */
    TorchStorage get(String key) {
        int mask = keys.length - 1;
        for (int i = spread(key.hashCode()) & mask; keys[i] != null; i = (i + 1) & mask) {
            if (keys[i].equals(key)) {
                return values[i];
            }
        }
        return null;
    }

    /** Keeps {@code storage} as the storage of {@code key} (in place of any it held). */
    void put(String key, TorchStorage storage) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        if (insert(key, storage)) {
            size++;
        }
    }

    int size() {
        return size;
    }

    /** Whether {@code key} is new. */
    private boolean insert(String key, TorchStorage storage) {
        int mask = keys.length - 1;
        int i = spread(key.hashCode()) & mask;
        while (keys[i] != null && !keys[i].equals(key)) {
            i = (i + 1) & mask;
        }
        boolean fresh = keys[i] == null;
        keys[i] = key;
        values[i] = storage;
        return fresh;
    }

    private void grow() {
        String[] oldKeys = keys;
        TorchStorage[] oldValues = values;
        keys = new String[oldKeys.length * 2];
        values = new TorchStorage[oldValues.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != null) {
                insert(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int spread(int hash) {
        int h = hash * 0x9E3779B9; // String hashes of "0", "1", ... are consecutive: spread them over the table
        return h ^ h >>> 16;
    }
}
