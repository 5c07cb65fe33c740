package dev.weightsonly.internal.safetensors;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.CheckpointException.Location;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.InvalidViewException;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The validated header of a safetensors file: which tensors it holds, where their bytes are, and its
 * {@code __metadata__}. Built only by {@link #read}, which checks everything the reference reader
 * (huggingface/safetensors {@code SafeTensors::read_metadata}) checks, in the same order, so that a file
 * is accepted here exactly when the reference accepts it; afterwards {@link #views} cannot fail.
 *
 * <p>The layout: 8 bytes of little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON, then the
 * data; each tensor is {@code {"dtype": code, "shape": [...], "data_offsets": [begin, end]}} with offsets
 * relative to the data, row-major and little-endian. The checks, with the reference's error name in each
 * message: the file has at least 8 bytes ({@code HeaderTooSmall}); {@code N <= 100,000,000}
 * ({@code HeaderTooLarge}); {@code 8 + N} fits the file ({@code InvalidHeaderLength}); the header is UTF-8
 * ({@code InvalidHeader}) and one JSON object of the right shape ({@code InvalidHeaderDeserialization}:
 * known dtype codes, shapes of non-negative integers, two offsets, {@code __metadata__} of strings to
 * strings); sorted by offsets, the tensors tile the data from 0 with no gap or overlap
 * ({@code InvalidOffset}); each tensor's byte count, computed with checked arithmetic
 * ({@code ValidationOverflow}, {@code MisalignedSlice}), equals its offsets' span ({@code TensorInvalidInfo});
 * the data ends exactly at the end of the file ({@code MetadataIncompleteBuffer}).
 *
 * <p>Stricter than the reference on purpose, in two ways: a JSON key repeated in one object is refused
 * (serde_json keeps the last one, so two readers of the same file could see different tensors), and a
 * tensor's info must be an object (serde would also take the positional form {@code ["F32", [2], [0, 8]]},
 * which no writer produces).
 * Beyond validation, a header is refused when it cannot become Java tensor views: {@code F4} and
 * {@code F6_*} data ({@link SafetensorsDType}), or a dimension of 2^63 or more next to a zero one.
 *
 * <p>Immutable.
 */
public final class SafetensorsHeader {

    /** The reference's {@code MAX_HEADER_SIZE}: a longer header is refused before it is read. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Nested JSON containers allowed, as serde_json's recursion limit of 128 allows. */
    static final int MAX_JSON_DEPTH = 127;

    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One tensor as the header declares it. Immutable. */
    public static final class Entry {
        private final String name;
        private final SafetensorsDType dtype;
        private final long[] shape;
        private final long begin;
        private final long end;

        Entry(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.begin = begin;
            this.end = end;
        }

        /** The tensor's name, the header key. */
        public String name() {
            return name;
        }

        /** Its dtype code. */
        public SafetensorsDType dtype() {
            return dtype;
        }

        /** Its shape (a copy); {@code []} is a scalar. */
        public long[] shape() {
            return shape.clone();
        }

        /** Offset of its first byte in the data (after the header). */
        public long begin() {
            return begin;
        }

        /** Offset one past its last byte in the data. */
        public long end() {
            return end;
        }

        @Override
        public String toString() {
            return name + ": " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
        }
    }

    private final String source;
    private final long headerLength;
    private final long fileLength;
    private final List<Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsHeader(String source, long headerLength, long fileLength, List<Entry> entries,
            Map<String, String> metadata) {
        this.source = source;
        this.headerLength = headerLength;
        this.fileLength = fileLength;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Whether {@code bytes} start the way a safetensors file does: a length, then an opening brace at byte 8. */
    public static boolean looksLikeSafetensors(MemorySegment bytes) {
        return bytes.byteSize() >= 9 && bytes.get(ValueLayout.JAVA_BYTE, 8) == '{';
    }

    /** {@link #read(String, MemorySegment, LoadLimits)} with the default limits. */
    public static SafetensorsHeader read(String source, MemorySegment file) throws CheckpointException {
        return read(source, file, LoadLimits.defaults());
    }

    /**
     * Reads and validates the header of the safetensors file {@code file} (the whole file: the last check
     * compares the data's end with the file's length).
     *
     * @param source names the file in messages
     * @param limits {@code maxTensors}, {@code maxTensorElements}, {@code maxStringBytes} (names and
     *     metadata values) and {@code maxContainerLength} (shape ranks, metadata entries) apply
     * @throws dev.weightsonly.MalformedCheckpointException when the reference reader would refuse the file
     *     too, or a key is repeated; the message names the tensor and the reference's error
     * @throws dev.weightsonly.LimitExceededException when a limit is exceeded
     * @throws dev.weightsonly.UnsupportedCheckpointException for valid files whose tensors Java cannot view
     *     ({@code F4}, {@code F6_*}, dimensions of 2^63 or more)
     */
    public static SafetensorsHeader read(String source, MemorySegment file, LoadLimits limits)
            throws CheckpointException {
        Objects.requireNonNull(limits, "limits");
        Location where = Location.of(Objects.requireNonNull(source, "source"));
        long size = file.byteSize();
        if (size < 8) {
            throw malformed(where, "the file has " + size + " bytes, fewer than the 8 of the header length",
                    "HeaderTooSmall");
        }
        long n = file.get(LE_LONG, 0);
        if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
            throw malformed(where, "the header length is " + Long.toUnsignedString(n) + " bytes, more than the "
                    + MAX_HEADER_BYTES + " a safetensors header may have", "HeaderTooLarge");
        }
        if (8 + n > size) {
            throw malformed(where, "the header length is " + n + " bytes, but the file has only " + (size - 8)
                    + " bytes after the length", "InvalidHeaderLength");
        }
        byte[] header = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        int bad = StrictJson.firstInvalidUtf8(header);
        if (bad >= 0) {
            throw malformed(where, "the header is not valid UTF-8 (byte 0x"
                    + String.format("%02X", header[bad] & 0xFF) + " at header byte " + bad + ")", "InvalidHeader");
        }
        Parsed parsed;
        try {
            parsed = parse(header, limits, where);
        } catch (StrictJson.SyntaxError e) {
            throw malformed(where, "the header is not valid safetensors JSON: " + e.getMessage(),
                    "InvalidHeaderDeserialization");
        }
        List<Entry> sorted = new ArrayList<>(parsed.entries);
        // Stable: tensors with equal offsets (empty ones) keep their header order.
        sorted.sort(Comparator.comparing(Entry::begin, Long::compareUnsigned)
                .thenComparing(Entry::end, Long::compareUnsigned));
        long dataEnd = validate(sorted, where);
        long expected = dataEnd + 8 + n; // compared only when dataEnd <= size, so no overflow
        if (Long.compareUnsigned(dataEnd, size) > 0 || expected != size) {
            throw malformed(where, "the tensors' data ends at byte " + Long.toUnsignedString(dataEnd)
                    + " of the data, so the file should have 8 + " + n + " + " + Long.toUnsignedString(dataEnd)
                    + " bytes, but it has " + size + " (the data must cover the rest of the file exactly)",
                    "MetadataIncompleteBuffer");
        }
        for (Entry e : sorted) {
            checkViewable(e, limits, where);
        }
        return new SafetensorsHeader(source, n, size, Collections.unmodifiableList(sorted), parsed.metadata);
    }

    private record Parsed(List<Entry> entries, Map<String, String> metadata) {
    }

    /** The JSON shape of the header: what serde derives for the reference's {@code HashMetadata}. */
    private static Parsed parse(byte[] header, LoadLimits limits, Location where)
            throws StrictJson.SyntaxError, CheckpointException {
        StrictJson json = new StrictJson(header, MAX_JSON_DEPTH);
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        json.beginObject();
        for (String key = json.nextName(); key != null; key = json.nextName()) {
            checkString(key, "a tensor name", limits, where);
            if (key.equals("__metadata__")) {
                metadata = parseMetadata(json, limits, where);
                continue;
            }
            if (entries.size() >= limits.maxTensors()) {
                throw where.limit("maxTensors", limits.maxTensors(), "safetensors: the header declares more than "
                        + limits.maxTensors() + " tensors");
            }
            entries.add(parseTensor(key, json, limits, where));
        }
        json.finish();
        return new Parsed(entries, metadata);
    }

    private static Map<String, String> parseMetadata(StrictJson json, LoadLimits limits, Location where)
            throws StrictJson.SyntaxError, CheckpointException {
        if (json.peek() == StrictJson.Kind.NULL) { // Option<HashMap<..>>: null is None
            json.nullValue();
            return Map.of();
        }
        if (json.peek() != StrictJson.Kind.OBJECT) {
            throw new StrictJson.SyntaxError("__metadata__ must be an object of strings to strings, found "
                    + json.peek().name().toLowerCase(java.util.Locale.ROOT), json.position());
        }
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        json.beginObject();
        for (String key = json.nextName(); key != null; key = json.nextName()) {
            if (json.peek() != StrictJson.Kind.STRING) {
                throw new StrictJson.SyntaxError("__metadata__ value of \"" + abbreviate(key) + "\" must be a"
                        + " string, found " + json.peek().name().toLowerCase(java.util.Locale.ROOT), json.position());
            }
            String value = json.string();
            checkString(key, "a metadata key", limits, where);
            checkString(value, "the metadata value of '" + abbreviate(key) + "'", limits, where);
            if (out.size() >= limits.maxContainerLength()) {
                throw where.limit("maxContainerLength", limits.maxContainerLength(), "safetensors: __metadata__"
                        + " has more than " + limits.maxContainerLength() + " entries");
            }
            out.put(key, value);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry parseTensor(String name, StrictJson json, LoadLimits limits, Location where)
            throws StrictJson.SyntaxError, CheckpointException {
        try {
            return parseTensorInfo(name, json, limits, where);
        } catch (StrictJson.SyntaxError e) {
            throw new StrictJson.SyntaxError("tensor '" + abbreviate(name) + "': " + e.reason(), e.offset());
        }
    }

    private static Entry parseTensorInfo(String name, StrictJson json, LoadLimits limits, Location where)
            throws StrictJson.SyntaxError, CheckpointException {
        if (json.peek() != StrictJson.Kind.OBJECT) {
            throw new StrictJson.SyntaxError("its info must be an object {dtype, shape, data_offsets}, found "
                    + json.peek().name().toLowerCase(java.util.Locale.ROOT), json.position());
        }
        SafetensorsDType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        json.beginObject();
        for (String field = json.nextName(); field != null; field = json.nextName()) {
            int at = json.position();
            switch (field) {
                case "dtype" -> {
                    String code = json.string();
                    dtype = SafetensorsDType.fromCode(code).orElseThrow(() -> new StrictJson.SyntaxError(
                            "unknown dtype \"" + abbreviate(code) + "\"", at));
                }
                case "shape" -> shape = unsignedArray(json, -1, "shape", name, limits, where);
                case "data_offsets" -> offsets = unsignedArray(json, 2, "data_offsets", name, limits, where);
                default -> json.skipValue(); // serde ignores unknown fields of TensorInfo
            }
        }
        String missing = dtype == null ? "dtype" : shape == null ? "shape" : offsets == null ? "data_offsets" : null;
        if (missing != null) {
            throw new StrictJson.SyntaxError("no " + missing + " field", json.position());
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /** An array of usize; {@code length} -1 for any length. */
    private static long[] unsignedArray(StrictJson json, int length, String field, String name, LoadLimits limits,
            Location where) throws StrictJson.SyntaxError, CheckpointException {
        json.beginArray();
        long[] values = new long[length >= 0 ? length : 4];
        int count = 0;
        while (json.nextElement()) {
            if (length >= 0 && count == length) {
                throw new StrictJson.SyntaxError(field + " must have " + length + " elements", json.position());
            }
            if (count >= limits.maxContainerLength()) {
                throw where.limit("maxContainerLength", limits.maxContainerLength(), "safetensors: tensor '"
                        + abbreviate(name) + "' has a " + field + " of more than " + limits.maxContainerLength()
                        + " elements");
            }
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
            }
            try {
                values[count++] = json.unsignedLong();
            } catch (StrictJson.SyntaxError e) {
                throw new StrictJson.SyntaxError(field + ": " + e.reason(), e.offset());
            }
        }
        if (length >= 0 && count != length) {
            throw new StrictJson.SyntaxError(field + " must have " + length + " elements, found " + count,
                    json.position());
        }
        return length >= 0 ? values : Arrays.copyOf(values, count);
    }

    /** The reference's {@code Metadata::validate}, with unsigned (usize) arithmetic; returns the data's end. */
    private static long validate(List<Entry> sorted, Location where) throws CheckpointException {
        long start = 0;
        for (Entry e : sorted) {
            if (e.begin != start || Long.compareUnsigned(e.end, e.begin) < 0) {
                String why = Long.compareUnsigned(e.end, e.begin) < 0
                        ? "its data_offsets [" + u(e.begin) + ", " + u(e.end) + "] end before they begin"
                        : e.begin != start && Long.compareUnsigned(e.begin, start) < 0
                        ? "its data_offsets [" + u(e.begin) + ", " + u(e.end) + "] overlap the previous tensor,"
                                + " which ends at " + u(start)
                        : "its data_offsets [" + u(e.begin) + ", " + u(e.end) + "] leave a gap after byte "
                                + u(start) + " where the previous tensor ends";
                throw malformed(where, "tensor '" + e.name + "': " + why + "; tensors must tile the data from 0"
                        + " with no gap or overlap", "InvalidOffset");
            }
            start = e.end;
            long elements = 1;
            for (long d : e.shape) {
                if (d != 0 && Long.compareUnsigned(elements, Long.divideUnsigned(-1L, d)) > 0) {
                    throw malformed(where, "tensor '" + e.name + "': the element count of shape " + shapeText(e.shape)
                            + " overflows 64 bits", "ValidationOverflow");
                }
                elements *= d;
            }
            if (elements != 0 && Long.compareUnsigned(elements, Long.divideUnsigned(-1L, e.dtype.bits())) > 0) {
                throw malformed(where, "tensor '" + e.name + "': the bit count of shape " + shapeText(e.shape) + " of "
                        + e.dtype + " overflows 64 bits", "ValidationOverflow");
            }
            long bits = elements * e.dtype.bits();
            if (bits % 8 != 0) {
                throw malformed(where, "tensor '" + e.name + "': " + u(elements) + " elements of " + e.dtype + " ("
                        + e.dtype.bits() + " bits each) do not fill whole bytes", "MisalignedSlice");
            }
            long bytes = Long.divideUnsigned(bits, 8);
            if (e.end - e.begin != bytes) {
                throw malformed(where, "tensor '" + e.name + "': shape " + shapeText(e.shape) + " of " + e.dtype
                        + " is " + u(bytes) + " bytes, but its data_offsets [" + u(e.begin) + ", " + u(e.end)
                        + "] span " + u(e.end - e.begin), "TensorInvalidInfo");
            }
        }
        return start;
    }

    private static void checkViewable(Entry e, LoadLimits limits, Location where) throws CheckpointException {
        if (e.dtype.torchDType().isEmpty()) {
            throw where.unsupported("safetensors: tensor '" + e.name + "' has dtype " + e.dtype + " ("
                    + e.dtype.bits() + "-bit floats, packed without a torch dtype that matches them value for"
                    + " value); it is not read rather than read with a guessed layout");
        }
        long elements = 1;
        for (long d : e.shape) {
            if (d < 0) {
                throw where.unsupported("safetensors: tensor '" + e.name + "' has a dimension of " + u(d)
                        + ", 2^63 or more, which a Java tensor cannot describe");
            }
            elements *= d; // bounded: validate() found the product to fit 64 unsigned bits
        }
        long step = 1;
        for (int i = e.shape.length - 1; i >= 0; i--) {
            if (Long.compareUnsigned(Math.max(e.shape[i], 1), Long.MAX_VALUE / step) > 0) {
                throw where.unsupported("safetensors: tensor '" + e.name + "' has shape " + shapeText(e.shape)
                        + ", whose row-major strides do not fit 64 bits");
            }
            step *= Math.max(e.shape[i], 1);
        }
        if (Long.compareUnsigned(elements, limits.maxTensorElements()) > 0) {
            throw where.limit("maxTensorElements", limits.maxTensorElements(), "safetensors: tensor '" + e.name
                    + "' has " + u(elements) + " elements");
        }
    }

    private static void checkString(String s, String what, LoadLimits limits, Location where)
            throws CheckpointException {
        if ((long) s.length() * 3 > limits.maxStringBytes()) {
            long bytes = s.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > limits.maxStringBytes()) {
                throw where.limit("maxStringBytes", limits.maxStringBytes(), "safetensors: " + what + " of " + bytes
                        + " bytes");
            }
        }
    }

    private static CheckpointException malformed(Location where, String detail, String referenceError) {
        return where.malformed("safetensors: " + detail + " (" + referenceError + ")");
    }

    private static String u(long unsigned) {
        return Long.toUnsignedString(unsigned);
    }

    private static String shapeText(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            if (i == 16 && shape.length > 17) {
                sb.append("... ").append(shape.length - 16).append(" more");
                break;
            }
            sb.append(u(shape[i]));
        }
        return sb.append(']').toString();
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    // ---- accessors ------------------------------------------------------------------------------------

    /** The file this header was read from, as named to {@link #read}. */
    public String source() {
        return source;
    }

    /** {@code N}, the JSON header's length in bytes (padding included). */
    public long headerLength() {
        return headerLength;
    }

    /** Where the data starts in the file: {@code 8 + N}. */
    public long dataStart() {
        return 8 + headerLength;
    }

    /** The tensors, in the order of their data in the file (by offset; empty tensors in header order). */
    public List<Entry> tensors() {
        return entries;
    }

    /** The {@code __metadata__} strings in header order; empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Each tensor as a read-only, contiguous view over its slice of {@code file}, in {@link #tensors()}
     * order, without copying: one storage per tensor, keyed by the tensor's name, on {@code "cpu"}. The
     * views are valid as long as {@code file}'s scope is alive.
     *
     * @param file the same bytes {@link #read} validated
     * @throws IllegalArgumentException if {@code file} is not as long as the validated file
     */
    public Map<String, Tensor> views(MemorySegment file) {
        return views(file, Storage.DEFAULT_MAX_MATERIALIZED_BYTES);
    }

    /**
     * As {@link #views(MemorySegment)}, each storage bounding what its views may materialise by
     * {@code maxMaterializedBytes} ({@link Storage#maxMaterializedBytes()}).
     */
    public Map<String, Tensor> views(MemorySegment file, long maxMaterializedBytes) {
        if (file.byteSize() != fileLength) {
            throw new IllegalArgumentException("these views need the " + fileLength + "-byte file whose header"
                    + " was read, not " + file.byteSize() + " bytes");
        }
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : entries) {
            DType dtype = e.dtype.torchDType().orElseThrow();
            Storage storage = Storage.of(file.asSlice(dataStart() + e.begin, e.end - e.begin), e.name, "cpu",
                    maxMaterializedBytes);
            try {
                out.put(e.name, Tensor.contiguousView(storage, dtype, 0, e.shape));
            } catch (InvalidViewException ex) {
                throw new AssertionError("read() checked that " + e + " is a valid view", ex);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public String toString() {
        return "SafetensorsHeader[" + source + ", " + entries.size() + " tensors, header " + headerLength + " bytes]";
    }
}
