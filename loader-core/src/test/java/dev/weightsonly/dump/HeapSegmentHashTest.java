package dev.weightsonly.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Tensors over heap memory of any array type hash like the same bytes in a byte[] (no ByteBuffer view needed). */
class HeapSegmentHashTest {

    @Test
    void aTensorOverALongArrayHashesItsBytes() {
        long[] values = {1, -2, 1L << 40};
        Tensor overLongs = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(values), "l", "cpu"), DType.INT64, 0, 3);
        ByteBuffer bytes = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder());
        for (long v : values) {
            bytes.putLong(v);
        }
        Tensor overBytes = Tensor.contiguousView(Storage.of(MemorySegment.ofArray(bytes.array()), "b", "cpu"),
                DType.INT64, 0, 3);
        assertEquals(CanonicalDump.sha256(overBytes), CanonicalDump.sha256(overLongs));
        assertEquals(3, overLongs.toLongArray().length);
    }
}
