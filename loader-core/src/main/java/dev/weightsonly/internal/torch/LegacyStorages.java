package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.internal.container.LegacyStream;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.DType;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one dictionary of PyTorch's {@code _legacy_load} ({@code deserialized_objects}): the root storage keys of
 * the legacy stream and the view keys of its old storage-view form {@code (view_key, offset, size)} share it.
 * So a key means whatever was put under it first, root or view, and is never replaced: a view key equal to a
 * root key yields that root, a root key equal to an earlier view key yields that view, a root declared again
 * (another dtype or size) keeps its first declaration, and the key list after the object pickle may name a view,
 * whose block is then read into its slice of the root. This class replays exactly that, in both passes of a
 * legacy load; the bytes come from {@link LegacyStream#readBlocks}.
 */
public final class LegacyStorages {

    /** One allocation of {@code nbytes} (torch's {@code UntypedStorage(nbytes)}), numbered in creation order. */
    record Root(int index, String key, long nbytes) {
    }

    /** What a key holds: a typed storage over bytes {@code [start, start + length)} of one root allocation. */
    record Entry(String key, Root root, long start, long length, DType dtype, String location) {
        LegacyStream.Target target() {
            return new LegacyStream.Target(root.index(), start, length, dtype.elementSize());
        }
    }

    private final Map<String, Entry> entries = new HashMap<>();
    private final List<Root> roots = new ArrayList<>();

    /**
     * {@code persistent_load}'s root part: the entry under {@code key}, created as a new root of the declared
     * dtype and size if the key is new. An existing entry is returned as it is (torch's dtype, size and location
     * of the later declaration are ignored), except one over an allocation of zero bytes (data pointer 0), for
     * which torch makes a fresh empty storage of the declared dtype that it keeps nowhere.
     */
    Entry root(String key, DType dtype, String location, long nbytes) {
        Entry e = entries.get(key);
        if (e == null) {
            e = new Entry(key, newRoot(key, nbytes), 0, nbytes, dtype, location);
            entries.put(key, e);
        } else if (e.root().nbytes() == 0) {
            e = new Entry(key, newRoot(key, 0), 0, 0, dtype, e.location());
        }
        return e;
    }

    /**
     * {@code persistent_load}'s view part: the entry under the view key, created if the key is new as
     * {@code base._untyped_storage[offset * es : (offset + size) * es]} in the declared dtype, with Python's
     * slice rules (negative bounds count from the end, bounds are clamped to the storage).
     */
    Entry view(Entry base, Object viewMetadata, DType dtype, CallSite site) throws CheckpointException {
        List<Object> parts = switch (viewMetadata) {
            case PyTuple t -> t.items();
            case PyList l -> l;
            default -> List.of();
        };
        if (parts.size() != 3 || !(parts.get(0) instanceof String viewKey)) {
            throw site.malformed("a storage view is (view_key, offset, size) with a str key, got "
                    + PyValues.shortRepr(viewMetadata));
        }
        // torch multiplies offset and size by the element size before it looks the key up, so a view of a key
        // already known still needs numbers there (None makes it raise)
        BigInteger offset = pythonInt(parts.get(1), "storage view offset", site);
        BigInteger size = pythonInt(parts.get(2), "storage view size", site);
        Entry e = entries.get(viewKey);
        if (e != null) {
            return e;
        }
        BigInteger es = BigInteger.valueOf(dtype.elementSize());
        long length = base.length();
        long from = sliceIndex(offset.multiply(es), length);
        long to = sliceIndex(offset.add(size).multiply(es), length);
        e = new Entry(viewKey, base.root(), base.start() + from, Math.max(0, to - from), dtype, base.location());
        entries.put(viewKey, e);
        return e;
    }

    /** Where the block of a key of the key list goes, or null when no storage has that key (torch asserts). */
    public LegacyStream.Target target(String key) {
        Entry e = entries.get(key);
        return e == null ? null : e.target();
    }

    /** Each root allocation's size in bytes, by root number. */
    public long[] rootSizes() {
        long[] sizes = new long[roots.size()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = roots.get(i).nbytes();
        }
        return sizes;
    }

    /** The key that created each root allocation, by root number (for messages). */
    public List<String> rootKeys() {
        return roots.stream().map(Root::key).toList();
    }

    private Root newRoot(String key, long nbytes) {
        Root r = new Root(roots.size(), key, nbytes);
        roots.add(r);
        return r;
    }

    /** Python's slice bound adjustment for a sequence of {@code length} items (step 1). */
    private static long sliceIndex(BigInteger index, long length) {
        BigInteger n = BigInteger.valueOf(length);
        BigInteger i = index.signum() < 0 ? index.add(n) : index;
        return i.signum() < 0 ? 0 : i.min(n).longValueExact();
    }

    private static BigInteger pythonInt(Object value, String what, CallSite site) throws CheckpointException {
        return switch (value) {
            case Long l -> BigInteger.valueOf(l);
            case BigInteger b -> b;
            case Boolean b -> b ? BigInteger.ONE : BigInteger.ZERO;
            default -> throw site.malformed(what + " must be an int, got " + PyValues.shortRepr(value));
        };
    }
}
