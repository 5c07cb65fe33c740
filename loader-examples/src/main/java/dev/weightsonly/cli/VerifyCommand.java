package dev.weightsonly.cli;

import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnreadableCheckpointException;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.SparseTensor;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code weightsonly verify FILE --against FILE.safetensors}: whether a conversion was exact. Tensors are
 * matched by dotted path, as {@code convert} names them, and must have the same dtype, shape and values bit
 * for bit: the logical values (strides, offsets and lazy conjugate/negative bits applied), compared as bytes,
 * so a NaN payload or the sign of a zero that changed is a difference. {@code diff} is the tool for "how
 * different"; this one answers "identical or not" and shows where not.
 *
 * <p>Both files are mapped and compared block by block ({@link Tensor#blocks(long)}), so memory does not grow with
 * the files.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Checks that a file holds the tensors of another, or has its published SHA-256 digest.",
        description = {"Checks that FILE holds exactly the tensors of the --against file (a conversion's output):"
                + " the same names (dotted paths), dtypes, shapes and values, bit for bit. It lists the first"
                + " differences.",
                "With --sha256 or --manifest (sha256sum's format, paths relative to it), it checks instead that each"
                + " file has its published SHA-256 digest, reading every byte."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:equal (digests: every file matches)",
                "1:different (the first differences on standard output; digests: a mismatch)",
                "2:usage or I/O error",
                "3:a file was refused (reason on standard error)"})
final class VerifyCommand implements Callable<Integer> {

    static final int EQUAL = 0;
    static final int DIFFERENT = 1;
    static final int REFUSED = 3;
    static final int SHOWN = 10;
    /** The most bytes of each tensor compared at once (two blocks are held: one of each file). */
    private static final long BLOCK_BYTES = 8L << 20;

    @Parameters(paramLabel = "FILE", arity = "0..*",
            description = "a torch checkpoint or safetensors file (--manifest: the listed files to check, default all)")
    List<Path> files = new ArrayList<>();

    @Option(names = "--against", paramLabel = "FILE.safetensors",
            description = "the file FILE must equal, usually what convert wrote from it")
    Path against;

    @Option(names = "--sha256", paramLabel = "HEX", description = "the SHA-256 FILE must have")
    String sha256;

    @Option(names = "--manifest", paramLabel = "SHA256SUMS",
            description = "a sha256sum file: every file it lists (or each FILE) must have its digest")
    Path manifest;

    private Path file;
    @Option(names = "--max-elements", paramLabel = "N",
            description = "the most elements the check may read from each file, checked before it starts"
                    + " (default: 2^30 plus the two files' sizes in bytes)")
    Long maxElements;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int modes = (against != null ? 1 : 0) + (sha256 != null ? 1 : 0) + (manifest != null ? 1 : 0);
        if (modes != 1 || (manifest == null && files.size() != 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give one FILE and one of --against,"
                    + " --sha256; or --manifest SHA256SUMS [FILE...]");
        }
        if (manifest != null) {
            int status = DigestCheck.manifest(manifest, files, out, spec.commandLine().getErr());
            out.flush();
            return status;
        }
        file = files.get(0);
        if (sha256 != null) {
            int status = DigestCheck.one(file, sha256, out, spec.commandLine().getErr());
            out.flush();
            return status;
        }
        List<String> differences = new ArrayList<>();
        int compared;
        long limit = maxElements != null ? maxElements : DiffCommand.defaultLimit(file, against);
        boolean same = Files.isSameFile(file, against);
        try (Checkpoint a = Checkpoint.load(file); Checkpoint b = same ? a : Checkpoint.load(against)) {
            Map<String, Object> left = DiffCommand.allTensors(a);
            Map<String, Object> right = DiffCommand.allTensors(b);
            long work = DiffCommand.elementsToRead(left, right);
            if (work > limit) {
                spec.commandLine().getErr().println("weightsonly: " + DiffCommand.overLimit(work, limit));
                return REFUSED;
            }
            compared = left.size();
            for (Map.Entry<String, Object> e : left.entrySet()) {
                Object other = right.get(e.getKey());
                if (other == null) {
                    differences.add("only in " + file + ": " + e.getKey());
                } else {
                    String d = difference(e.getKey(), e.getValue(), other);
                    if (d != null) {
                        differences.add(d);
                    }
                }
            }
            for (String name : right.keySet()) {
                if (!left.containsKey(name)) {
                    differences.add("only in " + against + ": " + name);
                }
            }
        } catch (UnreadableCheckpointException unreadable) {
            throw unreadable; // an I/O error (status 2), not a refusal
        } catch (CheckpointException refused) {
            // Reported as inspect reports it, but with its own status: a refused file is not a "different" one.
            spec.commandLine().getErr().println("weightsonly: " + WeightsOnlyCommand.refusal(refused, spec));
            return REFUSED;
        }
        if (differences.isEmpty()) {
            out.println("equal: " + compared + " tensor" + (compared == 1 ? "" : "s")
                    + " with the same names, dtypes, shapes and values");
            out.flush();
            return EQUAL;
        }
        out.println("different: " + differences.size() + " difference" + (differences.size() == 1 ? "" : "s")
                + (differences.size() > SHOWN ? ", the first " + SHOWN + ":" : ":"));
        differences.stream().limit(SHOWN).forEach(d -> out.println("  " + TerminalText.escape(d)));
        out.flush();
        return DIFFERENT;
    }

    /** Null when equal; otherwise what differs first. Sparse tensors: layout, size, then each stored part. */
    static String difference(String name, Object x, Object y) {
        if (x instanceof Tensor u && y instanceof Tensor v) {
            return difference(name, u, v);
        }
        if (!(x instanceof SparseTensor u && y instanceof SparseTensor v)) {
            return "sparse and dense: " + name + ": " + kind(x) + " vs " + kind(y);
        }
        if (u.layout() != v.layout() || !Arrays.equals(u.size(), v.size())) {
            return "layout or size differs: " + name + ": " + kind(u) + " " + Arrays.toString(u.size()) + " vs "
                    + kind(v) + " " + Arrays.toString(v.size());
        }
        Map<String, Tensor> pv = SparseParts.of(v);
        for (Map.Entry<String, Tensor> part : SparseParts.of(u).entrySet()) {
            String d = difference(name + " (" + part.getKey() + ")", part.getValue(), pv.get(part.getKey()));
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    private static String kind(Object t) {
        return t instanceof SparseTensor s ? SparseParts.describe(s) : "strided " + ((Tensor) t).dtype().torchName();
    }

    /** Null when equal; otherwise what differs first. */
    static String difference(String name, Tensor x, Tensor y) {
        if (x.dtype() != y.dtype()) {
            return "dtype differs: " + name + ": " + x.dtype() + " vs " + y.dtype();
        }
        if (!Arrays.equals(x.shape(), y.shape())) {
            return "shape differs: " + name + ": " + Arrays.toString(x.shape()) + " vs " + Arrays.toString(y.shape());
        }
        if (TensorComparison.sameView(x, y)) {
            return null;
        }
        if (TensorComparison.packed(x.dtype())) {
            Tensor[] u = TensorComparison.unpacked(x, y); // quint4x2, quint2x4: codes (or packed bytes) as uint8
            x = u[0];
            y = u[1];
        }
        // Dimensions both views repeat (stride 0) are read once; each element read stands for `repeat`.
        TensorComparison.Reduced r = TensorComparison.reduce(x, y);
        int es = x.dtype().elementSize();
        long differing = 0;
        long first = -1;
        Iterator<Tensor.Block> bx = r.a().blocks(BLOCK_BYTES).iterator();
        Iterator<Tensor.Block> by = r.b().blocks(BLOCK_BYTES).iterator();
        while (bx.hasNext()) {
            Tensor.Block p = bx.next();
            Tensor.Block q = by.next(); // same dtype and shape: the same blocks
            MemorySegment u = p.bytes();
            MemorySegment v = q.bytes();
            long at = u.mismatch(v);
            if (at < 0) {
                continue;
            }
            for (long e = at / es; e * es < u.byteSize(); e++) {
                if (u.asSlice(e * es, es).mismatch(v.asSlice(e * es, es)) >= 0) {
                    if (first < 0) {
                        first = p.firstElement() + e;
                    }
                    differing++;
                }
            }
        }
        if (differing == 0) {
            return null;
        }
        differing *= r.repeat();
        // The first differing element of the reduced views, at index 0 of each repeated dimension, is the
        // first of the whole views in row-major order.
        long[] index = unravel(first, r.a().shape());
        return "values differ: " + name + ": " + differing + " of " + x.numel() + " elements, the first at "
                + Arrays.toString(index) + ": " + value(x, index) + " vs " + value(y, index);
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] index = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    /** One part of a complex element, as exact as its dtype: complex128's parts are doubles, the others' floats. */
    private static String part(Tensor t, double value) {
        return t.dtype() == DType.COMPLEX128 ? PyValues.floatRepr(value) : PyValues.float32Repr((float) value);
    }

    /** One element as text: its value where the dtype has a scalar reading, else its bytes in hex. */
    static String value(Tensor t, long[] index) {
        try {
            return switch (t.dtype().kind()) {
                // The shortest form that reads back as the same value of the dtype (float32 and narrower exactly
                // as float32): two values that differ never print alike.
                case FLOAT -> t.dtype() == DType.FLOAT64 ? PyValues.floatRepr(t.getDouble(index))
                        : PyValues.float32Repr(t.getFloat(index));
                case COMPLEX -> ValueText.complex(t.getReal(index), t.getImag(index), v -> part(t, v));
                case BOOL -> Boolean.toString(t.getBoolean(index));
                case INT, QUANTIZED -> t.dtype() == DType.UINT64 ? Long.toUnsignedString(t.getLong(index))
                        : Long.toString(t.getLong(index));
                case BITS -> "0x" + Long.toHexString(t.getLong(index));
            };
        } catch (IllegalStateException noScalar) {
            long flat = 0;
            long[] shape = t.shape();
            for (int d = 0; d < shape.length; d++) {
                flat = flat * shape[d] + index[d];
            }
            return "0x" + HexFormat.of().formatHex(elementBytes(t, flat));
        }
    }

    /** The logical bytes of element {@code flat} (row-major), for dtypes without a scalar reading. */
    private static byte[] elementBytes(Tensor t, long flat) {
        int es = t.dtype().elementSize();
        for (Tensor.Block b : t.blocks(BLOCK_BYTES)) {
            if (flat < b.firstElement() + b.bytes().byteSize() / es) {
                return b.bytes().asSlice((flat - b.firstElement()) * es, es)
                        .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            }
        }
        throw new IndexOutOfBoundsException(flat);
    }
}
