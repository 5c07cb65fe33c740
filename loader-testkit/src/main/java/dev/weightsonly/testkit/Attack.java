package dev.weightsonly.testkit;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import java.util.function.Supplier;

/**
 * The attacks the kit builds, each with the file that stands for it and the refusal weightsonly gives.
 * {@link HostileArbitraries#hostile(Attack...)} draws files by attack.
 */
public enum Attack {

    /** A pickle that calls {@code posix.system}, among valid weights. */
    OS_SYSTEM("pickle calls posix.system (remote code execution)", UnsafeCheckpointException.class,
            HostileCheckpoints::osSystem, true),
    /** A pickle that calls {@code builtins.eval}. */
    BUILTINS_EVAL("pickle calls builtins.eval (remote code execution)", UnsafeCheckpointException.class,
            HostileCheckpoints::builtinsEval, true),
    /** A pickle that calls {@code runpy._run_code}. */
    RUNPY_RUN_CODE("pickle calls runpy._run_code (remote code execution)", UnsafeCheckpointException.class,
            HostileCheckpoints::runpyRunCode, true),
    /** The legacy format calling {@code posix.system}. */
    LEGACY_OS_SYSTEM("legacy-format pickle calls posix.system", UnsafeCheckpointException.class,
            () -> HostileCheckpoints.legacyCallingGlobal("posix.system"), true),
    /** PyTorch 0.1.x's tar calling {@code posix.system}. */
    TAR_OS_SYSTEM("0.1.x tar pickle calls posix.system", UnsafeCheckpointException.class,
            () -> HostileCheckpoints.tarCallingGlobal("posix.system"), true),
    /** CVE-2025-32434: a TorchScript archive. */
    TORCHSCRIPT("TorchScript archive under weights-only (CVE-2025-32434)", UnsupportedCheckpointException.class,
            HostileCheckpoints::torchScriptArchive, true),
    /** CVE-2026-24747: a record shorter than its tensor (PyTorch 2.6 loads it: the flaw was fixed in 2.10). */
    RECORD_SIZE_MISMATCH("storage record smaller than its tensor (CVE-2026-24747)", MalformedCheckpointException.class,
            HostileCheckpoints::recordSizeMismatch, false),
    /** CVE-2025-62164 class: a sparse index outside the shape. */
    SPARSE_INDEX_OUT_OF_RANGE("sparse index outside the shape (CVE-2025-62164 class)",
            MalformedCheckpointException.class, HostileCheckpoints::sparseIndexOutOfRange, true),
    /** Two pickles whose names differ only in case (PyTorch 2.6 loads one of them, without a word). */
    CASE_FOLDED_RECORD_NAMES("records whose names are equal but for case (scanner/loader confusion)",
            MalformedCheckpointException.class, HostileCheckpoints::caseFoldedRecordNames, false),
    /** Tuples nested 2,000 deep. */
    NESTING_BOMB("tuples nested 2,000 deep (stack exhaustion)", LimitExceededException.class,
            HostileCheckpoints::nestingBomb, false),
    /**
     * One more memo slot than the default {@code maxMemoEntries} allows (10,000,001 LONG_BINPUTs, about 50 MB: the
     * heaviest file of the catalogue, and about a second to refuse).
     */
    MEMO_FLOOD("memo flooded past the default limit (memory exhaustion)", LimitExceededException.class,
            () -> HostileCheckpoints.memoFlood(dev.weightsonly.LoadLimits.defaults().maxMemoEntries() + 1), false),
    /** 64 MiB of zeros deflated into a small record. */
    ZIP_BOMB("deflated record inflating 1,000-fold (memory exhaustion)", LimitExceededException.class,
            HostileCheckpoints::zipBomb, false);

    private final String description;
    private final Class<? extends CheckpointException> refusal;
    private final Supplier<byte[]> builder;
    private final boolean refusedByPyTorch;

    Attack(String description, Class<? extends CheckpointException> refusal, Supplier<byte[]> builder,
            boolean refusedByPyTorch) {
        this.description = description;
        this.refusal = refusal;
        this.builder = builder;
        this.refusedByPyTorch = refusedByPyTorch;
    }

    /**
     * What the attack is.
     *
     * @return one line
     */
    public String description() {
        return description;
    }

    /**
     * The exception weightsonly refuses the attack's file with (under the default limits).
     *
     * @return a subclass of {@link CheckpointException}
     */
    public Class<? extends CheckpointException> refusal() {
        return refusal;
    }

    /**
     * A fresh copy of the attack's file.
     *
     * @return the file's bytes
     */
    public byte[] build() {
        return builder.get();
    }

    /**
     * Whether PyTorch 2.6's {@code torch.load(weights_only=True)} refuses the file too (checked by the kit's tests).
     * It does not for three: the resource attacks, which weightsonly's limits refuse and PyTorch loads given the
     * memory and time; the record-size mismatch, which 2.6 loads (CVE-2026-24747, fixed in 2.10); and the
     * case-folded names, where 2.6 reads the harmless {@code data.pkl} without a word. It refuses the 0.1.x tar
     * files for their format, whatever their pickle calls (2.6 reads no tar under {@code weights_only}), and the
     * TorchScript archive as TorchScript; every other file it refuses for the attack itself (the global it names,
     * the sparse index).
     *
     * @return true when PyTorch refuses it
     */
    public boolean refusedByPyTorch() {
        return refusedByPyTorch;
    }
}
