package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.weightsonly.dump.CanonicalDump;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import dev.weightsonly.testing.ScanLoadRule;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.testing.Fixtures;
import dev.weightsonly.testing.PickleOps;
import dev.weightsonly.testing.RawZip;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * Mutants of valid checkpoints of every container (zip, the legacy stream, the 0.1.x tar) never make a load
 * or a scan fail in any way but the library's: a load gives a {@link Checkpoint} (whose tensors, values and
 * canonical dump can then be read) or a {@link CheckpointException}, a scan gives a report that agrees with
 * the load ({@link ScanLoadRule}: exit 0 only for a file that loads), each within a time bound (a hang
 * detector). Mutations are bit flips, byte writes and truncations of the file, and splices: of records
 * (swapped, copied, dropped, duplicated, renamed, their names' case changed, re-compressed) and of pickle
 * opcodes (dropped, repeated, swapped, grafted from another checkpoint's pickle). Runs with -Xmx64m
 * (loader-core's small-heap execution), so an allocation a hostile file could force shows up as a failure here.
 *
 * <p>The opcode-stream properties of the unpickler alone are in {@code pickle.UnpicklerFuzzProperties}. This
 * class replaces the byte-corruption property ZipContainerTest had (its fixtures are among the seeds).
 */
class HostileInputProperties {

    /** A hang detector, not a speed test: mutants load in milliseconds. */
    private static final long MAX_MILLIS = 30_000;

    enum Kind { ZIP, LEGACY, TAR }

    /** A checkpoint taken apart: zip records, the legacy stream's five pickles and raw tail, or tar members. */
    record Seed(String name, Kind kind, List<String> names, List<byte[]> parts) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Seed> SEEDS = seeds();

    private static List<Seed> seeds() {
        List<Seed> seeds = new ArrayList<>();
        for (String f : List.of("sd_linear", "views", "proto0", "proto4", "sparse", "conj_neg_meta", "shared_refs",
                "quantized", "python_values", "train_checkpoint", "dtypes")) {
            seeds.add(zip(f, Fixtures.file(f)));
        }
        seeds.add(zip("ts_module", Fixtures.dir().resolve("torchscript/ts_module.pt")));
        seeds.add(zip("F04a", corpus("F04a_torch_like_zip.pt")));
        seeds.add(zip("F04e", corpus("F04e_rezipped_deflated.pt")));
        for (String f : List.of("legacy_state_dict", "legacy_views", "legacy_train_checkpoint")) {
            seeds.add(legacy(f, Fixtures.bytes(f)));
        }
        seeds.add(legacy("F04b", read(corpus("F04b_legacy_stream.pt"))));
        seeds.add(tar("tar_checkpoint", read(Fixtures.dir().resolve("tar/tar_checkpoint.pt"))));
        seeds.add(tar("F04c", read(corpus("F04c_tar.pt"))));
        return List.copyOf(seeds);
    }

    private static Path corpus(String file) {
        return AdversarialCorpusTest.dir().resolve(file);
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Seed zip(String name, Path file) {
        List<String> names = new ArrayList<>();
        List<byte[]> parts = new ArrayList<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                names.add(e.getName());
                parts.add(zip.getInputStream(e).readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Seed(name, Kind.ZIP, names, parts);
    }

    private static Seed legacy(String name, byte[] bytes) {
        List<String> names = new ArrayList<>();
        List<byte[]> parts = new ArrayList<>();
        int pos = 0;
        for (int i = 1; i <= 5; i++) {
            int end = PickleOps.end(bytes, pos);
            assertTrue(end > pos, name + ": pickle " + i);
            names.add("pickle" + i + ".pkl");
            parts.add(java.util.Arrays.copyOfRange(bytes, pos, end));
            pos = end;
        }
        names.add("storages");
        parts.add(java.util.Arrays.copyOfRange(bytes, pos, bytes.length));
        return new Seed(name, Kind.LEGACY, names, parts);
    }

    private static Seed tar(String name, byte[] bytes) {
        List<String> names = new ArrayList<>();
        List<byte[]> parts = new ArrayList<>();
        int pos = 0;
        while (pos + 512 <= bytes.length && bytes[pos] != 0) {
            String member = new String(bytes, pos, 100, StandardCharsets.US_ASCII).replace("\0", "");
            long size = Long.parseLong(new String(bytes, pos + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
            char type = (char) bytes[pos + 156];
            if (type == '0' || type == 0) {
                names.add(member);
                parts.add(java.util.Arrays.copyOfRange(bytes, pos + 512, pos + 512 + (int) size));
            }
            pos += 512 + (int) ((size + 511) / 512 * 512);
        }
        return new Seed(name, Kind.TAR, names, parts);
    }

    // ---- putting a (mutated) seed back together ----------------------------------------------------------------

    static byte[] assemble(Kind kind, List<String> names, List<byte[]> parts, boolean deflateFirst) {
        return switch (kind) {
            case ZIP -> {
                RawZip zip = RawZip.create();
                for (int i = 0; i < names.size(); i++) {
                    if (deflateFirst && i == 0) {
                        zip.deflated(names.get(i), parts.get(i));
                    } else {
                        zip.stored(names.get(i), parts.get(i));
                    }
                }
                yield zip.bytes();
            }
            case LEGACY -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                parts.forEach(out::writeBytes);
                yield out.toByteArray();
            }
            case TAR -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (int i = 0; i < names.size(); i++) {
                    out.writeBytes(tarHeader(names.get(i), parts.get(i).length));
                    out.writeBytes(parts.get(i));
                    out.writeBytes(new byte[(512 - parts.get(i).length % 512) % 512]);
                }
                out.writeBytes(new byte[1024]);
                yield out.toByteArray();
            }
        };
    }

    private static byte[] tarHeader(String name, long size) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, h, 0, Math.min(n.length, 100));
        put(h, 100, "0000644\0");
        put(h, 108, "0000000\0");
        put(h, 116, "0000000\0");
        put(h, 124, String.format("%011o", size) + "\0");
        put(h, 136, "00000000000\0");
        put(h, 148, "        ");
        h[156] = '0';
        put(h, 257, "ustar\0");
        put(h, 263, "00");
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        put(h, 148, String.format("%06o", sum) + "\0 ");
        return h;
    }

    private static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    @Example
    void everySeedReassembledLoads() throws IOException {
        for (Seed seed : SEEDS) {
            byte[] bytes = assemble(seed.kind(), seed.names(), seed.parts(), false);
            try (Checkpoint c = Checkpoint.load(bytes, seed.name(), options(seed, true))) {
                assertTrue(c.tensorCount() >= 0, seed.name());
                exercise(c);
            }
        }
    }

    private static LoadOptions options(Seed seed, boolean torchScript) {
        return LoadOptions.builder().torchScriptWeights(torchScript).build();
    }

    // ---- mutations ----------------------------------------------------------------------------------------------

    /** One edit: an operation number and three numbers it picks its targets with. */
    record Edit(int op, int a, int b, int c) {
    }

    private static final int PICKLE_EDITS = 5;
    private static final int PART_EDITS = 8;

    static byte[] mutate(Seed seed, List<Edit> structural, List<Edit> raw) {
        List<String> names = new ArrayList<>(seed.names());
        List<byte[]> parts = new ArrayList<>(seed.parts());
        boolean deflate = false;
        for (Edit e : structural) {
            int i = Math.floorMod(e.a(), parts.size());
            int j = Math.floorMod(e.b(), parts.size());
            if (e.op() < PICKLE_EDITS) {
                int p = pickleIndex(names, e.a());
                if (p >= 0) {
                    parts.set(p, splice(parts.get(p), e));
                }
                continue;
            }
            switch (e.op() - PICKLE_EDITS) {
                case 0 -> {                                             // swap two parts' bytes
                    byte[] t = parts.get(i);
                    parts.set(i, parts.get(j));
                    parts.set(j, t);
                }
                case 1 -> parts.set(j, parts.get(i));                   // copy one part over another
                case 2 -> {                                             // drop a part
                    if (parts.size() > 1) {
                        parts.remove(i);
                        names.remove(i);
                    }
                }
                case 3 -> {                                             // duplicate a part (same name)
                    parts.add(j, parts.get(i));
                    names.add(j, names.get(i));
                }
                case 4 -> names.set(i, names.get(i) + (e.c() % 2 == 0 ? "x" : "/"));   // rename
                case 5 -> names.set(i, names.get(i).toUpperCase(java.util.Locale.ROOT)); // a name's case
                case 6 -> {                                             // a twin whose name differs in case
                    parts.add(j, parts.get(Math.floorMod(e.c(), parts.size())));
                    names.add(j, names.get(i).toUpperCase(java.util.Locale.ROOT));
                }
                default -> deflate = seed.kind() == Kind.ZIP;         // re-compress the first record
            }
        }
        byte[] bytes = assemble(seed.kind(), names, parts, deflate);
        for (Edit e : raw) {
            if (bytes.length == 0) {
                break;
            }
            int at = Math.floorMod(e.a(), bytes.length);
            switch (e.op() % 4) {
                case 0 -> bytes[at] ^= (byte) (1 << Math.floorMod(e.b(), 8));                    // bit flip
                case 1 -> bytes[at] = (byte) e.b();                                             // byte write
                case 2 -> bytes = java.util.Arrays.copyOf(bytes, at);                           // truncation
                default -> {                                                                   // 4-byte write
                    for (int k = 0; k < 4 && at + k < bytes.length; k++) {
                        bytes[at + k] = (byte) (e.c() >>> (8 * k));
                    }
                }
            }
        }
        return bytes;
    }

    /** The index of a part that is (or starts with) a pickle, chosen by {@code pick}, or -1. */
    private static int pickleIndex(List<String> names, int pick) {
        List<Integer> pickles = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            String n = names.get(k);
            if (n.endsWith(".pkl") || n.equals("pickle") || n.equals("tensors") || n.equals("storages")
                    && !names.contains("pickle5.pkl")) {
                pickles.add(k);
            }
        }
        return pickles.isEmpty() ? -1 : pickles.get(Math.floorMod(pick, pickles.size()));
    }

    /** Edits one pickle at opcode boundaries; what follows its STOP (raw storage data) is kept. */
    private static byte[] splice(byte[] pickle, Edit e) {
        List<long[]> ops = new ArrayList<>(PickleOps.split(pickle, 0));
        if (ops.isEmpty()) {
            return pickle;
        }
        int tailStart = (int) ops.get(ops.size() - 1)[1];
        int i = Math.floorMod(e.b(), ops.size());
        int j = Math.floorMod(e.c(), ops.size());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (e.op()) {
            case 0 -> ops.remove(i);                                    // drop an instruction
            case 1 -> ops.add(i, ops.get(j));                           // repeat one elsewhere
            case 2 -> Collections.swap(ops, i, j);                      // swap two
            case 3 -> {                                                 // drop a run
                for (int k = 0; k < 1 + Math.floorMod(e.c(), 8) && i < ops.size(); k++) {
                    ops.remove(i);
                }
            }
            default -> {                                                // graft a run from another seed's pickle
                Seed donor = SEEDS.get(Math.floorMod(e.c(), SEEDS.size()));
                int d = pickleIndex(donor.names(), e.b());
                if (d >= 0) {
                    byte[] other = donor.parts().get(d);
                    List<long[]> theirs = PickleOps.split(other, 0);
                    if (!theirs.isEmpty()) {
                        int from = Math.floorMod(e.b() * 31 + e.c(), theirs.size());
                        int to = Math.min(theirs.size(), from + 1 + Math.floorMod(e.c(), 12));
                        out.writeBytes(PickleOps.join(pickle, ops.subList(0, i)));
                        out.writeBytes(PickleOps.join(other, theirs.subList(from, to)));
                        out.writeBytes(PickleOps.join(pickle, ops.subList(i, ops.size())));
                        out.write(pickle, tailStart, pickle.length - tailStart);
                        return out.toByteArray();
                    }
                }
            }
        }
        out.writeBytes(PickleOps.join(pickle, ops));
        out.write(pickle, tailStart, pickle.length - tailStart);
        return out.toByteArray();
    }

    // ---- checking one mutant ------------------------------------------------------------------------------------

    /** Loads and scans {@code bytes}: a checkpoint or a library exception, within the time bound. */
    static String loadsOrFailsCleanly(byte[] bytes, LoadOptions options, String label) {
        long start = System.nanoTime();
        String outcome;
        CheckpointException refusal = null;
        try (Checkpoint c = Checkpoint.load(bytes, "mutant.pt", options)) {
            exercise(c);
            outcome = "loaded";
        } catch (CheckpointException e) {
            assertTrue(e.getMessage().startsWith("mutant.pt: "), e.getMessage());
            outcome = e.getClass().getSimpleName();
            refusal = e;
        } catch (IOException e) {
            throw new AssertionError(label + ": a plain IOException from an in-memory load", e);
        } catch (Throwable t) {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            fail(label + " (" + bytes.length + " bytes) escaped:\n" + trace);
            return "escaped";
        }
        ScanReport report = null;
        try {
            report = GlobalScanner.scan(MemorySegment.ofArray(bytes), "mutant.pt", name -> false);
        } catch (Throwable t) {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            fail(label + ": the scan escaped:\n" + trace);
        }
        // A TorchScript archive scans as dangerous, so the option that loads one never meets a clean scan.
        ScanLoadRule.assertAgree(label, report, refusal);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < MAX_MILLIS, label + " took " + millis + " ms");
        return outcome;
    }

    /** What a caller does with a loaded checkpoint; none of it may fail but by the documented bounds. */
    static void exercise(Checkpoint c) {
        for (Tensor t : c.tensors().values()) {
            if (t.numel() <= 1 << 16) {
                assertEquals(t.byteSize(), t.toByteArray().length);
            }
        }
        try {
            CanonicalDump.toJson(c.root(), c.limits().maxNestingDepth(), 200_000, 1L << 20);
        } catch (IllegalArgumentException bounded) {
            // a documented bound of the dump (depth, values, characters, hashed bytes)
        }
    }

    @Provide
    Arbitrary<Seed> seed() {
        return Arbitraries.of(SEEDS);
    }

    private static Arbitrary<Edit> edits(int ops) {
        return Combinators.combine(Arbitraries.integers().between(0, ops - 1), Arbitraries.integers(),
                Arbitraries.integers(), Arbitraries.integers()).as(Edit::new);
    }

    @Provide
    Arbitrary<List<Edit>> structural() {
        return edits(PICKLE_EDITS + PART_EDITS).list().ofMinSize(1).ofMaxSize(3);
    }

    @Provide
    Arbitrary<List<Edit>> pickleSplices() {
        return edits(PICKLE_EDITS).list().ofMinSize(1).ofMaxSize(4);
    }

    @Provide
    Arbitrary<List<Edit>> rawEdits() {
        return Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(List.<Edit>of())),
                Tuple.of(3, edits(4).list().ofMinSize(1).ofMaxSize(6)));
    }

    @Property(tries = 1500)
    void mutatedFilesOfEveryContainerOnlyEverFailCleanly(@ForAll("seed") Seed seed,
            @ForAll("structural") List<Edit> structural, @ForAll("rawEdits") List<Edit> raw,
            @ForAll boolean torchScript) {
        byte[] bytes = mutate(seed, structural, raw);
        Statistics.label("container").collect(seed.kind());
        String outcome = loadsOrFailsCleanly(bytes, options(seed, torchScript),
                seed + " " + structural + " " + raw);
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(c -> {
            c.check("loaded").count(n -> n >= 30);
            c.check("MalformedCheckpointException").percentage(p -> p >= 20);
        });
    }

    @Property(tries = 1000)
    void splicedPicklesInsideEveryContainerOnlyEverFailCleanly(@ForAll("seed") Seed seed,
            @ForAll("pickleSplices") List<Edit> splices) {
        byte[] bytes = mutate(seed, splices, List.of());
        String outcome = loadsOrFailsCleanly(bytes, options(seed, false), seed + " " + splices);
        Statistics.collect(seed.kind(), outcome);
    }

    @Property(tries = 400)
    void truncatedFilesAreRefused(@ForAll("seed") Seed seed, @ForAll int cut) {
        byte[] whole = assemble(seed.kind(), seed.names(), seed.parts(), false);
        byte[] prefix = java.util.Arrays.copyOf(whole, Math.floorMod(cut, whole.length));
        String outcome = loadsOrFailsCleanly(prefix, options(seed, true), seed + " cut at " + prefix.length);
        // Every proper prefix of a checkpoint is refused: zip needs its end record, the legacy stream its last
        // storage, a tar its members (only the padding and end blocks after the last member's data may go).
        int lastData = seed.parts().get(seed.parts().size() - 1).length;
        int complete = seed.kind() == Kind.TAR ? whole.length - 1024 - (512 - lastData % 512) % 512 : whole.length;
        if (prefix.length < complete) {
            assertTrue(!outcome.equals("loaded"), seed + " cut at " + prefix.length + " loaded");
        }
    }
}
