package dev.weightsonly.internal.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.torch.TorchStorage;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The storages of a load by key: the keys come from the file, so they may be forged to share one
 * {@code String.hashCode} ("Aa", "BB" and "C#" all hash to 2112). With String's public hash, 531,441 such keys
 * (a zip of that many records is about 60 MB) made every insert walk one cluster: about 10^11 probes. Under the
 * cache's secret hash they spread as any keys do.
 */
class StorageCacheTest {

    private static List<String> collidingKeys(int pairs) {
        List<String> keys = new ArrayList<>(List.of(""));
        for (int p = 0; p < pairs; p++) {
            List<String> longer = new ArrayList<>(keys.size() * 3);
            for (String k : keys) {
                longer.add(k + "Aa");
                longer.add(k + "BB");
                longer.add(k + "C#");
            }
            keys = longer;
        }
        return keys;
    }

    private static TorchStorage storage(int i) {
        return new TorchStorage(Storage.of(MemorySegment.ofArray(new byte[0]), Integer.toString(i), "test"),
                DType.FLOAT32, false);
    }

    @Test
    void keysWithOneJavaHashCodeAreStoredAndFoundInLinearTime() {
        List<String> keys = collidingKeys(12);
        assertEquals(531_441, keys.size());
        assertEquals(1, keys.stream().mapToInt(String::hashCode).distinct().count());
        TorchStorage one = storage(1);
        TorchStorage two = storage(2);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            StorageCache cache = new StorageCache(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                cache.put(keys.get(i), (i & 1) == 0 ? one : two);
            }
            assertEquals(keys.size(), cache.size());
            for (int i = 0; i < keys.size(); i++) {
                assertSame((i & 1) == 0 ? one : two, cache.get(keys.get(i)));
            }
            assertNull(cache.get("AaAaAaAaAaAaAaAaAaAaAaA#"));
        });
    }

    @Test
    void aCacheMadeForFewerKeysGrowsAndAKeyPutAgainKeepsItsNewStorage() {
        StorageCache cache = new StorageCache(0);
        for (int i = 0; i < 1000; i++) {
            cache.put(Integer.toString(i), storage(i));
        }
        TorchStorage again = storage(7);
        cache.put("7", again);
        assertEquals(1000, cache.size());
        assertSame(again, cache.get("7"));
        assertEquals("999", cache.get("999").storage().key());
        assertNull(cache.get("1000"));
    }

    /**
     * torch's keys "0", "1", ... take a slot each by their number; a key that only looks like one of them (a leading
     * zero, a sign, a space, a non-ASCII digit, a number past the record count or past an int) is another key,
     * kept apart, exactly as torch's dict of loaded storages keeps it.
     */
    @Test
    void numberedKeysAndTheirLookAlikesAreDifferentKeys() {
        StorageCache cache = new StorageCache(20);
        List<String> keys = List.of("0", "7", "19", "20", "07", "00", "+7", "7 ", " 7", "-0", "\u0667", "\uFF17",
                "99999999", "999999999", "2147483648", "4294967303", "", "7a", "a7");
        for (int i = 0; i < keys.size(); i++) {
            assertNull(cache.get(keys.get(i)), keys.get(i));
            cache.put(keys.get(i), storage(i));
        }
        assertEquals(keys.size(), cache.size());
        for (int i = 0; i < keys.size(); i++) {
            assertEquals(Integer.toString(i), cache.get(keys.get(i)).storage().key(), "key '" + keys.get(i) + "'");
        }
        assertNull(cache.get("1"));
        assertNull(cache.get("007"));
    }
}
