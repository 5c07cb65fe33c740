package dev.weightsonly.internal.scan;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.container.LegacyTar;
import dev.weightsonly.internal.container.ZipArchive;
import dev.weightsonly.internal.safetensors.ShardIndex;
import dev.weightsonly.scan.GlobalScanner;
import dev.weightsonly.scan.ScanReport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@code scan PATH...} scans: each path that is a file, and the checkpoints found under each folder.
 *
 * <p>In a folder, a file is scanned when its <b>content</b> is one the loader reads: a zip checkpoint (a zip
 * holding a {@code .pkl} record: torch.save's format, and TorchScript archives), a legacy stream (its magic
 * number), a 0.1.x tar checkpoint (a tar with a {@code pickle} member), a safetensors file (an 8-byte header
 * length then a JSON object), or a bare pickle (PROTO first; a protocol 0/1 pickle, which has no header, when
 * its opcodes read through to STOP or name a global that is a Python name). Files named like checkpoints ({@code .pt .pth .pkl .pickle
 * .ckpt .safetensors .bin .zip}: {@code pytorch_model.bin} and zip checkpoints go by the last two, as in
 * picklescan) are scanned whatever they hold, so a renamed, broken or encrypted one is reported, not skipped.
 * Other files (sources, a jar with no pickle, text) are not counted. A path given as a file is always scanned.
 *
 * <p>Symbolic links are followed only to files inside the tree being scanned; one that leads out of it is
 * reported as unreadable and not read. A Hugging Face hub cache ({@code models--org--name/snapshots/REV/},
 * whose files are links into the same repository folder's {@code blobs/}) counts as that tree, so scanning a
 * snapshot reads its blobs; a {@code blobs/} folder itself is not walked (its files are reached through the
 * snapshots). Files of one model are grouped: a snapshot is the model {@code org/name@REV}, and a folder with a
 * shard index ({@code *.index.json}, as {@code save_pretrained} writes) is one model whose shards the index
 * names; a shard the index names but the folder lacks is reported as unreadable.
 */
public final class ScanTargets {

    /** Extensions scanned whatever the content: the names torch and safetensors files go by. */
    private static final Set<String> CHECKPOINT_EXTENSIONS = Set.of("pt", "pth", "pkl", "pickle", "ckpt",
            "safetensors", "bin", "zip");
    private static final byte[] LEGACY_MAGIC = HexFormat.of().parseHex("80028a0a6cfc9c46f9206aa850192e");
    private static final Pattern HUB_REPO = Pattern.compile("(models|datasets|spaces)--(.+)");
    private static final Pattern PYTHON_NAME = Pattern.compile("[A-Za-z_][\\w.]*\\.[A-Za-z_]\\w*");
    private static final int MAX_DEPTH = 64;

    /**
     * One file to scan.
     *
     * @param file  where it is read (a link's own path: reading it follows the link, which stays in the tree)
     * @param path  the path as reported: as given on the command line, joined with the file's path under it
     * @param model the model it belongs to ({@code org/name@rev}, or a sharded folder), or null
     */
    public record Target(Path file, String path, String model) {
    }

    /**
     * A path that could not be scanned.
     *
     * @param path   as reported
     * @param reason why (missing, a link out of the tree, a missing shard, an I/O error)
     */
    public record Unreadable(String path, String reason) {
    }

    /** The files found, in the order given (a folder's files sorted by path), and what could not be read. */
    public record Found(List<Target> targets, List<Unreadable> unreadable) {
        public Found {
            targets = List.copyOf(targets);
            unreadable = List.copyOf(unreadable);
        }
    }

    private ScanTargets() {
    }

    /** Expands {@code paths}: files as they are, folders to the checkpoints under them. */
    public static Found expand(List<Path> paths) {
        List<Target> targets = new ArrayList<>();
        List<Unreadable> unreadable = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                walk(p, targets, unreadable);
            } else if (Files.exists(p)) {
                targets.add(new Target(p, p.toString(), hubModel(p.toAbsolutePath().normalize())));
            } else {
                unreadable.add(new Unreadable(p.toString(), Files.exists(p, LinkOption.NOFOLLOW_LINKS)
                        ? "a link to nothing" : "no such file"));
            }
        }
        return new Found(targets, unreadable);
    }

    /** Whether the content of {@code file} (or its name) makes it a file this scan reads. */
    public static boolean isCheckpoint(Path file) throws IOException {
        if (CHECKPOINT_EXTENSIONS.contains(extension(file))) {
            return true;
        }
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                return false;
            }
            return recognise(ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        }
    }

    static boolean recognise(MemorySegment bytes) {
        long size = bytes.byteSize();
        int b0 = bytes.get(ValueLayout.JAVA_BYTE, 0) & 0xFF;
        if (b0 == '\n' || b0 == ' ' || b0 == '#' || b0 == '<' || b0 == '{' || b0 == '/') {
            return false; // text, markup, JSON, sources: no pickle opcode starts so
        }
        if (ZipArchive.looksLikeZip(bytes)) {
            try {
                ZipArchive zip = ZipArchive.open(bytes, Location.of("scan"), LoadLimits.defaults());
                return zip.recordNames().stream().anyMatch(n -> n.endsWith(".pkl") || n.endsWith("_pkl"));
            } catch (CheckpointException e) {
                return false; // no load reads it either
            }
        }
        if (size >= LEGACY_MAGIC.length && bytes.asSlice(0, LEGACY_MAGIC.length).mismatch(
                MemorySegment.ofArray(LEGACY_MAGIC)) < 0) {
            return true;
        }
        if (LegacyTar.looksLikeTar(bytes)) {
            try {
                LegacyTar.open(bytes, Location.of("scan"), LoadLimits.defaults().maxArchiveEntries())
                        .member("pickle", Location.of("scan"));
                return true;
            } catch (CheckpointException e) {
                return false;
            }
        }
        if (size > 9) { // safetensors: u64 header length, then the JSON header
            long n = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n >= 2 && n <= size - 8 && bytes.get(ValueLayout.JAVA_BYTE, 8) == '{') {
                return true;
            }
        }
        if (size >= 2 && b0 == 0x80) {
            int proto = bytes.get(ValueLayout.JAVA_BYTE, 1) & 0xFF;
            return proto <= 5;
        }
        // A protocol 0/1 pickle has no header: it is one if reading its opcodes reaches STOP, or names a
        // global (a payload runs before a broken tail would stop a load). Text rarely parses that far: a
        // GLOBAL needs two lines that are Python names, which "cmake_minimum_required(...)" is not.
        ScanReport probe = GlobalScanner.scan(bytes, "probe", name -> false);
        return probe.problems().isEmpty()
                || probe.globals().stream().anyMatch(g -> PYTHON_NAME.matcher(g.name()).matches()
                        || g.name().startsWith("<"));
    }

    private static String extension(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** The folder links may lead into: the root itself, or the hub repository folder it lies in. */
    private static Path boundary(Path realRoot) {
        for (Path p = realRoot; p != null; p = p.getParent()) {
            Path name = p.getFileName();
            if (name != null && HUB_REPO.matcher(name.toString()).matches()) {
                return p;
            }
        }
        return realRoot;
    }

    /** {@code org/name@rev} for a file under {@code models--org--name/snapshots/rev/}, else null. */
    private static String hubModel(Path absolute) {
        for (Path p = absolute.getParent(); p != null && p.getParent() != null; p = p.getParent()) {
            Path parent = p.getParent();
            if (parent.getFileName() != null && parent.getFileName().toString().equals("snapshots")
                    && parent.getParent() != null && parent.getParent().getFileName() != null) {
                var m = HUB_REPO.matcher(parent.getParent().getFileName().toString());
                if (m.matches()) {
                    return m.group(2).replace("--", "/") + "@" + p.getFileName();
                }
            }
        }
        return null;
    }

    private static void walk(Path root, List<Target> targets, List<Unreadable> unreadable) {
        Path realRoot;
        try {
            realRoot = root.toRealPath();
        } catch (IOException e) {
            unreadable.add(new Unreadable(root.toString(), String.valueOf(e.getMessage())));
            return;
        }
        Path fence = boundary(realRoot);
        List<Target> found = new ArrayList<>();
        Map<Path, String> indexModels = new HashMap<>(); // shard file -> model, from the *.index.json files
        try {
            Files.walkFileTree(root, Set.of(), MAX_DEPTH, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    // A hub repository's blobs are reached through its snapshots' links, each once.
                    if (dir.getFileName() != null && dir.getFileName().toString().equals("blobs")
                            && dir.getParent() != null && dir.getParent().getFileName() != null
                            && HUB_REPO.matcher(dir.getParent().getFileName().toString()).matches()) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    try {
                        if (attrs.isSymbolicLink()) {
                            Path real;
                            try {
                                real = file.toRealPath();
                            } catch (NoSuchFileException e) {
                                unreadable.add(new Unreadable(file.toString(), "a link to nothing"));
                                return FileVisitResult.CONTINUE;
                            }
                            if (!real.startsWith(fence)) {
                                unreadable.add(new Unreadable(file.toString(), "a link out of the scanned tree (to "
                                        + real + "): not followed"));
                                return FileVisitResult.CONTINUE;
                            }
                            if (!Files.isRegularFile(real)) {
                                return FileVisitResult.CONTINUE; // a link to a folder inside the tree: walked there
                            }
                        } else if (!attrs.isRegularFile()) {
                            return FileVisitResult.CONTINUE;
                        }
                        String name = file.getFileName().toString();
                        if (name.endsWith(".index.json")) {
                            readIndex(file, indexModels, unreadable);
                        } else if (isCheckpoint(file)) {
                            found.add(new Target(file, file.toString(),
                                    hubModel(file.toAbsolutePath().normalize())));
                        }
                    } catch (IOException e) {
                        unreadable.add(new Unreadable(file.toString(), String.valueOf(e.getMessage())));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    unreadable.add(new Unreadable(file.toString(), String.valueOf(e.getMessage())));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            unreadable.add(new Unreadable(root.toString(), String.valueOf(e.getMessage())));
        }
        found.sort(Comparator.comparing(Target::path));
        for (Target t : found) {
            String model = t.model() != null ? t.model() : indexModels.get(t.file().toAbsolutePath().normalize());
            targets.add(new Target(t.file(), t.path(), model));
        }
    }

    /**
     * Reads a shard index: its shards form one model (named by the folder, or the hub model), and each
     * must be there.
     */
    private static void readIndex(Path index, Map<Path, String> models, List<Unreadable> unreadable)
            throws IOException {
        if (Files.size(index) > ShardIndex.MAX_INDEX_BYTES) {
            unreadable.add(new Unreadable(index.toString(), "a shard index over " + ShardIndex.MAX_INDEX_BYTES
                    + " bytes"));
            return;
        }
        ShardIndex parsed;
        try {
            parsed = ShardIndex.parse(Files.readAllBytes(index), Location.of(index.toString()));
        } catch (CheckpointException e) {
            unreadable.add(new Unreadable(index.toString(), e.getMessage()));
            return;
        }
        Path folder = index.toAbsolutePath().normalize().getParent();
        String hub = hubModel(index.toAbsolutePath().normalize());
        String model = hub != null ? hub : index.getParent() == null ? "." : index.getParent().toString();
        Map<Path, String> mine = new LinkedHashMap<>();
        for (String shard : parsed.shards()) {
            Path p = folder.resolve(shard).normalize();
            if (!p.getParent().equals(folder)) {
                unreadable.add(new Unreadable(index.toString(), "names a shard outside its folder: " + shard));
                continue;
            }
            if (!Files.exists(p)) {
                unreadable.add(new Unreadable(Optional.ofNullable(index.getParent()).map(f -> f.resolve(shard))
                        .orElse(Path.of(shard)).toString(), "a shard " + index.getFileName() + " names is missing"));
                continue;
            }
            mine.put(p, model);
        }
        models.putAll(mine);
    }
}
