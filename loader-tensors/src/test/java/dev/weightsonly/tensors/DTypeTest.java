package dev.weightsonly.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DTypeTest {
    /** torch-spec.md section 13: scalar type, name, element size, legacy storage name ("-" for none). */
    private static final String TABLE = """
            0 uint8 1 ByteStorage
            1 int8 1 CharStorage
            2 int16 2 ShortStorage
            3 int32 4 IntStorage
            4 int64 8 LongStorage
            5 float16 2 HalfStorage
            6 float32 4 FloatStorage
            7 float64 8 DoubleStorage
            8 complex32 4 -
            9 complex64 8 ComplexFloatStorage
            10 complex128 16 ComplexDoubleStorage
            11 bool 1 BoolStorage
            12 qint8 1 QInt8Storage
            13 quint8 1 QUInt8Storage
            14 qint32 4 QInt32Storage
            15 bfloat16 2 BFloat16Storage
            16 quint4x2 1 QUInt4x2Storage
            17 quint2x4 1 QUInt2x4Storage
            18 bits1x8 1 -
            19 bits2x4 1 -
            20 bits4x2 1 -
            21 bits8 1 -
            22 bits16 2 -
            23 float8_e5m2 1 -
            24 float8_e4m3fn 1 -
            25 float8_e5m2fnuz 1 -
            26 float8_e4m3fnuz 1 -
            27 uint16 2 -
            28 uint32 4 -
            29 uint64 8 -
            30 uint1 1 -
            31 uint2 1 -
            32 uint3 1 -
            33 uint4 1 -
            34 uint5 1 -
            35 uint6 1 -
            36 uint7 1 -
            37 int1 1 -
            38 int2 1 -
            39 int3 1 -
            40 int4 1 -
            41 int5 1 -
            42 int6 1 -
            43 int7 1 -
            44 float8_e8m0fnu 1 -
            45 float4_e2m1fn_x2 1 -
            """;

    @Test
    void everyConstantMatchesTheSpecTable() {
        String[] rows = TABLE.strip().split("\n");
        assertEquals(46, rows.length);
        assertEquals(46, DType.values().length);
        for (String row : rows) {
            String[] cell = row.split(" ");
            int scalarType = Integer.parseInt(cell[0]);
            DType t = DType.fromTorchName(cell[1]).orElseThrow(() -> new AssertionError("missing " + row));
            assertEquals(scalarType, t.scalarType(), row);
            assertEquals(cell[1], t.torchName(), row);
            assertEquals(cell[1], t.toString(), row);
            assertEquals(Integer.parseInt(cell[2]), t.elementSize(), row);
            assertEquals(cell[3].equals("-") ? Optional.empty() : Optional.of(cell[3]), t.legacyStorageName(), row);
            assertEquals(t.name().toLowerCase(), t.torchName(), "constant name follows the torch name");
        }
    }

    @Test
    void lookupsRoundTripAndScalarTypesAreUnique() {
        Set<Integer> seen = new HashSet<>();
        for (DType t : DType.values()) {
            assertTrue(seen.add(t.scalarType()), "duplicate scalar type " + t.scalarType());
            assertEquals(Optional.of(t), DType.fromScalarType(t.scalarType()));
            assertEquals(Optional.of(t), DType.fromTorchName(t.torchName()));
            t.legacyStorageName().ifPresent(n -> assertEquals(Optional.of(t), DType.fromLegacyStorageName(n)));
        }
        assertEquals(17, Arrays.stream(DType.values()).filter(t -> t.legacyStorageName().isPresent()).count());
        assertEquals(Optional.empty(), DType.fromScalarType(-1));
        assertEquals(Optional.empty(), DType.fromScalarType(46));
    }

    @Test
    void lookupsAcceptOnlyCanonicalNames() {
        assertEquals(Optional.of(DType.BFLOAT16), DType.fromLegacyStorageName("BFloat16Storage"));
        assertEquals(Optional.of(DType.QUINT4X2), DType.fromLegacyStorageName("QUInt4x2Storage"));
        assertEquals(Optional.of(DType.FLOAT32), DType.fromLegacyStorageName("FloatStorage"));
        assertEquals(Optional.empty(), DType.fromLegacyStorageName("UntypedStorage"));
        assertEquals(Optional.empty(), DType.fromLegacyStorageName("floatStorage"));
        assertEquals(Optional.empty(), DType.fromTorchName("float"));
        assertEquals(Optional.empty(), DType.fromTorchName("half"));
        assertEquals(Optional.empty(), DType.fromTorchName("torch.float32"));
        assertEquals(Optional.empty(), DType.fromTorchName("FLOAT32"));
        assertEquals(Optional.empty(), DType.fromTorchName(null));
    }

    @Test
    void valueBitsKindsAndSignedness() {
        assertEquals(32, DType.FLOAT32.valueBits());
        assertEquals(8, DType.BOOL.valueBits());
        assertEquals(64, DType.COMPLEX64.valueBits());
        assertEquals(128, DType.COMPLEX128.valueBits());
        assertEquals(32, DType.COMPLEX32.valueBits());
        assertEquals(4, DType.QUINT4X2.valueBits());
        assertEquals(2, DType.QUINT2X4.valueBits());
        assertEquals(4, DType.FLOAT4_E2M1FN_X2.valueBits());
        assertEquals(1, DType.BITS1X8.valueBits());
        assertEquals(16, DType.BITS16.valueBits());
        assertEquals(8, DType.FLOAT8_E8M0FNU.valueBits());
        for (int bits = 1; bits <= 7; bits++) {
            DType u = DType.fromTorchName("uint" + bits).orElseThrow();
            DType s = DType.fromTorchName("int" + bits).orElseThrow();
            assertEquals(bits, u.valueBits());
            assertEquals(bits, s.valueBits());
            assertEquals(DType.Kind.INT, u.kind());
            assertEquals(DType.Kind.INT, s.kind());
            assertFalse(u.isSigned());
            assertTrue(s.isSigned());
        }
        for (DType t : DType.values()) {
            assertTrue(t.valueBits() <= 8 * t.elementSize(), t.torchName());
            String name = t.torchName();
            DType.Kind expected = name.startsWith("complex") ? DType.Kind.COMPLEX
                    : name.startsWith("float") || name.equals("bfloat16") ? DType.Kind.FLOAT
                    : name.startsWith("q") ? DType.Kind.QUANTIZED
                    : name.startsWith("bits") ? DType.Kind.BITS
                    : name.equals("bool") ? DType.Kind.BOOL
                    : DType.Kind.INT;
            assertEquals(expected, t.kind(), name);
            if (expected == DType.Kind.INT || expected == DType.Kind.QUANTIZED) {
                assertEquals(!name.startsWith("u") && !name.startsWith("qu"), t.isSigned(), name);
            }
        }
    }
}
