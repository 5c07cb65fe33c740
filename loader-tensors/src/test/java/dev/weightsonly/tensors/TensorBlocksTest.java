package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.tensors.TensorPropertiesTest.Geometry;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * {@link Tensor#blocks(long)} against an element-wise reading that computes each element's byte offset from the
 * formula {@code (offset + Σ index_i * stride_i) * elementSize} and applies the negative and conjugate bits by
 * hand, for random views (strides, offsets, expanded and permuted dimensions) and random block sizes.
 */
class TensorBlocksTest {

    @Provide
    Arbitrary<Geometry> geometries() {
        return new TensorPropertiesTest().geometries();
    }

    @Provide
    Arbitrary<DType> dtypes() {
        return Arbitraries.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16, DType.INT8, DType.UINT8,
                DType.INT16, DType.INT32, DType.INT64, DType.BOOL, DType.COMPLEX64, DType.COMPLEX128,
                DType.FLOAT8_E4M3FN, DType.QINT8, DType.BITS16, DType.FLOAT4_E2M1FN_X2);
    }

    /** Element {@code k}'s stored bytes, found by the formula. */
    private static byte[] storedElement(Geometry g, DType t, byte[] storage, long k) {
        int at = g.byteOffset(g.index(k), t);
        return Arrays.copyOfRange(storage, at, at + t.elementSize());
    }

    /** Negates one little-endian value of {@code t} in place: sign bit for floats, two's complement for integers. */
    private static void negate(DType t, byte[] bytes, int at) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (t) {
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> bytes[at + t.elementSize() - 1] ^= (byte) 0x80;
            case INT8 -> b.put(at, (byte) -b.get(at));
            case INT16 -> b.putShort(at, (short) -b.getShort(at));
            case INT32 -> b.putInt(at, -b.getInt(at));
            case INT64 -> b.putLong(at, -b.getLong(at));
            default -> throw new AssertionError(t);
        }
    }

    /** The logical bytes of every element in row-major order, one element at a time. */
    private static byte[] elementWise(Geometry g, DType t, byte[] storage, boolean conj, boolean neg) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long k = 0; k < g.numel(); k++) {
            byte[] e = storedElement(g, t, storage, k);
            if (t.kind() == DType.Kind.COMPLEX) {
                DType part = t == DType.COMPLEX64 ? DType.FLOAT32 : DType.FLOAT64;
                if (neg) {
                    negate(part, e, 0);
                }
                if (neg != conj) {
                    negate(part, e, e.length / 2);
                }
            } else if (neg) {
                negate(t, e, 0);
            }
            out.writeBytes(e);
        }
        return out.toByteArray();
    }

    private static List<Tensor.Block> blocks(Tensor t, long maxBlockBytes) {
        List<Tensor.Block> all = new ArrayList<>();
        t.blocks(maxBlockBytes).forEach(all::add);
        return all;
    }

    private static byte[] concatenated(List<Tensor.Block> blocks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        blocks.forEach(b -> out.writeBytes(b.bytes().toArray(ValueLayout.JAVA_BYTE)));
        return out.toByteArray();
    }

    @Property
    void blocksConcatenateToTheStoredElements(@ForAll("geometries") Geometry g, @ForAll("dtypes") DType t,
            @ForAll @LongRange(min = 1, max = 64) long maxBlockBytes) {
        byte[] storage = g.randomBytes(t);
        Tensor view = g.view(t, storage);
        List<Tensor.Block> blocks = blocks(view, maxBlockBytes);
        assertArrayEquals(elementWise(g, t, storage, false, false), concatenated(blocks), g.toString());
        int es = t.elementSize();
        long expectedFirst = 0;
        for (Tensor.Block b : blocks) {
            assertEquals(expectedFirst, b.firstElement());
            assertTrue(b.bytes().byteSize() > 0 && b.bytes().byteSize() <= Math.max(maxBlockBytes, es));
            assertEquals(0, b.bytes().byteSize() % es);
            assertTrue(b.bytes().isReadOnly());
            // zero-copy exactly where the view is contiguous: a slice of the storage, else fresh memory
            assertEquals(view.isContiguous(), view.storage().bytes().asOverlappingSlice(b.bytes()).isPresent());
            expectedFirst += b.bytes().byteSize() / es;
        }
        assertEquals(view.numel(), expectedFirst);
        assertEquals(g.numel() == 0, blocks.isEmpty());
    }

    @Property
    void blocksApplyTheNegativeAndConjugateBits(@ForAll("geometries") Geometry g,
            @ForAll("negatable") DType t, @ForAll boolean conj, @ForAll boolean neg,
            @ForAll @LongRange(min = 1, max = 64) long maxBlockBytes) {
        boolean complex = t.kind() == DType.Kind.COMPLEX;
        byte[] storage = g.randomBytes(t);
        Tensor stored = g.view(t, storage);
        Tensor view = stored.withConj(conj && complex).withNeg(neg);
        List<Tensor.Block> blocks = blocks(view, maxBlockBytes);
        assertArrayEquals(elementWise(g, t, storage, conj && complex, neg), concatenated(blocks), g.toString());
        assertArrayEquals(view.resolveConjAndNeg().toByteArray(), concatenated(blocks));
        if (view.isConj() || view.isNeg()) {
            blocks.forEach(b -> assertFalse(stored.storage().bytes().asOverlappingSlice(b.bytes()).isPresent()));
        }
    }

    @Provide
    Arbitrary<DType> negatable() {
        return Arbitraries.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16, DType.INT8, DType.INT16,
                DType.INT32, DType.INT64, DType.COMPLEX64, DType.COMPLEX128);
    }

    @Property
    void blocksDependOnTheShapeNotTheStrides(@ForAll("geometries") Geometry g, @ForAll("dtypes") DType t,
            @ForAll @LongRange(min = 1, max = 64) long maxBlockBytes) {
        Tensor view = g.view(t, g.randomBytes(t));
        Tensor copy = view.contiguous();
        List<Tensor.Block> a = blocks(view, maxBlockBytes);
        List<Tensor.Block> b = blocks(copy, maxBlockBytes);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).firstElement(), b.get(i).firstElement());
            assertEquals(-1, a.get(i).bytes().mismatch(b.get(i).bytes()));
        }
    }

    @Test
    void aContiguousTensorIsSlicedWhereItLies() {
        byte[] bytes = new byte[4 * 10];
        Tensor t = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(bytes), "s", "cpu"), DType.FLOAT32, 1, 3, 3);
        List<Tensor.Block> blocks = blocks(t, 16);
        assertEquals(List.of(0L, 4L, 8L), blocks.stream().map(Tensor.Block::firstElement).toList());
        assertEquals(List.of(16L, 16L, 4L), blocks.stream().map(b -> b.bytes().byteSize()).toList());
        assertEquals(4, blocks.get(0).bytes().address() - t.storage().bytes().address(), "element 1 of the storage");
        assertEquals(4 + 16, blocks.get(1).bytes().address() - t.storage().bytes().address());
    }

    @Test
    void anElementLargerThanTheBoundIsABlockOfItsOwn() {
        Tensor t = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(new byte[16 * 3]), "c", "cpu"),
                DType.COMPLEX128, 0, 3);
        List<Tensor.Block> blocks = blocks(t, 5);
        assertEquals(3, blocks.size());
        blocks.forEach(b -> assertEquals(16, b.bytes().byteSize()));
    }

    @Test
    void emptyAndScalarTensors() {
        Storage s = Storage.of(MemorySegment.ofArray(new byte[8]), "s", "cpu");
        assertFalse(Tensor.of(s, DType.FLOAT32, 5, new long[] {0, 3}, new long[] {3, 1}).blocks(8).iterator()
                .hasNext());
        Iterator<Tensor.Block> scalar = Tensor.of(s, DType.FLOAT32, 1, new long[0], new long[0]).blocks(1).iterator();
        assertEquals(4, scalar.next().bytes().byteSize());
        assertFalse(scalar.hasNext());
        assertThrows(NoSuchElementException.class, scalar::next);
        assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, DType.UINT8, 0, 8).blocks(0));
    }

    /**
     * quint4x2 and quint2x4 hold several values to a byte, packed in row-major order from the offset whatever the
     * strides: their blocks are those bytes (torch's {@code int_repr()}, what the dump hashes and toByteArray()
     * gives), cut at bytes, and always slices of the storage.
     */
    @Test
    void packedQuantizedTensorsGiveTheirPackedBytes() {
        Storage s = TensorTest.raw(0x21, 0x43, 0x0F, 0x85, 0xA9, 0x32, 0x54, 0x06, 0x00);
        Tensor q = Tensor.contiguousView(s, DType.QUINT4X2, 1, 3, 5); // 15 values, 8 bytes from byte 1
        List<Tensor.Block> blocks = blocks(q, 3);
        assertEquals(List.of(3L, 3L, 2L), blocks.stream().map(b -> b.bytes().byteSize()).toList());
        assertEquals(List.of(0L, 6L, 12L), blocks.stream().map(Tensor.Block::firstElement).toList(),
                "two values a byte");
        assertArrayEquals(q.toByteArray(), concatenated(blocks));
        assertArrayEquals(new byte[] {0x43, 0x0F, (byte) 0x85, (byte) 0xA9, 0x32, 0x54, 0x06, 0x00}, concatenated(blocks));
        assertEquals(1, blocks.get(0).bytes().address() - s.bytes().address(), "a slice where the bytes lie");
        // a transposed view: the same packed bytes, as torch's int_repr() gives them
        Tensor t = Tensor.of(s, DType.QUINT4X2, 1, new long[] {5, 3}, new long[] {1, 5});
        assertArrayEquals(q.toByteArray(), concatenated(blocks(t, 1 << 20)));
        byte[] copied = new byte[8]; // copyTo gives the bytes toByteArray() gives
        t.copyTo(MemorySegment.ofArray(copied));
        assertArrayEquals(q.toByteArray(), copied);
        // quint2x4: four values a byte; 5 values take 2 bytes
        Tensor q2 = Tensor.contiguousView(s, DType.QUINT2X4, 2, 5);
        List<Tensor.Block> two = blocks(q2, 1);
        assertEquals(List.of(0L, 4L), two.stream().map(Tensor.Block::firstElement).toList());
        assertArrayEquals(new byte[] {0x0F, (byte) 0x85}, concatenated(two));
        assertFalse(Tensor.contiguousView(s, DType.QUINT4X2, 9, 0).blocks(8).iterator().hasNext());
    }

    @Test
    void aCopiedBlockIsBoundedByTheMaterializationLimit() {
        Storage s = Storage.of(MemorySegment.ofArray(new byte[64]), "s", "cpu", 8);
        Tensor transposed = Tensor.of(s, DType.UINT8, 0, new long[] {8, 8}, new long[] {1, 8});
        assertEquals(8, blocks(transposed, 8).size());
        Iterator<Tensor.Block> tooLarge = transposed.blocks(16).iterator();
        assertThrows(MaterializationLimitException.class, tooLarge::next);
    }

    @Test
    void blocksOfAReleasedStorageFail() {
        Arena arena = Arena.ofConfined();
        MemorySegment memory = arena.allocate(16);
        Tensor t = Tensor.of(Storage.of(memory, "s", "cpu"), DType.UINT8, 0, new long[] {4, 4}, new long[] {1, 4});
        arena.close();
        assertThrows(IllegalStateException.class, () -> t.blocks(4).iterator().next());
    }
}
