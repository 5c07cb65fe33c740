package dev.weightsonly.python;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * A dict keeps up to eight items in an array and more in a map: both hold Python's key equality, insertion order
 * and "the first key stays, with the last value" alike, on either side of the change and across it, and a built
 * dict never changes when its builder goes on.
 */
class PyDictStorageTest {

    /** A Python-equal form of {@code n}: an int, a float, a bool, or a str (never equal to the others). */
    private static Object key(int n, int form) {
        return switch (form) {
            case 0 -> (long) n;
            case 1 -> (double) n;
            case 2 -> n == 0 ? Boolean.FALSE : n == 1 ? Boolean.TRUE : (Object) BigInteger.valueOf(n);
            default -> "k" + n;
        };
    }

    /** The model: Python's dict, with keys reduced to what equality sees (number, or str). */
    private static Object model(Object key) {
        return key instanceof String ? key : ((Number) (key instanceof Boolean b ? (b ? 1L : 0L) : key)).longValue();
    }

    @Property(tries = 300)
    void anySequenceOfPutsGivesPythonsDict(@ForAll long seed, @ForAll @IntRange(min = 0, max = 40) int puts) {
        Random random = new Random(seed);
        PyDict.Builder builder = PyDict.builder(PyDict.Kind.DICT);
        Map<Object, Object[]> expected = new LinkedHashMap<>(); // model key -> {first key, last value}
        List<PyDict> built = new ArrayList<>();
        List<Map<Object, Object[]>> builtExpected = new ArrayList<>();
        for (int p = 0; p < puts; p++) {
            Object key = key(random.nextInt(12), random.nextInt(4));
            Object value = (long) p;
            builder.put(key, value);
            expected.compute(model(key), (k, old) -> old == null ? new Object[] {key, value} : new Object[] {old[0], value});
            if (random.nextInt(5) == 0) {
                built.add(builder.build());
                Map<Object, Object[]> snapshot = new LinkedHashMap<>();
                expected.forEach((k, v) -> snapshot.put(k, v.clone()));
                builtExpected.add(snapshot);
            }
        }
        built.add(builder.build());
        builtExpected.add(expected);
        for (int b = 0; b < built.size(); b++) {
            PyDict dict = built.get(b);
            Map<Object, Object[]> want = builtExpected.get(b);
            assertEquals(want.size(), dict.size());
            List<Object> keys = new ArrayList<>();
            List<Object> values = new ArrayList<>();
            dict.forEach((k, v) -> {
                keys.add(k);
                values.add(v);
            });
            List<Object> wantKeys = want.values().stream().map(v -> v[0]).toList();
            List<Object> wantValues = want.values().stream().map(v -> v[1]).toList();
            assertEquals(wantKeys, keys, "keys in order, each as first given");
            assertEquals(wantValues, values, "the last value of each");
            for (int n = 0; n < 12; n++) {
                for (int form = 0; form < 4; form++) {
                    Object probe = key(n, form);
                    Object[] entry = want.get(model(probe));
                    assertEquals(entry != null, dict.containsKey(probe), "containsKey " + probe);
                    assertEquals(entry == null ? null : entry[1], dict.get(probe), "get " + probe);
                }
            }
            assertNull(dict.get("absent"));
            assertFalse(dict.containsKey(99L));
        }
    }

    @Test
    void aDictGrowsPastEightItemsInOrderAndKeepsFindingEveryKey() {
        PyDict.Builder builder = PyDict.builder(PyDict.Kind.ORDERED_DICT);
        for (int i = 0; i < 20; i++) {
            builder.put("k" + i, (long) i);
            PyDict dict = builder.build();
            assertEquals(i + 1, dict.size());
            assertEquals("k0", dict.keySet().iterator().next());
            for (int j = 0; j <= i; j++) {
                assertEquals((long) j, dict.get("k" + j));
            }
            assertTrue(dict.containsKey(1.0) == false);
        }
        builder.put("k3", 33L);
        builder.put(1L, "one");
        builder.put(1.0, "one again");
        PyDict dict = builder.build();
        assertEquals(21, dict.size());
        assertEquals(33L, dict.get("k3"));
        assertEquals("one again", dict.get(true));
        assertEquals(1L, new ArrayList<>(dict.keySet()).get(20)); // the first key stays
    }
}
