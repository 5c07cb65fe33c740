package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Quantizer;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.QScheme;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The per-channel quantizer that {@code _rebuild_qtensor} makes from {@code (qscheme, scales, zero_points, axis)},
 * holding what torch 2.6's quantizer holds (checked with PyTorch 2.6, docs/DIFFERENTIAL-FUZZING.md):
 * <ul>
 *   <li>ATen's {@code make_per_channel_affine_quantizer} chooses by the zero points' dtype, not by the tag: floating
 *       zero points make a float-qparams quantizer keeping {@code scales.to(float32).contiguous()} and
 *       {@code zero_points.to(float32).contiguous()}; any other zero points (integers, bool, complex: the real
 *       part) make a per_channel_affine quantizer keeping {@code scales.to(float64).contiguous()} and
 *       {@code zero_points.to(int64).contiguous()}. A parameter already of that dtype and layout is kept as saved
 *       (its storage, offset and flags); any other is a fresh copy ({@link TensorConversion});</li>
 *   <li>the list form of older files ({@code type(scales) is list and type(zero_points) is list}) becomes
 *       {@code torch.tensor(list, dtype=...)} by the tag: float64 scales and int64 zero points for
 *       per_channel_affine, float32 both for per_channel_affine_float_qparams, each number converted as
 *       {@code torch.tensor} converts it.</li>
 * </ul>
 * Beyond torch, the number of scales and zero points must be the size of the quantization axis (torch builds the
 * tensor anyway and fails in {@code dequantize()}): a deliberate difference (docs/SECURITY.md, strict-structure)
 * that also bounds the parameters' copies by the tensor.
 */
final class QuantizerParams {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantizerParams() {
    }

    /** The quantizer of {@code tensor} for {@code params = (qscheme, scales, zero_points, axis)}. */
    static Quantizer.PerChannelAffine perChannel(QScheme scheme, PyTuple params, Tensor tensor, CallSite site)
            throws CheckpointException {
        if (params.size() != 4) {
            throw site.malformed(scheme.torchName() + " takes (qscheme, scales, zero_points, axis), got "
                    + PyValues.shortRepr(params));
        }
        String location = tensor.storage().location();
        Tensor scales;
        Tensor zeroPoints;
        if (params.get(1) instanceof PyList s && params.get(2) instanceof PyList z) {
            boolean floatQParams = scheme == QScheme.PER_CHANNEL_AFFINE_FLOAT_QPARAMS;
            scales = fromList(s, floatQParams ? DType.FLOAT32 : DType.FLOAT64, "scales", location, site);
            zeroPoints = fromList(z, floatQParams ? DType.FLOAT32 : DType.INT64, "zero_points", location, site);
        } else if (params.get(1) instanceof Tensor s && params.get(2) instanceof Tensor z) {
            scales = s;
            zeroPoints = z;
        } else {
            throw site.malformed(scheme.torchName() + " takes (qscheme, scales, zero_points, axis) with scales and"
                    + " zero points both tensors or both lists, got " + PyValues.shortRepr(params));
        }
        if (!(params.get(3) instanceof Long axis)) {
            throw site.malformed("axis must be an int, got " + PyValues.shortRepr(params.get(3)));
        }
        if (axis < 0 || axis >= tensor.dim()) {
            throw site.malformed("quantization axis " + axis + " is outside a tensor of " + tensor.dim()
                    + " dimensions");
        }
        if (scales.dim() != 1 || zeroPoints.dim() != 1) {
            throw site.malformed("per-channel scales and zero points must have dimension 1, got shapes "
                    + Arrays.toString(scales.shape()) + " and " + Arrays.toString(zeroPoints.shape()));
        }
        if (scales.numel() != zeroPoints.numel()) {
            throw site.malformed("number of elements in scales and zero_points must match, got " + scales.numel()
                    + " and " + zeroPoints.numel());
        }
        if (!TensorConversion.floating(scales.dtype())) {
            throw site.malformed("scale tensor must be floating point, got " + scales.dtype());
        }
        boolean floatQParams = TensorConversion.floating(zeroPoints.dtype());
        if (!floatQParams && !TensorConversion.convertibleToLong(zeroPoints.dtype())) {
            throw site.malformed("per-channel zero points of dtype " + zeroPoints.dtype() + " have no integer value");
        }
        long channels = tensor.size(axis.intValue());
        if (scales.numel() != channels) {
            throw site.malformed("quantization axis " + axis + " has size " + channels + " but " + scales.numel()
                    + " scales and zero points were saved (torch builds such a tensor and fails to dequantize it)");
        }
        scales = TensorConversion.contiguousAs(scales, floatQParams ? DType.FLOAT32 : DType.FLOAT64,
                "per-channel scales", site);
        zeroPoints = TensorConversion.contiguousAs(zeroPoints, floatQParams ? DType.FLOAT32 : DType.INT64,
                "per-channel zero points", site);
        return new Quantizer.PerChannelAffine(scales, zeroPoints, axis.intValue(), floatQParams);
    }

    /**
     * {@code torch.tensor(list, dtype=target)} for a flat list of Python numbers: for float64 and float32 an int
     * is rounded to a double once (Python's {@code int.__float__}: too large for a double is an error) and a
     * float32 is the double rounded again (overflowing to infinity); for int64 an int must fit 64 bits and a
     * float is cast as torch's {@code checked_convert} does (NaN and values beyond 2^63 are errors, 2^63 itself
     * is cast to -2^63 as x86 does). A bool is 0 or 1.
     */
    private static Tensor fromList(PyList list, DType target, String what, String location, CallSite site)
            throws CheckpointException {
        int n = list.size();
        MemorySegment out = MemorySegment.ofArray(new byte[Math.multiplyExact(n, target.elementSize())]);
        for (int i = 0; i < n; i++) {
            Object v = list.get(i);
            if (v instanceof Boolean b) {
                v = b ? 1L : 0L;
            }
            if (target == DType.INT64) {
                out.setAtIndex(LE_LONG, i, toLong(v, what, site));
            } else {
                double d = toDouble(v, what, site);
                if (target == DType.FLOAT64) {
                    out.setAtIndex(LE_DOUBLE, i, d);
                } else {
                    out.setAtIndex(LE_FLOAT, i, (float) d);
                }
            }
        }
        Storage storage = Storage.of(out, "quantizer " + what + " (from a list)", location,
                site.limits().maxMaterializedBytes());
        return Tensor.contiguousView(storage, target, 0, n);
    }

    private static long toLong(Object v, String what, CallSite site) throws CheckpointException {
        return switch (v) {
            case Long l -> l;
            case BigInteger big -> throw site.malformed("quantizer " + what + " list holds " + big
                    + ", beyond int64 (Overflow when unpacking long)");
            case Double d -> {
                if (Double.isNaN(d) || d > 0x1p63 || d < -0x1p63) {
                    throw site.malformed("quantizer " + what + " list holds " + d
                            + ", which cannot be converted to type int64 without overflow");
                }
                yield TensorConversion.truncate(d);
            }
            default -> throw notANumber(v, what, site);
        };
    }

    private static double toDouble(Object v, String what, CallSite site) throws CheckpointException {
        return switch (v) {
            case Double d -> d;
            case Long l -> (double) l;
            case BigInteger big -> {
                double d = big.doubleValue(); // rounds half to even, as CPython's int.__float__
                if (Double.isInfinite(d)) {
                    throw site.malformed("quantizer " + what + " list holds an int too large to convert to float");
                }
                yield d;
            }
            default -> throw notANumber(v, what, site);
        };
    }

    private static CheckpointException notANumber(Object v, String what, CallSite site) {
        // torch.tensor takes nested lists (more dimensions: refused by the dimension check) and 0-d tensors; the
        // list form torch.save once wrote holds numbers only, and nothing else is read here
        return site.malformed("quantizer " + what + " lists hold numbers, got " + PyValues.typeName(v));
    }
}
