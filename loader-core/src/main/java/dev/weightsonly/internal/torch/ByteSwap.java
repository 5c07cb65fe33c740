package dev.weightsonly.internal.torch;

import dev.weightsonly.tensors.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Copies a big-endian storage into little-endian order, element by element (complex: each half). */
final class ByteSwap {

    private ByteSwap() {
    }

    /** {@code into}: the arena to copy into (the checkpoint's, released by its close()); null for GC-managed memory. */
    static MemorySegment toLittleEndian(MemorySegment source, DType dtype, Arena into) {
        int unit = dtype.kind() == DType.Kind.COMPLEX ? dtype.elementSize() / 2 : dtype.elementSize();
        long n = source.byteSize();
        MemorySegment out = into != null ? into.allocate(n, 8)
                : n < Integer.MAX_VALUE - 8 ? MemorySegment.ofArray(new byte[(int) n])
                : Arena.ofAuto().allocate(n, 8);
        for (long i = 0; i + unit <= n; i += unit) {
            for (int k = 0; k < unit; k++) {
                out.set(ValueLayout.JAVA_BYTE, i + k, source.get(ValueLayout.JAVA_BYTE, i + unit - 1 - k));
            }
        }
        return out.asReadOnly();
    }
}
