package dev.weightsonly.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.weightsonly.Checkpoint;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.LoadOptions;
import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.internal.torch.TorchUnpicklerHost;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * Coverage-guided fuzz targets (Jazzer) over the parts of the loader that read untrusted bytes: the
 * restricted unpickler, the readers of every container behind {@code Checkpoint.load(byte[])}, and the global
 * scanner. A target passes when the input ends in a result or one of the library's exceptions, in time;
 * anything else (an escaping runtime exception, an error, a hang) is a finding.
 *
 * <p>In an ordinary build each target replays its committed seeds (resources
 * {@code dev/weightsonly/fuzz/LoaderFuzzTestInputs/<target>/}, written by {@code gen_fuzz_seeds.py}); with
 * {@code JAZZER_FUZZ=1} Jazzer mutates them, guided by coverage, for {@code maxDuration}. {@code .ci/run} fuzzes
 * each target in turn. An input that fails becomes a seed (and a fix) so that every later build replays it.
 */
class LoaderFuzzTest {

    /**
     * A hang detector, far above what any input of a few kilobytes needs (milliseconds); generous because the
     * first inputs also pay for Jazzer instrumenting every class they reach, on a machine that may be busy.
     */
    private static final long MAX_MILLIS = 30_000;

    private static final Location WHERE = Location.of("fuzz");

    /** Limits low enough that no input of fuzzing size is slow, high enough for every real fixture. */
    private static final LoadLimits LIMITS = LoadLimits.builder()
            .maxStackDepth(10_000)
            .maxMarkDepth(1_000)
            .maxMemoEntries(10_000)
            .maxContainerLength(100_000)
            .maxObjects(1_000_000)
            .maxStringBytes(1 << 20)
            .maxIntegerBytes(1_000)
            .maxTensorElements(1L << 24)
            .maxInflatedBytes(1 << 24)
            .build();

    private static void inTime(long start, String what) {
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (millis > MAX_MILLIS) {
            throw new AssertionError(what + " took " + millis + " ms");
        }
    }

    /** The unpickler with torch's rules, storages from a zip-like source holding record "0" (16 bytes). */
    @FuzzTest(maxDuration = "75s")
    void unpickler(byte[] data) {
        long start = System.nanoTime();
        TorchUnpicklerHost host = new TorchUnpicklerHost((key, site) -> {
            if (key.equals("0")) {
                return MemorySegment.ofArray(new byte[16]);
            }
            throw site.malformed("no record " + key);
        }, false, Set.of("mymod.Thing"), LIMITS);
        try {
            Unpickler.Result r = Unpickler.load(MemorySegment.ofArray(data), 0, data.length, WHERE, host, LIMITS);
            if (r.end() <= 0 || r.end() > data.length) {
                throw new AssertionError("end " + r.end() + " of " + data.length);
            }
            CanonicalDump.toJson(r.value(), LIMITS.maxNestingDepth(), 100_000, 1L << 20);
        } catch (CheckpointException refused) {
            // the library's verdict
        } catch (IllegalArgumentException boundedDump) {
            // the dump's documented bounds
        }
        inTime(start, "unpickling");
    }

    /** {@code Checkpoint.load(byte[])}: zip (and TorchScript weights), legacy stream, tar, safetensors. */
    @FuzzTest(maxDuration = "75s")
    void checkpoint(byte[] data) {
        load(data, false);
        load(data, true);
    }

    /** The same reader, seeded with legacy streams and tar checkpoints rather than zip files. */
    @FuzzTest(maxDuration = "75s")
    void legacyAndTar(byte[] data) {
        load(data, false);
    }

    private static void load(byte[] data, boolean torchScript) {
        long start = System.nanoTime();
        LoadOptions options = LoadOptions.builder().limits(LIMITS).torchScriptWeights(torchScript).build();
        try (Checkpoint c = Checkpoint.load(data, "fuzz.pt", options)) {
            for (Tensor t : c.tensors().values()) {
                if (t.numel() <= 1 << 16) {
                    t.toByteArray();
                }
            }
            CanonicalDump.toJson(c.root(), LIMITS.maxNestingDepth(), 100_000, 1L << 20);
        } catch (CheckpointException refused) {
            // the library's verdict
        } catch (IllegalArgumentException boundedDump) {
            // the dump's documented bounds
        } catch (IOException e) {
            throw new AssertionError("a plain IOException from an in-memory load", e);
        }
        inTime(start, "loading");
    }

    /** The scanner never throws: every problem is part of its report. */
    @FuzzTest(maxDuration = "75s")
    void scanner(byte[] data) {
        long start = System.nanoTime();
        // The scan confirms a clean verdict with a load: under the fuzz limits, as the loads here run.
        ScanReport report = GlobalScanner.scan(MemorySegment.ofArray(data), "fuzz.pt", name -> name.startsWith("my"),
                LIMITS);
        report.toString();
        inTime(start, "scanning");
    }
}
