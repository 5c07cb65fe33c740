package dev.weightsonly.testkit;

import static dev.weightsonly.testkit.ContainerBytes.checkpoint;
import static dev.weightsonly.testkit.ContainerBytes.records;
import static dev.weightsonly.testkit.PickleBytes.ascii;
import static dev.weightsonly.testkit.PickleBytes.call;
import static dev.weightsonly.testkit.PickleBytes.cat;
import static dev.weightsonly.testkit.PickleBytes.global;
import static dev.weightsonly.testkit.PickleBytes.floats;
import static dev.weightsonly.testkit.PickleBytes.ints;
import static dev.weightsonly.testkit.PickleBytes.orderedDict;
import static dev.weightsonly.testkit.PickleBytes.pickle;
import static dev.weightsonly.testkit.PickleBytes.storage;
import static dev.weightsonly.testkit.PickleBytes.str;
import static dev.weightsonly.testkit.PickleBytes.tensor;
import static dev.weightsonly.testkit.PickleBytes.tuple;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Hostile checkpoints, built in Java from the real formats (no Python, no committed binaries): each method returns
 * the bytes of one file and says which attack it stands for. Hand them to the code under test as an upload, a file
 * in a watched folder, or a stream; {@link CheckpointAssertions} checks weightsonly's verdict on them directly.
 *
 * <p>Every file is built so that nothing in it can run: the globals a pickle names are only names. The same
 * attacks, byte for byte, are files of weightsonly's own adversarial corpus (the kit's tests check it).
 */
public final class HostileCheckpoints {

    private HostileCheckpoints() {
    }

    /** The command the code-execution samples would run, if anything ever ran them. */
    public static final String COMMAND = "__import__('os').system('id')";

    private static final byte[] FOUR_FLOATS = floats(1, 2, 3, 4);

    /**
     * A zip checkpoint whose pickle calls {@code qualifiedName(argument)} (GLOBAL + REDUCE): the classic pickle
     * remote-code-execution. {@code callingGlobal("builtins.eval", COMMAND)} is what an attacker uploads; any name
     * works ({@code "posix.system"}, {@code "runpy._run_code"}, {@code "subprocess.check_output"}, ...).
     *
     * @param qualifiedName module and name, dotted ({@code "posix.system"})
     * @param argument      the string argument of the call
     * @return the file's bytes
     */
    public static byte[] callingGlobal(String qualifiedName, String argument) {
        return checkpoint(pickle(call(global(qualifiedName), str(argument))), records("0", FOUR_FLOATS));
    }

    /**
     * A state dict with a valid tensor {@code w} next to a value {@code x} that calls {@code qualifiedName("id")}:
     * the payload hides among real weights, so a loader that returns partial results would return the tensor.
     *
     * @param qualifiedName the global called, dotted
     * @return the file's bytes
     */
    public static byte[] stateDictCallingGlobal(String qualifiedName) {
        byte[] w = tensor(storage("FloatStorage", "0", 4), 0, new long[] {4}, new long[] {1});
        return checkpoint(pickle(orderedDict("w", w, "x", call(global(qualifiedName), str("id")))),
                records("0", FOUR_FLOATS));
    }

    /**
     * {@code posix.system("id")} among valid weights: the most common exploit sample.
     *
     * @return the file's bytes
     */
    public static byte[] osSystem() {
        return stateDictCallingGlobal("posix.system");
    }

    /**
     * {@code builtins.eval} of {@link #COMMAND}.
     *
     * @return the file's bytes
     */
    public static byte[] builtinsEval() {
        return callingGlobal("builtins.eval", COMMAND);
    }

    /**
     * {@code runpy._run_code} of {@link #COMMAND}: a gadget scanners long missed.
     *
     * @return the file's bytes
     */
    public static byte[] runpyRunCode() {
        return callingGlobal("runpy._run_code", COMMAND);
    }

    /**
     * CVE-2025-32434: a TorchScript archive (a checkpoint with {@code constants.pkl} and {@code code/}), which
     * PyTorch before 2.6 handed to the TorchScript loader even under {@code weights_only=True}; that loader runs the
     * archive's code. weightsonly refuses TorchScript unless {@code torchScriptWeights(true)} is asked for.
     *
     * @return the file's bytes
     */
    public static byte[] torchScriptArchive() {
        List<ContainerBytes.ZipEntry> entries = new ArrayList<>(ContainerBytes.checkpointEntries("archive",
                validStateDictPickle(), records("0", FOUR_FLOATS)));
        entries.add(ContainerBytes.ZipEntry.stored("archive/constants.pkl", pickle(ascii(")"))));
        entries.add(ContainerBytes.ZipEntry.stored("archive/code/__torch__/m.py",
                ascii("def forward(self):\n    return torch.ops.aten.zeros([1])\n")));
        return ContainerBytes.zip(entries);
    }

    /**
     * CVE-2026-24747: a tensor of 32 float32 elements over a storage record of 16 bytes. PyTorch before 2.10 built
     * the view and read or wrote past the record (heap memory of the loading process).
     *
     * @return the file's bytes
     */
    public static byte[] recordSizeMismatch() {
        byte[] w = tensor(storage("FloatStorage", "0", 32), 0, new long[] {32}, new long[] {1});
        return checkpoint(pickle(orderedDict("w", w)), records("0", FOUR_FLOATS));
    }

    /**
     * CVE-2025-62164 class: a sparse COO tensor whose index (10, 10) lies outside its 3 x 3 shape; densifying it
     * writes out of bounds unless every index is checked.
     *
     * @return the file's bytes
     */
    public static byte[] sparseIndexOutOfRange() {
        byte[] indices = tensor(storage("LongStorage", "0", 2), 0, new long[] {2, 1}, new long[] {1, 1});
        byte[] values = tensor(storage("FloatStorage", "1", 1), 0, new long[] {1}, new long[] {1});
        byte[] layout = call(global("torch.serialization", "_get_layout"), str("torch.sparse_coo"));
        byte[] sparse = call(global("torch._utils", "_rebuild_sparse_tensor"), layout,
                tuple(indices, values, ints(3, 3)));
        byte[] longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(10).putLong(10).array();
        return checkpoint(pickle(orderedDict("w", sparse)), records("0", longs, "1", floats(1)));
    }

    /**
     * A memo flood: {@code slots} values memoized (LONG_BINPUT), for a loader without a bound on its memo (a few
     * bytes per slot, tens of bytes of heap each). weightsonly refuses more than {@code maxMemoEntries}
     * (10,000,000 by default): pass one more than the limit the code under test uses.
     *
     * @param slots memo slots to fill
     * @return the file's bytes
     */
    public static byte[] memoFlood(int slots) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write('N');
        for (int i = 0; i < slots; i++) {
            body.write('r');
            body.writeBytes(PickleBytes.le32(i));
        }
        return checkpoint(pickle(body.toByteArray()), records("0", FOUR_FLOATS));
    }

    /**
     * A nesting bomb: 2,000 one-tuples nested in each other (TUPLE1), 2 KB that a recursive reader turns into a
     * stack overflow. weightsonly refuses nesting past {@code maxNestingDepth} (1,000 by default).
     *
     * @return the file's bytes
     */
    public static byte[] nestingBomb() {
        byte[] body = new byte[2001];
        body[0] = 'N';
        java.util.Arrays.fill(body, 1, body.length, (byte) 0x85);
        return checkpoint(pickle(body), records("0", FOUR_FLOATS));
    }

    /**
     * A zip bomb: a DEFLATED storage record of 64 MiB of zeros in about 64 KB. weightsonly refuses it from the
     * declared sizes before inflating ({@code maxInflationRatio}).
     *
     * @return the file's bytes
     */
    public static byte[] zipBomb() {
        int size = 64 << 20;
        byte[] w = tensor(storage("FloatStorage", "0", size / 4), 0, new long[] {size / 4}, new long[] {1});
        List<ContainerBytes.ZipEntry> entries = new ArrayList<>(ContainerBytes.checkpointEntries("archive",
                pickle(orderedDict("w", w)), records("0", new byte[0])));
        entries.set(2, ContainerBytes.ZipEntry.deflated("archive/data/0", new byte[size]));
        return ContainerBytes.zip(entries);
    }

    /**
     * Parser confusion: two pickles whose names differ only in ASCII case ({@code archive/data.pkl} and
     * {@code archive/DATA.PKL}, the second calling {@code posix.system}). PyTorch finds records regardless of case,
     * so a scanner that matches names exactly reads the harmless one while the loader may read the other.
     * weightsonly refuses such an archive as malformed.
     *
     * @return the file's bytes
     */
    public static byte[] caseFoldedRecordNames() {
        List<ContainerBytes.ZipEntry> entries = new ArrayList<>(ContainerBytes.checkpointEntries("archive",
                validStateDictPickle(), records("0", FOUR_FLOATS)));
        entries.add(ContainerBytes.ZipEntry.stored("archive/DATA.PKL",
                pickle(call(global("posix", "system"), str("id")))));
        return ContainerBytes.zip(entries);
    }

    /**
     * The legacy format (torch.save before 1.6, or {@code _use_new_zipfile_serialization=False}) whose object pickle
     * calls {@code qualifiedName("id")}: scanners that only open zip archives miss it.
     *
     * @param qualifiedName the global called, dotted
     * @return the file's bytes
     */
    public static byte[] legacyCallingGlobal(String qualifiedName) {
        return ContainerBytes.legacy(call(global(qualifiedName), str("id")), Map.of("0", FOUR_FLOATS),
                Map.of("0", 4L));
    }

    /**
     * PyTorch 0.1.x's tar format whose object pickle calls {@code qualifiedName("id")}.
     *
     * @param qualifiedName the global called, dotted
     * @return the file's bytes
     */
    public static byte[] tarCallingGlobal(String qualifiedName) {
        return ContainerBytes.tar(pickle(call(global(qualifiedName), str("id"))));
    }

    static byte[] validStateDictPickle() {
        return pickle(orderedDict("w", tensor(storage("FloatStorage", "0", 4), 0, new long[] {4}, new long[] {1})));
    }

    static byte[] fourFloats() {
        return FOUR_FLOATS;
    }

    static byte[] concat(byte[]... parts) {
        return cat(parts);
    }
}
