package dev.weightsonly.python;

import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.be64;
import static dev.weightsonly.internal.pickle.Pickles.load;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Python's key equality in the value classes (issue 12, class 6), beside the PyTorch-referenced fixtures of
 * {@code KeyEqualityTest}: what the unpickler's opcodes and the public builder give, and what stays exact.
 */
class PythonKeyTest {

    @Test
    void frozensetKeysAreEqualWhenTheirItemsAre() throws Exception {
        // {frozenset({1}): 'a', frozenset({1.0}): 'b', frozenset({True, 2}): 'c', frozenset({2, 1.0}): 'd'}
        PyDict d = assertInstanceOf(PyDict.class, load(b('}', '(',
                '(', 'K', 1, 0x91, 'K', 10,
                '(', 'G', be64(1.0), 0x91, 'K', 11,
                '(', 0x88, 'K', 2, 0x91, 'K', 12,
                '(', 'K', 2, 'G', be64(1.0), 0x91, 'K', 13, 'u', '.')));
        assertEquals(2, d.size());
        List<Object> keys = List.copyOf(d.keySet());
        assertEquals(List.of(1L), List.copyOf((PySet) keys.get(0)));
        assertEquals(11L, d.values().iterator().next());
        assertEquals(13L, d.get(keys.get(1)));
    }

    @Test
    void aSetKeepsTheFirstOfEqualItems() throws Exception {
        // {True, 1, 1.0, 0.0, -0.0, 0, 2**64, 2.0**64} by EMPTY_SET and ADDITEMS
        PySet s = assertInstanceOf(PySet.class, load(b(0x8F, '(', 0x88, 'K', 1, 'G', be64(1.0), 'G', be64(0.0),
                'G', be64(-0.0), 'K', 0, 0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'G', be64(0x1p64), 0x90, '.')));
        assertEquals(List.of(true, 0.0, BigInteger.ONE.shiftLeft(64)), List.copyOf(s));
        assertTrue(s.contains(1L));
        assertTrue(s.contains(-0.0));
        assertTrue(s.contains(0x1p64));
        assertFalse(s.contains(2L));
        assertFalse(s.contains(new PyList())); // unhashable: never in a set
    }

    @Test
    void theBuilderMergesEqualKeysToo() {
        PyDict d = PyDict.builder(PyDict.Kind.DICT).put(1L, "a").put("x", "b").put(true, "c").put(1.0, "d").build();
        assertEquals(List.of(1L, "x"), List.copyOf(d.keySet()));
        assertEquals("d", d.get(1L));
        assertEquals("d", d.get(new PyComplex(1.0, 0.0)));
    }

    @Test
    void tuplesStayTypeExactAndNaNsStayApartWhenInterned() throws Exception {
        // [((1,),), ((True,),), ((nan,),), ((nan,),)]: nested hashable tuples are interned by value while
        // loading; values Python tells apart (by type as printed, or a NaN from another object) stay apart
        byte[] nan = b('G', be64(Double.NaN));
        PyList l = assertInstanceOf(PyList.class, load(b(']', '(', 'K', 1, 0x85, 0x85, 0x88, 0x85, 0x85,
                nan, 0x85, 0x85, nan, 0x85, 0x85, 'e', '.')));
        assertNotEquals(l.get(0), l.get(1));
        assertEquals(Boolean.TRUE, ((PyTuple) ((PyTuple) l.get(1)).get(0)).get(0));
        assertNotSame(l.get(2), l.get(3));
        assertNotEquals(l.get(2), l.get(3));
        // ... and as dict keys, ((1,),) and ((True,),) are one key while the two NaN tuples are two
        PyDict d = assertInstanceOf(PyDict.class, load(b('}', '(', 'K', 1, 0x85, 0x85, 'N', 0x88, 0x85, 0x85, 'N',
                nan, 0x85, 0x85, 'N', nan, 0x85, 0x85, 'N', 'u', '.')));
        assertEquals(3, d.size());
    }

    @Test
    void tupleAndFrozensetHashesAreConsistentWithTheirEquality() throws Exception {
        PyTuple a = PyTuple.of(1L, "x", PyTuple.of(2.5));
        PyTuple same = PyTuple.of(1L, "x", PyTuple.of(2.5));
        assertEquals(a, same);
        assertEquals(a.hashCode(), same.hashCode());
        assertNotEquals(a, PyTuple.of(true, "x", PyTuple.of(2.5)));
        PySet f = assertInstanceOf(PySet.class, load(b('(', 'K', 1, 'K', 2, 0x91, '.')));
        PySet g = assertInstanceOf(PySet.class, load(b('(', 'K', 2, 'K', 1, 0x91, '.')));
        PySet h = assertInstanceOf(PySet.class, load(b('(', 'K', 2, 0x88, 0x91, '.')));
        assertEquals(f, g);
        assertEquals(f.hashCode(), g.hashCode());
        assertNotEquals(f, h); // {1, 2} and {2, True}: one dict key, but not the same values
        PyDict d = assertInstanceOf(PyDict.class, load(b('}', '(', '(', 'K', 1, 'K', 2, 0x91, 'K', 1,
                '(', 'K', 2, 0x88, 0x91, 'K', 2, 'u', '.')));
        assertEquals(1, d.size());
        assertEquals(2L, d.get(h));
    }
}
