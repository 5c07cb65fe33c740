package dev.weightsonly.internal.paged;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The paged arrays hold what a plain array of their length would, across page boundaries. */
class PagesTest {

    private static final int PAGE = 1 << 15;

    @ParameterizedTest
    @ValueSource(ints = {0, 1, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 17})
    void longAndIntPagesAreArraysOfTheirLength(int length) {
        LongPages longs = new LongPages(length);
        IntPages ints = new IntPages(length);
        assertEquals(length, longs.length());
        assertEquals(length, ints.length());
        long[] expectedLongs = new long[length];
        int[] expectedInts = new int[length];
        Random random = new Random(length);
        for (int i = 0; i < length; i++) {
            expectedLongs[i] = random.nextLong();
            expectedInts[i] = random.nextInt();
            longs.set(i, expectedLongs[i]);
            ints.set(i, expectedInts[i]);
        }
        for (int i = 0; i < length; i++) {
            assertEquals(expectedLongs[i], longs.get(i), "long " + i);
            assertEquals(expectedInts[i], ints.get(i), "int " + i);
        }
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> longs.get(length));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> ints.set(length, 1));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> longs.get(-1));
    }

    @Test
    void objectPagesGrowWithoutLosingElements() {
        ObjectPages<Object> pages = new ObjectPages<>(64);
        Map<Integer, Object> expected = new HashMap<>();
        Random random = new Random(7);
        for (int round = 0; round < 6; round++) {
            for (int k = 0; k < 2000; k++) {
                int i = random.nextInt(pages.length());
                Object value = new Object();
                pages.set(i, value);
                expected.put(i, value);
            }
            pages.grow(pages.length() * 4);
        }
        for (int i = 0; i < pages.length(); i++) {
            if (expected.containsKey(i)) {
                assertSame(expected.get(i), pages.get(i), "element " + i);
            } else {
                assertNull(pages.get(i), "element " + i);
            }
        }
        int length = pages.length();
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> pages.get(length));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> pages.set(length, "x"));
        assertThrows(IllegalArgumentException.class, () -> pages.grow(length - 1));
    }

    @Test
    void aLongPagedArrayMakesNoPageBeyondWhatIsSet() {
        ObjectPages<String> pages = new ObjectPages<>(1 << 30); // a table of 2^15 page slots, no page
        pages.set((1 << 30) - 1, "last");
        pages.set(0, "first");
        assertEquals("last", pages.get((1 << 30) - 1));
        assertEquals("first", pages.get(0));
        assertNull(pages.get(1 << 29));
    }
}
