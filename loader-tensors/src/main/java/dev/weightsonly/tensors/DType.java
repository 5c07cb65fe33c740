package dev.weightsonly.tensors;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The torch scalar types ({@code c10::ScalarType}), all 46 of them, with the facts a loader needs.
 *
 * <p>Every property is an explicit field. {@link #ordinal()} is deliberately never used: the enum's
 * declaration order is a Java detail, while {@link #scalarType()} is the number torch itself uses, and
 * the two must not silently drift apart if a constant is ever added or reordered.
 *
 * <p>Packed dtypes ({@link #QUINT4X2}, {@link #QUINT2X4}, {@link #FLOAT4_E2M1FN_X2}, the {@code bits*}
 * types) and the placeholder dtypes {@code uint1..uint7} / {@code int1..int7} have a one-byte storage
 * element that holds one or more sub-byte values; {@link #elementSize()} is torch's
 * {@code element_size()} (bytes per storage element) and {@link #valueBits()} is the width of one
 * logical value.
 */
public enum DType {
    /** {@code torch.uint8}: unsigned 8-bit integers (images, masks). */
    UINT8("uint8", 0, 1, 8, "ByteStorage", Kind.INT, false),
    /** {@code torch.int8}: signed 8-bit integers. */
    INT8("int8", 1, 1, 8, "CharStorage", Kind.INT, true),
    /** {@code torch.int16} ({@code torch.short}): signed 16-bit integers. */
    INT16("int16", 2, 2, 16, "ShortStorage", Kind.INT, true),
    /** {@code torch.int32} ({@code torch.int}): signed 32-bit integers. */
    INT32("int32", 3, 4, 32, "IntStorage", Kind.INT, true),
    /**
     * {@code torch.int64} ({@code torch.long}): signed 64-bit integers, torch's index and counter type (for example
     * a batch norm's {@code num_batches_tracked}).
     */
    INT64("int64", 4, 8, 64, "LongStorage", Kind.INT, true),
    /** {@code torch.float16} ({@code torch.half}): IEEE binary16; see {@link Float16}. */
    FLOAT16("float16", 5, 2, 16, "HalfStorage", Kind.FLOAT, true),
    /** {@code torch.float32} ({@code torch.float}): IEEE binary32, the default for weights. */
    FLOAT32("float32", 6, 4, 32, "FloatStorage", Kind.FLOAT, true),
    /** {@code torch.float64} ({@code torch.double}): IEEE binary64. */
    FLOAT64("float64", 7, 8, 64, "DoubleStorage", Kind.FLOAT, true),
    /** Two float16 components (real, imaginary). */
    COMPLEX32("complex32", 8, 4, 32, null, Kind.COMPLEX, true),
    /** Two float32 components (real, imaginary). */
    COMPLEX64("complex64", 9, 8, 64, "ComplexFloatStorage", Kind.COMPLEX, true),
    /** Two float64 components (real, imaginary). */
    COMPLEX128("complex128", 10, 16, 128, "ComplexDoubleStorage", Kind.COMPLEX, true),
    /** One byte per value, 0 or 1 (any non-zero byte reads as {@code true}). */
    BOOL("bool", 11, 1, 8, "BoolStorage", Kind.BOOL, false),
    /** {@code torch.qint8}: signed 8-bit codes of a quantized tensor (see {@link Quantizer}). */
    QINT8("qint8", 12, 1, 8, "QInt8Storage", Kind.QUANTIZED, true),
    /** {@code torch.quint8}: unsigned 8-bit codes of a quantized tensor (see {@link Quantizer}). */
    QUINT8("quint8", 13, 1, 8, "QUInt8Storage", Kind.QUANTIZED, false),
    /** {@code torch.qint32}: signed 32-bit codes of a quantized tensor, typically a quantized bias. */
    QINT32("qint32", 14, 4, 32, "QInt32Storage", Kind.QUANTIZED, true),
    /** The upper 16 bits of an IEEE float32. */
    BFLOAT16("bfloat16", 15, 2, 16, "BFloat16Storage", Kind.FLOAT, true),
    /** Two unsigned 4-bit codes per byte. */
    QUINT4X2("quint4x2", 16, 1, 4, "QUInt4x2Storage", Kind.QUANTIZED, false),
    /** Four unsigned 2-bit codes per byte. */
    QUINT2X4("quint2x4", 17, 1, 2, "QUInt2x4Storage", Kind.QUANTIZED, false),
    /** {@code torch.bits1x8}: eight uninterpreted bits per byte, for tensor subclasses that give them meaning. */
    BITS1X8("bits1x8", 18, 1, 1, null, Kind.BITS, false),
    /** {@code torch.bits2x4}: four uninterpreted 2-bit fields per byte. */
    BITS2X4("bits2x4", 19, 1, 2, null, Kind.BITS, false),
    /** {@code torch.bits4x2}: two uninterpreted 4-bit fields per byte. */
    BITS4X2("bits4x2", 20, 1, 4, null, Kind.BITS, false),
    /** {@code torch.bits8}: an uninterpreted byte. */
    BITS8("bits8", 21, 1, 8, null, Kind.BITS, false),
    /** {@code torch.bits16}: 16 uninterpreted bits. */
    BITS16("bits16", 22, 2, 16, null, Kind.BITS, false),
    /** OCP FP8 E5M2: IEEE-like, with infinities and NaNs; max 57344. */
    FLOAT8_E5M2("float8_e5m2", 23, 1, 8, null, Kind.FLOAT, true),
    /** OCP FP8 E4M3FN: no infinities, NaN only at {@code S.1111.111}; max 448. */
    FLOAT8_E4M3FN("float8_e4m3fn", 24, 1, 8, null, Kind.FLOAT, true),
    /** E5M2 with bias 16, no negative zero, {@code 0x80} the only NaN, no infinities. */
    FLOAT8_E5M2FNUZ("float8_e5m2fnuz", 25, 1, 8, null, Kind.FLOAT, true),
    /** E4M3 with bias 8, no negative zero, {@code 0x80} the only NaN, no infinities; max 240. */
    FLOAT8_E4M3FNUZ("float8_e4m3fnuz", 26, 1, 8, null, Kind.FLOAT, true),
    /** {@code torch.uint16}: unsigned 16-bit integers (torch 2.3 and later). */
    UINT16("uint16", 27, 2, 16, null, Kind.INT, false),
    /** {@code torch.uint32}: unsigned 32-bit integers (torch 2.3 and later). */
    UINT32("uint32", 28, 4, 32, null, Kind.INT, false),
    /**
     * {@code torch.uint64}: unsigned 64-bit integers (torch 2.3 and later); Java reads them as a
     * {@code long} bit pattern.
     */
    UINT64("uint64", 29, 8, 64, null, Kind.INT, false),
    /**
     * {@code torch.uint1}: placeholder for 1-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT1("uint1", 30, 1, 1, null, Kind.INT, false),
    /**
     * {@code torch.uint2}: placeholder for 2-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT2("uint2", 31, 1, 2, null, Kind.INT, false),
    /**
     * {@code torch.uint3}: placeholder for 3-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT3("uint3", 32, 1, 3, null, Kind.INT, false),
    /**
     * {@code torch.uint4}: placeholder for 4-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT4("uint4", 33, 1, 4, null, Kind.INT, false),
    /**
     * {@code torch.uint5}: placeholder for 5-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT5("uint5", 34, 1, 5, null, Kind.INT, false),
    /**
     * {@code torch.uint6}: placeholder for 6-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT6("uint6", 35, 1, 6, null, Kind.INT, false),
    /**
     * {@code torch.uint7}: placeholder for 7-bit unsigned integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    UINT7("uint7", 36, 1, 7, null, Kind.INT, false),
    /**
     * {@code torch.int1}: placeholder for 1-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT1("int1", 37, 1, 1, null, Kind.INT, true),
    /**
     * {@code torch.int2}: placeholder for 2-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT2("int2", 38, 1, 2, null, Kind.INT, true),
    /**
     * {@code torch.int3}: placeholder for 3-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT3("int3", 39, 1, 3, null, Kind.INT, true),
    /**
     * {@code torch.int4}: placeholder for 4-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT4("int4", 40, 1, 4, null, Kind.INT, true),
    /**
     * {@code torch.int5}: placeholder for 5-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT5("int5", 41, 1, 5, null, Kind.INT, true),
    /**
     * {@code torch.int6}: placeholder for 6-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT6("int6", 42, 1, 6, null, Kind.INT, true),
    /**
     * {@code torch.int7}: placeholder for 7-bit signed integers in a one-byte element; the packing is up to
     * the tensor subclass that uses it.
     */
    INT7("int7", 43, 1, 7, null, Kind.INT, true),
    /** Exponent only, unsigned: {@code 2^(code-127)}, {@code 0xFF} is NaN. */
    FLOAT8_E8M0FNU("float8_e8m0fnu", 44, 1, 8, null, Kind.FLOAT, false),
    /** Two FP4 E2M1 values per byte; the low nibble is the first value (see {@link Float4E2M1}). */
    FLOAT4_E2M1FN_X2("float4_e2m1fn_x2", 45, 1, 4, null, Kind.FLOAT, true);

    /** What family a dtype belongs to; decides which element reads make sense. */
    public enum Kind {
        /** IEEE-like binary floating point, including the 8- and 4-bit formats. */
        FLOAT,
        /** Two's-complement or unsigned integers, including the placeholder {@code uint1..7}/{@code int1..7}. */
        INT,
        /** One byte per boolean. */
        BOOL,
        /** Pairs (real, imaginary) of a floating-point component type. */
        COMPLEX,
        /** Integer codes of a quantized tensor; the real value also needs scale and zero point. */
        QUANTIZED,
        /** Uninterpreted bit containers. */
        BITS
    }

    private static final int SCALAR_TYPE_COUNT = 46;
    private static final DType[] BY_SCALAR_TYPE = new DType[SCALAR_TYPE_COUNT];
    private static final Map<String, DType> BY_NAME = new HashMap<>();
    private static final Map<String, DType> BY_LEGACY_STORAGE = new HashMap<>();

    static {
        for (DType t : values()) {
            if (BY_SCALAR_TYPE[t.scalarType] != null) {
                throw new AssertionError("duplicate scalar type " + t.scalarType);
            }
            BY_SCALAR_TYPE[t.scalarType] = t;
            BY_NAME.put(t.torchName, t);
            if (t.legacyStorageName != null) {
                BY_LEGACY_STORAGE.put(t.legacyStorageName, t);
            }
        }
    }

    private final String torchName;
    private final int scalarType;
    private final int elementSize;
    private final int valueBits;
    private final String legacyStorageName;
    private final Kind kind;
    private final boolean signed;

    DType(String torchName, int scalarType, int elementSize, int valueBits, String legacyStorageName,
          Kind kind, boolean signed) {
        this.torchName = torchName;
        this.scalarType = scalarType;
        this.elementSize = elementSize;
        this.valueBits = valueBits;
        this.legacyStorageName = legacyStorageName;
        this.kind = kind;
        this.signed = signed;
    }

    /**
     * The name torch prints, so that messages and dumps match what a PyTorch user sees.
     *
     * @return the canonical Python name without the {@code torch.} prefix, e.g. {@code "float32"},
     *     {@code "uint3"} (never an alias such as {@code "float"})
     */
    public String torchName() {
        return torchName;
    }

    /**
     * The number torch itself uses for this dtype, for formats that store dtypes as numbers (TorchScript
     * constants, some legacy records).
     *
     * @return the {@code c10::ScalarType} number (0..45), stable across torch versions
     */
    public int scalarType() {
        return scalarType;
    }

    /**
     * Bytes per storage element, as torch's {@code element_size()}. Offsets, sizes and strides of a tensor
     * are counted in these elements. Packed and placeholder sub-byte dtypes report 1; complex dtypes
     * report both components together (complex32: 4, complex128: 16).
     *
     * @return bytes per storage element, 1 to 16
     */
    public int elementSize() {
        return elementSize;
    }

    /**
     * Width in bits of one logical value: 32 for float32, 8 for bool, 64 for complex64 (a complex
     * number is one value), 4 for quint4x2 and float4_e2m1fn_x2, 2 for quint2x4, 1 for bits1x8, 1..7
     * for uint1..7 and int1..7. When {@code valueBits() < 8 * elementSize()} one storage element packs
     * several values (or, for the placeholders, the layout is up to the tensor subclass that uses it).
     *
     * @return bits per logical value, 1 to 128
     */
    public int valueBits() {
        return valueBits;
    }

    /**
     * The legacy typed-storage class name ({@code "FloatStorage"}, ...) for the 17 dtypes that have
     * one; torch froze that list, so every newer dtype answers empty.
     *
     * @return the class name without the {@code torch.} prefix, or empty if torch never had such a class
     */
    public Optional<String> legacyStorageName() {
        return Optional.ofNullable(legacyStorageName);
    }

    /**
     * The family of this dtype, which decides which element reads and conversions apply.
     *
     * @return the family; never null
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Whether values can be negative. Meaningful for {@link Kind#INT} and {@link Kind#QUANTIZED}
     * ({@code uint*}, {@code quint*} unsigned; {@code int*}, {@code qint*} signed). Floating and complex
     * dtypes are signed except {@link #FLOAT8_E8M0FNU}; bool and bits dtypes are unsigned.
     *
     * @return true if the dtype has negative values
     */
    public boolean isSigned() {
        return signed;
    }

    /** True when one storage element holds exactly one value, i.e. the dtype is not packed. */
    boolean oneValuePerElement() {
        return valueBits == 8 * elementSize || kind == Kind.BOOL;
    }

    /** Returns {@link #torchName()}, the name users see in torch. */
    @Override
    public String toString() {
        return torchName;
    }

    /**
     * Looks up a canonical torch name; aliases ({@code "float"}, {@code "half"}) are not accepted, as a
     * checkpoint always records the canonical name.
     *
     * @param name a name such as {@code "float32"}, without the {@code torch.} prefix
     * @return the dtype, or empty if torch has no dtype of that canonical name
     */
    public static Optional<DType> fromTorchName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /**
     * Looks up a legacy storage class name, which is how a checkpoint's pickle names a storage's dtype.
     *
     * @param name a class name such as {@code "FloatStorage"} or {@code "QUInt4x2Storage"}, without the
     *     {@code torch.} prefix
     * @return the dtype, or empty if no torch storage class has that name
     */
    public static Optional<DType> fromLegacyStorageName(String name) {
        return Optional.ofNullable(BY_LEGACY_STORAGE.get(name));
    }

    /**
     * Looks up a {@code c10::ScalarType} number.
     *
     * @param scalarType a number as {@link #scalarType()} returns it
     * @return the dtype, or empty outside 0..45
     */
    public static Optional<DType> fromScalarType(int scalarType) {
        return scalarType >= 0 && scalarType < SCALAR_TYPE_COUNT
                ? Optional.of(BY_SCALAR_TYPE[scalarType])
                : Optional.empty();
    }
}
