package dev.weightsonly.writer;

import dev.weightsonly.internal.dump.JsonText;
import dev.weightsonly.internal.safetensors.SafetensorsDType;
import dev.weightsonly.internal.safetensors.SafetensorsHeader;
import dev.weightsonly.internal.writer.AtomicFile;
import dev.weightsonly.internal.writer.TorchZipWriter;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes tensors as a safetensors file, laid out as the reference writer (huggingface/safetensors
 * {@code serialize}) lays it out, so that the same tensors give the same bytes: tensors sorted by descending
 * dtype alignment ({@link SafetensorsDType#alignmentRank()}), then by name (compared as UTF-8 bytes, as Rust
 * compares strings); the JSON header compact, {@code __metadata__} first, padded with spaces to a multiple of
 * 8 bytes; the data of each tensor row-major and little-endian, with no gaps.
 *
 * <p>Safetensors has no strides, views or lazy bits: a non-contiguous view is written as its elements in
 * row-major order, and a view with the conjugate or negative bit as its logical values. Each tensor is
 * streamed in blocks of a few megabytes ({@link Tensor#blocks(long)}), straight from its storage when it is
 * contiguous, so memory does not grow with the file. Tensors whose bytes overlap in one storage are refused
 * unless {@link SharedStorage#COPY_EACH_VIEW} is chosen (see {@link SharedStorage}), as the reference Python
 * tools refuse them.
 *
 * <p>Immutable and thread-safe.
 */
public final class SafetensorsWriter {

    /** The most bytes of a tensor held in memory at once while it is written. */
    private static final long BLOCK_BYTES = 8L << 20;

    private final Map<String, String> metadata;
    private final SharedStorage shared;
    private final WriteProgress progress;

    private SafetensorsWriter(Builder b) {
        this.metadata = b.metadata;
        this.shared = b.shared;
        this.progress = b.progress;
    }

    /**
     * Starts a writer with metadata, a choice for shared views or progress reports.
     *
     * @return a builder starting from no metadata, {@link SharedStorage#REFUSE} and no progress reports
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Writes {@code tensors} to {@code file} with no metadata, refusing shared views; the one-line form of
     * {@code builder().build().write(tensors, file)}.
     *
     * @param tensors names to tensors, for example {@code checkpoint.stateDict().asMap()}
     * @param file the file to write or replace
     * @throws IllegalArgumentException before anything is written, as {@link #write(Map, Path)}
     * @throws IOException if the file cannot be written (the target is then left as it was)
     */
    public static void save(Map<String, Tensor> tensors, Path file) throws IOException {
        builder().build().write(tensors, file);
    }

    /**
     * The {@code __metadata__} this writer adds to every file.
     *
     * @return an unmodifiable map in writing order; empty when none is written
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * What this writer does with views that share memory.
     *
     * @return the choice the builder was given ({@link SharedStorage#REFUSE} by default)
     */
    public SharedStorage sharedStorage() {
        return shared;
    }

    /**
     * Writes {@code tensors} (name to tensor) to {@code file}, replacing it if it exists, through a temporary
     * file renamed over it when complete (so the target may be the file the tensors are mapped from).
     *
     * @param tensors names to tensors; the order does not matter, as the file's order is the reference writer's
     * @param file the file to write or replace
     * @throws IOException if the file cannot be written (the target is then left as it was)
     * @throws IllegalArgumentException before anything is written, naming the tensor: a dtype safetensors has
     *     no code for (complex32, complex128, quantized, bits, packed and placeholder dtypes), the name
     *     {@code __metadata__}, a name or metadata string that is not valid Unicode, views that share memory
     *     under {@link SharedStorage#REFUSE}, or a header over the reference readers' 100,000,000 bytes
     * @throws IllegalStateException if a tensor's memory is released (its checkpoint closed) before or while
     *     it is written; the target is left as it was
     */
    public void write(Map<String, Tensor> tensors, Path file) throws IOException {
        Plan plan = plan(tensors);
        AtomicFile.write(file, channel -> write(plan, channel));
    }

    /**
     * Writes to a stream (left open), in one pass; same refusals as {@link #write(Map, Path)}.
     *
     * @param tensors names to tensors
     * @param out where the file's bytes go; flushed, not closed
     * @throws IllegalArgumentException before anything is written, as {@link #write(Map, Path)}
     * @throws IOException if writing to the stream fails (it then holds a partial file)
     * @throws IllegalStateException if a tensor's memory is released (its checkpoint closed) before or while
     *     it is written; the stream then holds a partial file
     */
    public void write(Map<String, Tensor> tensors, OutputStream out) throws IOException {
        Plan plan = plan(tensors);
        write(plan, Channels.newChannel(out));
        out.flush();
    }

    /**
     * The header that writing {@code tensors} would produce, without reading any tensor data: for checking a
     * layout, or for a caller that writes the data itself.
     *
     * @param tensors names to tensors
     * @return the 8-byte little-endian length followed by the padded JSON
     * @throws IllegalArgumentException as {@link #write(Map, Path)} refuses the tensors
     */
    public byte[] header(Map<String, Tensor> tensors) {
        return plan(tensors).header;
    }

    private record Item(String name, byte[] utf8Name, Tensor tensor, SafetensorsDType code) {
    }

    private record Plan(byte[] header, List<Item> items, long dataBytes) {
    }

    private Plan plan(Map<String, Tensor> tensors) {
        List<Item> items = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = Objects.requireNonNull(e.getKey(), "tensor name");
            Tensor t = Objects.requireNonNull(e.getValue(), () -> "tensor '" + name + "'");
            if (name.equals("__metadata__")) {
                throw new IllegalArgumentException("a tensor cannot be named __metadata__: the header keeps that"
                        + " key for the metadata");
            }
            SafetensorsDType code = SafetensorsDType.fromTorch(t.dtype()).orElseThrow(() ->
                    new IllegalArgumentException("tensor '" + name + "' has dtype " + t.dtype() + ", which"
                            + " safetensors cannot store (its codes cover bool, (u)int8-64, float16, bfloat16,"
                            + " float32, float64, complex64 and the float8 formats)"));
            items.add(new Item(name, utf8(name, "tensor name"), t, code));
        }
        checkShared(items);
        items.sort(Comparator.comparingInt((Item i) -> i.code.alignmentRank()).reversed()
                .thenComparing(Item::utf8Name, Arrays::compareUnsigned));

        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                json.append(first ? "" : ",");
                first = false;
                string(json, m.getKey());
                json.append(':');
                string(json, m.getValue());
            }
            json.append('}');
        }
        long offset = 0;
        for (Item i : items) {
            if (json.length() > 1) {
                json.append(',');
            }
            string(json, i.name);
            json.append(":{\"dtype\":\"").append(i.code.code()).append("\",\"shape\":[");
            long[] shape = i.tensor.shape();
            for (int d = 0; d < shape.length; d++) {
                json.append(d == 0 ? "" : ",").append(shape[d]);
            }
            long end = Math.addExact(offset, i.tensor.byteSize());
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = text.length + (8 - text.length % 8) % 8;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("the header would have " + padded + " bytes, more than the "
                    + SafetensorsHeader.MAX_HEADER_BYTES + " safetensors readers accept");
        }
        ByteBuffer header = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(padded).put(text);
        while (header.hasRemaining()) {
            header.put((byte) ' ');
        }
        return new Plan(header.array(), items, offset);
    }

    private void write(Plan plan, WritableByteChannel out) throws IOException {
        long done = 0;
        progress.progress(0, plan.dataBytes);
        writeFully(out, ByteBuffer.wrap(plan.header));
        for (Item i : plan.items) {
            for (Tensor.Block block : i.tensor.blocks(BLOCK_BYTES)) {
                writeFully(out, TorchZipWriter.buffer(block.bytes()));
                done += block.bytes().byteSize();
                progress.progress(done, plan.dataBytes);
            }
        }
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    /**
     * Groups the tensors of each storage whose element ranges overlap (empty tensors never do) and, under
     * {@link SharedStorage#REFUSE}, refuses the first groups with more than one name.
     */
    private void checkShared(List<Item> items) {
        if (shared == SharedStorage.COPY_EACH_VIEW) {
            return;
        }
        IdentityHashMap<Storage, List<long[]>> byStorage = new IdentityHashMap<>();
        List<Item> indexed = new ArrayList<>();
        for (Item i : items) {
            Tensor t = i.tensor;
            if (t.numel() == 0) {
                continue;
            }
            long last = t.storageOffset();
            for (int d = 0; d < t.dim(); d++) {
                last += (t.size(d) - 1) * t.stride(d); // within the storage: the view was validated
            }
            int es = t.dtype().elementSize();
            byStorage.computeIfAbsent(t.storage(), s -> new ArrayList<>())
                    .add(new long[] {t.storageOffset() * es, (last + 1) * es, indexed.size()});
            indexed.add(i);
        }
        List<String> groups = new ArrayList<>();
        for (Map.Entry<Storage, List<long[]>> e : byStorage.entrySet()) {
            List<long[]> ranges = e.getValue();
            if (ranges.size() < 2) {
                continue;
            }
            ranges.sort(Comparator.comparingLong(r -> r[0]));
            List<String> group = new ArrayList<>();
            long end = Long.MIN_VALUE;
            for (long[] r : ranges) {
                if (r[0] >= end) {
                    addGroup(groups, group, e.getKey());
                    group = new ArrayList<>();
                }
                group.add("'" + indexed.get((int) r[2]).name + "'");
                end = Math.max(end, r[1]);
            }
            addGroup(groups, group, e.getKey());
        }
        if (!groups.isEmpty()) {
            Collections.sort(groups);
            throw new IllegalArgumentException("Some tensors share memory: " + String.join("; ",
                    groups.subList(0, Math.min(groups.size(), 10))) + (groups.size() > 10 ? "; ..." : "")
                    + ". Safetensors stores each tensor's bytes separately, so shared bytes would be written once"
                    + " per tensor and load as independent copies. Choose SharedStorage.COPY_EACH_VIEW (weightsonly"
                    + " convert --shared copy) to write a copy for each, or keep one name per shared tensor");
        }
    }

    private static void addGroup(List<String> groups, List<String> group, Storage storage) {
        if (group.size() > 1) {
            Collections.sort(group);
            groups.add(String.join(", ", group) + " (storage '" + storage.key() + "')");
        }
    }

    private static byte[] utf8(String s, String what) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("the " + what + " '" + s + "' has a lone surrogate U+"
                        + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT)
                        + ", which UTF-8 (and so a safetensors header) cannot hold");
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string as serde_json writes it: {@code "}, {@code \} and control characters escaped, the rest as is. */
    private static void string(StringBuilder json, String s) {
        utf8(s, "string");
        JsonText.quote(s, json);
    }

    /** Builds a {@link SafetensorsWriter}: no metadata, {@link SharedStorage#REFUSE}, no progress reports. */
    public static final class Builder {
        private Map<String, String> metadata = Map.of();
        private SharedStorage shared = SharedStorage.REFUSE;
        private WriteProgress progress = WriteProgress.NONE;

        private Builder() {
        }

        /**
         * The {@code __metadata__} to write (free-form strings, e.g. {@code {"format": "pt"}}), in this map's
         * iteration order; empty writes none. Copied.
         *
         * @param metadata keys to values
         * @return this builder
         * @throws NullPointerException if the map, a key or a value is null
         */
        public Builder metadata(Map<String, String> metadata) {
            LinkedHashMap<String, String> copy = new LinkedHashMap<>();
            metadata.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "metadata key"),
                    Objects.requireNonNull(v, () -> "metadata value of '" + k + "'")));
            this.metadata = Collections.unmodifiableMap(copy);
            return this;
        }

        /**
         * What to do with views that share memory, such as tied embeddings.
         *
         * @param shared {@link SharedStorage#REFUSE} (the default) or another choice {@link SharedStorage} lists
         * @return this builder
         */
        public Builder sharedStorage(SharedStorage shared) {
            this.shared = Objects.requireNonNull(shared, "shared");
            return this;
        }

        /**
         * Where to report how many data bytes are written, for a progress bar on large files.
         *
         * @param progress the listener (default {@link WriteProgress#NONE})
         * @return this builder
         */
        public Builder progress(WriteProgress progress) {
            this.progress = Objects.requireNonNull(progress, "progress");
            return this;
        }

        /**
         * Builds the writer; it can write any number of files, from any thread.
         *
         * @return an immutable writer with these settings
         */
        public SafetensorsWriter build() {
            return new SafetensorsWriter(this);
        }
    }
}
