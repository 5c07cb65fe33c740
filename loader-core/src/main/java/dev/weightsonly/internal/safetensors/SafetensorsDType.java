package dev.weightsonly.internal.safetensors;

import dev.weightsonly.tensors.DType;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The dtype codes of the safetensors format ({@code "F32"}, {@code "BF16"}, ...), as the reference
 * implementation (huggingface/safetensors, {@code Dtype} in {@code tensor.rs}) knows them, with their
 * width in bits and the torch dtype each one means.
 *
 * <p>{@link #alignmentRank()} is the reference's declaration order, "increasing alignment": writers sort
 * tensors by descending rank, then by name, and a file written here must come out in the same order as
 * one written by the reference. It is an explicit number, not {@link #ordinal()}, so that reordering the
 * constants can never silently change the files written.
 *
 * <p>Three codes have no torch dtype that holds them value for value: {@code F4} (4-bit floats counted one
 * per value, where torch's {@code float4_e2m1fn_x2} counts packed pairs), {@code F6_E2M3} and
 * {@code F6_E3M2} (6-bit floats, no torch dtype). A header naming them is valid, so they are recognised
 * and validated like any other code; the reader then refuses the file by name rather than guess a layout.
 */
public enum SafetensorsDType {
    BOOL(0, 8, DType.BOOL),
    F4(1, 4, null),
    F6_E2M3(2, 6, null),
    F6_E3M2(3, 6, null),
    U8(4, 8, DType.UINT8),
    I8(5, 8, DType.INT8),
    F8_E5M2(6, 8, DType.FLOAT8_E5M2),
    F8_E4M3(7, 8, DType.FLOAT8_E4M3FN),
    F8_E8M0(8, 8, DType.FLOAT8_E8M0FNU),
    F8_E4M3FNUZ(9, 8, DType.FLOAT8_E4M3FNUZ),
    F8_E5M2FNUZ(10, 8, DType.FLOAT8_E5M2FNUZ),
    I16(11, 16, DType.INT16),
    U16(12, 16, DType.UINT16),
    F16(13, 16, DType.FLOAT16),
    BF16(14, 16, DType.BFLOAT16),
    I32(15, 32, DType.INT32),
    U32(16, 32, DType.UINT32),
    F32(17, 32, DType.FLOAT32),
    C64(18, 64, DType.COMPLEX64),
    F64(19, 64, DType.FLOAT64),
    I64(20, 64, DType.INT64),
    U64(21, 64, DType.UINT64);

    private static final Map<String, SafetensorsDType> BY_CODE = new HashMap<>();
    private static final Map<DType, SafetensorsDType> BY_TORCH = new HashMap<>();

    static {
        for (SafetensorsDType t : values()) {
            BY_CODE.put(t.name(), t);
            if (t.torch != null && BY_TORCH.put(t.torch, t) != null) {
                throw new AssertionError("two codes for " + t.torch);
            }
        }
    }

    private final int alignmentRank;
    private final int bits;
    private final DType torch;

    SafetensorsDType(int alignmentRank, int bits, DType torch) {
        this.alignmentRank = alignmentRank;
        this.bits = bits;
        this.torch = torch;
    }

    /** The code as the header spells it, e.g. {@code "F8_E4M3"}. */
    public String code() {
        return name();
    }

    /** Width of one element in bits (the reference's {@code bitsize()}): 4, 6, 8, 16, 32 or 64. */
    public int bits() {
        return bits;
    }

    /** Position in the reference's "increasing alignment" order; writers sort by it, descending. */
    public int alignmentRank() {
        return alignmentRank;
    }

    /** The torch dtype whose elements are exactly this code's; empty for {@code F4}, {@code F6_E2M3}, {@code F6_E3M2}. */
    public Optional<DType> torchDType() {
        return Optional.ofNullable(torch);
    }

    /** The code named {@code code} exactly (case matters, as in the reference). */
    public static Optional<SafetensorsDType> fromCode(String code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }

    /**
     * The code that stores {@code dtype}, if safetensors has one: it has none for complex32, complex128,
     * quantized, bits, packed and placeholder dtypes.
     */
    public static Optional<SafetensorsDType> fromTorch(DType dtype) {
        return Optional.ofNullable(BY_TORCH.get(dtype));
    }
}
