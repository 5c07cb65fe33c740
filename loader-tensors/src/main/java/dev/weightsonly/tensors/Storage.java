package dev.weightsonly.tensors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The bytes of one torch storage, shared by every {@link Tensor} viewing it.
 *
 * <p>Identity is the point: two tensors that shared a storage when saved share one {@code Storage}
 * after loading, so {@code equals} is identity. The bytes are little-endian (torch writes checkpoints
 * on little-endian hosts; a byte-swapped file must be fixed before wrapping). Sizes and offsets are
 * {@code long}: a storage may be larger than 2 GiB.
 *
 * <p>{@link #of} does not copy: the storage is valid only as long as the segment's scope (for example a
 * mapped file's arena) is alive, and is usable from the threads that scope allows.
 *
 * <p>A storage also carries the bound on what one operation may materialise from its views in fresh memory
 * ({@link #maxMaterializedBytes()}): a loaded checkpoint sets it from {@code LoadLimits.maxMaterializedBytes},
 * copies inherit it, and operations past it throw {@link MaterializationLimitException} before allocating.
 */
public final class Storage {
    /** Largest heap array the JVM reliably allocates; larger copies go off-heap. */
    private static final long MAX_HEAP_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * The default {@link #maxMaterializedBytes()}: 4 GiB, above any single real weight (a 128k x 8192 bfloat16
     * embedding is 2 GiB) and far below what a few hundred bytes of hostile geometry can claim.
     */
    public static final long DEFAULT_MAX_MATERIALIZED_BYTES = 4L << 30;

    private final MemorySegment bytes;
    // A key that is a number in canonical decimal (torch.save's "0", "1", ..., nearly every key of a load) is kept
    // as that number, and its string made when asked for: a load of 300,000 tensors keeps 600,000 fewer objects
    // (the string and its bytes), which the garbage collector would copy while the load goes on. Otherwise the key.
    private final String key;
    private final int keyNumber;
    private final String location;
    // The storage whose memory this one starts inside (itself unless made by slice), and where: PyTorch's
    // data address, which is how its printer (and the canonical dump) tells storages apart.
    private final Storage base;
    private final long baseOffset;
    private final long maxMaterializedBytes;

    private Storage(MemorySegment bytes, String key, String location, Storage base, long baseOffset,
            long maxMaterializedBytes) {
        if (maxMaterializedBytes <= 0) {
            throw new IllegalArgumentException("maxMaterializedBytes must be positive, got " + maxMaterializedBytes);
        }
        // A read-only segment (a slice of a read-only mapping, nearly every storage of a load) is kept as it is:
        // asReadOnly would make another segment object per storage.
        this.bytes = bytes.isReadOnly() ? bytes : bytes.asReadOnly();
        this.keyNumber = number(Objects.requireNonNull(key, "key"));
        this.key = keyNumber >= 0 ? null : key;
        this.location = Objects.requireNonNull(location, "location");
        this.base = base == null ? this : base;
        this.baseOffset = baseOffset;
        this.maxMaterializedBytes = maxMaterializedBytes;
    }

    /** The number {@code key} writes in canonical decimal (what {@link Integer#toString(int)} gives), else -1. */
    private static int number(String key) {
        int n = key.length();
        if (n < 1 || n > 10 || (n > 1 && key.charAt(0) == '0')) {
            return -1;
        }
        long value = 0;
        for (int k = 0; k < n; k++) {
            int d = key.charAt(k) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value <= Integer.MAX_VALUE ? (int) value : -1;
    }

    private Storage(MemorySegment bytes, String key, String location, long maxMaterializedBytes) {
        this(bytes, key, location, null, 0, maxMaterializedBytes);
    }

    /**
     * Wraps {@code bytes} without copying, with the default bound ({@link #DEFAULT_MAX_MATERIALIZED_BYTES}) on
     * what one operation may materialise from its views.
     *
     * @param bytes the storage's little-endian bytes; kept as a read-only view, valid as long as its scope is
     * @param key a label for messages, e.g. the checkpoint record key {@code "0"}
     * @param location the device the storage was saved on, e.g. {@code "cpu"} or {@code "cuda:0"}
     * @return a storage sharing {@code bytes}' memory
     * @throws NullPointerException if any argument is null
     */
    public static Storage of(MemorySegment bytes, String key, String location) {
        return of(bytes, key, location, DEFAULT_MAX_MATERIALIZED_BYTES);
    }

    /**
     * Wraps {@code bytes} without copying, with the bound on what one operation may materialise from its views.
     *
     * @param bytes the storage's little-endian bytes; kept as a read-only view, valid as long as its scope is
     * @param key a label for messages, e.g. the checkpoint record key {@code "0"}
     * @param location the device the storage was saved on, e.g. {@code "cpu"} or {@code "cuda:0"}
     * @param maxMaterializedBytes see {@link #maxMaterializedBytes()}
     * @return a storage sharing {@code bytes}' memory
     * @throws NullPointerException if {@code bytes}, {@code key} or {@code location} is null
     * @throws IllegalArgumentException if {@code maxMaterializedBytes} is not positive
     */
    public static Storage of(MemorySegment bytes, String key, String location, long maxMaterializedBytes) {
        return new Storage(Objects.requireNonNull(bytes, "bytes"), key, location, maxMaterializedBytes);
    }

    /**
     * A storage over bytes {@code [offset, offset + length)} of {@code base}'s memory, without copying: the
     * storage views of PyTorch's legacy stream, which are storages of their own over part of another.
     *
     * @param base the storage whose memory the slice views; the slice keeps its location and its
     *     {@link #maxMaterializedBytes()}
     * @param offset where the slice starts in {@code base}, in bytes
     * @param length the slice's size in bytes
     * @param key a label for messages
     * @return a storage over part of {@code base}'s memory, whose {@link #dataAddress()} reflects the offset
     * @throws IndexOutOfBoundsException if the range is not inside {@code base}
     */
    public static Storage slice(Storage base, long offset, long length, String key) {
        MemorySegment bytes = base.bytes.asSlice(offset, length);
        return new Storage(bytes, key, base.location, base.base, base.baseOffset + offset, base.maxMaterializedBytes);
    }

    /**
     * The identity of this storage's data address (PyTorch's {@code data_ptr()}): equal for storages that start
     * at the same byte of one memory (a storage and a {@link #slice} of it at offset 0), distinct otherwise.
     *
     * @return an opaque object to compare with {@code equals}; it says nothing about the real address
     */
    public Object dataAddress() {
        return baseOffset == 0 ? base : new SliceAddress(base, baseOffset);
    }

    private record SliceAddress(Storage base, long offset) {
    }

    /**
     * Copies {@code bytes} into fresh memory, so the result outlives the source's scope: a heap
     * {@code byte[]} when it fits in one, otherwise an automatically managed native segment.
     *
     * @param bytes the bytes to copy; read once, not kept
     * @param key a label for messages
     * @param location the device the storage was saved on, e.g. {@code "cpu"}
     * @return a storage owning its copy, with the default {@link #maxMaterializedBytes()}
     * @throws NullPointerException if any argument is null
     */
    public static Storage copyOf(MemorySegment bytes, String key, String location) {
        Objects.requireNonNull(bytes, "bytes");
        MemorySegment copy = allocate(bytes.byteSize());
        MemorySegment.copy(bytes, 0, copy, 0, bytes.byteSize());
        return new Storage(copy, key, location, DEFAULT_MAX_MATERIALIZED_BYTES);
    }

    /** Fresh zeroed memory of any size: heap when an array can hold it (cheap to free), else native. */
    static MemorySegment allocate(long byteSize) {
        return byteSize <= MAX_HEAP_ARRAY
                ? MemorySegment.ofArray(new byte[(int) byteSize])
                : Arena.ofAuto().allocate(byteSize, ValueLayout.JAVA_LONG.byteAlignment());
    }

    /**
     * The storage's memory, for code that reads it directly (native libraries, custom decoders).
     *
     * @return the bytes, little-endian and read-only: views share them, so nobody may write through one
     */
    public MemorySegment bytes() {
        return bytes;
    }

    /**
     * The size of the storage, which may exceed what any one of its views covers.
     *
     * @return the size in bytes (may exceed 2 GiB)
     */
    public long byteSize() {
        return bytes.byteSize();
    }

    /**
     * The label given at creation, so that a message can say which storage of a checkpoint is meant.
     *
     * @return the label, for a loaded checkpoint its storage record key (such as {@code "0"})
     */
    public String key() {
        return key != null ? key : Integer.toString(keyNumber);
    }

    /**
     * The device the storage was saved on. The bytes are always in host memory; the location is kept so that a
     * user can put the tensor back where it came from.
     *
     * @return the device string as torch wrote it, such as {@code "cpu"} or {@code "cuda:0"}
     */
    public String location() {
        return location;
    }

    /**
     * The most bytes one operation may hold in fresh memory to materialise values of this storage's views
     * (contiguous copies, dequantized values, arrays, dense forms); the JVM's maximum heap bounds it too. See
     * {@link MaterializationLimitException}.
     *
     * @return the bound in bytes, always positive
     */
    public long maxMaterializedBytes() {
        return maxMaterializedBytes;
    }

    @Override
    public String toString() {
        return "Storage['" + key() + "', " + location + ", " + bytes.byteSize() + " bytes]";
    }
}
