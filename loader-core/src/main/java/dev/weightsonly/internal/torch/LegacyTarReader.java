package dev.weightsonly.internal.torch;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.internal.pickle.CallSite;
import dev.weightsonly.internal.pickle.Unpickler;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyTuple;
import dev.weightsonly.python.PyValues;
import dev.weightsonly.tensors.InvalidViewException;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import dev.weightsonly.torch.TorchStorage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code storages} and {@code tensors} members of a PyTorch 0.1.x tar checkpoint into the objects
 * its {@code pickle} member refers to by key. PyTorch 2.6+ refuses this format under weights_only because its
 * reader would run an unrestricted unpickler and trust the raw geometry; here every pickle goes through the
 * restricted machine and every size, stride and offset is checked before a view exists.
 */
public final class LegacyTarReader {

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_DIMS = 64;

    private final LoadLimits limits;
    private final TorchUnpicklerHost namesOnly;
    private final Map<String, Object> objects = new HashMap<>();
    private int tensors;

    private LegacyTarReader(LoadLimits limits) {
        this.limits = limits;
        // The member pickles name storage and tensor classes and nothing else: no persistent ids.
        this.namesOnly = new TorchUnpicklerHost(new StorageSource.ZipRecords((key, site) -> {
            throw site.malformed("a persistent id inside the storages or tensors member");
        }), false, Set.of(), limits);
    }

    /** Storages and tensors by key, as the object pickle's persistent ids name them. */
    public static Map<String, Object> read(MemorySegment storages, Location storagesWhere, MemorySegment tensors,
            Location tensorsWhere, LoadLimits limits) throws CheckpointException {
        LegacyTarReader reader = new LegacyTarReader(limits);
        reader.readStorages(storages, storagesWhere);
        reader.readTensors(tensors, tensorsWhere);
        return reader.objects;
    }

    /** How many tensors the members described. */
    private long count(MemorySegment m, long[] pos, Location where, String what) throws CheckpointException {
        Unpickler.Result r = Unpickler.load(m, pos[0], m.byteSize(), where, namesOnly, limits);
        pos[0] = r.end();
        if (!(r.value() instanceof Long n) || n < 0) {
            throw where.malformed("the number of " + what + " must be a non-negative int, got "
                    + PyValues.shortRepr(r.value()));
        }
        if (n > limits.maxTensors()) {
            throw where.limit("maxTensors", limits.maxTensors(), n + " " + what);
        }
        return n;
    }

    private PyTuple record(MemorySegment m, long[] pos, Location where, int arity, String what)
            throws CheckpointException {
        Unpickler.Result r = Unpickler.load(m, pos[0], m.byteSize(), where, namesOnly, limits);
        pos[0] = r.end();
        if (!(r.value() instanceof PyTuple t) || t.size() != arity) {
            throw where.malformed(what + " must be a tuple of " + arity + ", got " + PyValues.shortRepr(r.value()));
        }
        return t;
    }

    static String key(Object value, Location where) throws CheckpointException {
        return switch (value) {
            case Long l -> Long.toString(l);
            case String s -> s;
            default -> throw where.malformed("an object key must be an int or str, got " + PyValues.typeName(value));
        };
    }

    private long i64(MemorySegment m, long at, Location where) throws CheckpointException {
        if (at < 0 || m.byteSize() - at < 8) {
            throw where.malformed("the member ends inside a number at offset " + at);
        }
        return m.get(I64, at);
    }

    private void readStorages(MemorySegment m, Location where) throws CheckpointException {
        long[] pos = {0};
        long n = count(m, pos, where, "storages");
        for (long i = 0; i < n; i++) {
            PyTuple t = record(m, pos, where, 3, "a storage record (key, location, storage type)");
            String key = key(t.get(0), where);
            if (!(t.get(1) instanceof String location) || !(t.get(2) instanceof StorageType type)) {
                throw where.malformed("storage '" + key + "' needs a str location and a storage class, got "
                        + PyValues.shortRepr(t));
            }
            long count = i64(m, pos[0], where);
            int es = type.dtype().elementSize();
            long nbytes;
            try {
                nbytes = Math.multiplyExact(count, (long) es);
            } catch (ArithmeticException e) {
                nbytes = -1;
            }
            long data = pos[0] + 8;
            if (count < 0 || nbytes < 0 || nbytes > m.byteSize() - data) {
                throw where.malformed("storage '" + key + "' claims " + count + " elements of " + type.dtype()
                        + " but the member has " + (m.byteSize() - data) + " bytes left");
            }
            put(key, new TorchStorage(Storage.of(m.asSlice(data, nbytes), key, location,
                    limits.maxMaterializedBytes()), type.dtype(), false), where);
            pos[0] = data + nbytes;
        }
        Unpickler.Result views = Unpickler.load(m, pos[0], m.byteSize(), where, namesOnly, limits);
        if (!(views.value() instanceof PyList list)) {
            throw where.malformed("the storage views must be a list, got " + PyValues.typeName(views.value()));
        }
        nothingAfter(m, views.end(), where);
        CallSite site = new CallSite(where, null, limits);
        for (Object v : list) {
            if (!(v instanceof PyTuple t) || t.size() != 4) {
                throw where.malformed("a storage view is (target, root, offset, numel), got " + PyValues.shortRepr(v));
            }
            String target = key(t.get(0), where);
            if (!(objects.get(key(t.get(1), where)) instanceof TorchStorage root)) {
                throw where.malformed("storage view '" + target + "' names an unknown root storage");
            }
            long offset = TorchUnpicklerHost.nonNegative(t.get(2), "view offset", site);
            long numel = TorchUnpicklerHost.nonNegative(t.get(3), "view numel", site);
            long elements = root.storage().byteSize() / root.dtype().elementSize();
            if (offset > elements || numel > elements - offset) {
                throw where.malformed("storage view '" + target + "' of " + numel + " elements at " + offset
                        + " lies outside its root of " + elements + " elements");
            }
            int es = root.dtype().elementSize();
            put(target, new TorchStorage(Storage.of(root.storage().bytes().asSlice(offset * es, numel * es), target,
                    root.storage().location(), limits.maxMaterializedBytes()), root.dtype(), false), where);
        }
    }

    private void readTensors(MemorySegment m, Location where) throws CheckpointException {
        long[] pos = {0};
        long n = count(m, pos, where, "tensors");
        for (long i = 0; i < n; i++) {
            PyTuple t = record(m, pos, where, 3, "a tensor record (key, storage key, tensor type)");
            String key = key(t.get(0), where);
            if (!(objects.get(key(t.get(1), where)) instanceof TorchStorage storage)) {
                throw where.malformed("tensor '" + key + "' names an unknown storage " + PyValues.shortRepr(t.get(1)));
            }
            if (m.byteSize() - pos[0] < 8) {
                throw where.malformed("the tensors member ends inside tensor '" + key + "'");
            }
            int ndim = m.get(I32, pos[0]);
            if (ndim < 0 || ndim > MAX_DIMS) {
                throw where.malformed("tensor '" + key + "' claims " + ndim + " dimensions");
            }
            long at = pos[0] + 8; // the int32 count is followed by 4 unused bytes
            long[] shape = new long[ndim];
            long[] strides = new long[ndim];
            for (int d = 0; d < ndim; d++) {
                shape[d] = i64(m, at + 8L * d, where);
                strides[d] = i64(m, at + 8L * (ndim + d), where);
            }
            long offset = i64(m, at + 16L * ndim, where);
            pos[0] = at + 16L * ndim + 8;
            if (++tensors > limits.maxTensors()) {
                throw where.limit("maxTensors", limits.maxTensors(), "more than " + limits.maxTensors() + " tensors");
            }
            Tensor tensor;
            try {
                tensor = Tensor.of(storage.storage(), storage.dtype(), offset, shape, strides);
            } catch (InvalidViewException e) {
                throw where.malformed("tensor '" + key + "': " + e.getMessage());
            }
            if (tensor.numel() > limits.maxTensorElements()) {
                throw where.limit("maxTensorElements", limits.maxTensorElements(), "tensor '" + key + "' of "
                        + tensor.numel() + " elements");
            }
            put(key, tensor, where);
        }
        nothingAfter(m, pos[0], where);
    }

    /** A member ends with what it describes: bytes after that are refused, never read. */
    private static void nothingAfter(MemorySegment m, long end, Location where) throws CheckpointException {
        if (end != m.byteSize()) {
            throw where.malformed((m.byteSize() - end) + " bytes follow the member's last record at offset " + end);
        }
    }

    private void put(String key, Object value, Location where) throws CheckpointException {
        if (objects.putIfAbsent(key, value) != null) {
            throw where.malformed("object key '" + key + "' is defined twice");
        }
    }
}
