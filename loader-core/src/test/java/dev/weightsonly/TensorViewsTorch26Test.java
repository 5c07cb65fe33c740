package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightsonly.testing.Python;
import dev.weightsonly.testing.Torch26;
import dev.weightsonly.tensors.DType;
import dev.weightsonly.tensors.Storage;
import dev.weightsonly.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * {@link Tensor#select}, {@link Tensor#narrow}, {@link Tensor#reshape} and {@link Tensor#item()} against real
 * PyTorch 2.6 on thousands of seeded random views (row-major, permuted, expanded and arbitrary strides, empty
 * and 0-dim ones, size-1 dimensions), with in-range, negative and out-of-range arguments: the same refusals
 * (IndexError as {@link IndexOutOfBoundsException}, RuntimeError as {@link IllegalArgumentException}, or
 * {@link IllegalStateException} for {@code item()}), and otherwise the same shape, strides, storage offset,
 * values, and the same choice between a view of the storage and a copy. The views are of a float64 storage
 * holding 0, 1, 2, ..., so a value names the position it was read from.
 */
class TensorViewsTorch26Test {

    private static final int CASES = 6000;

    record Case(long[] shape, long[] strides, long offset, long capacity, String op, long[] args) {
        ObjectNode json() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.set("shape", array(shape));
            o.set("strides", array(strides));
            o.put("offset", offset);
            o.put("capacity", capacity);
            o.put("op", op);
            o.set("args", array(args));
            return o;
        }

        Tensor tensor() {
            MemorySegment bytes = MemorySegment.ofArray(new byte[(int) capacity * Double.BYTES]);
            for (int i = 0; i < capacity; i++) {
                bytes.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i);
            }
            return Tensor.of(Storage.of(bytes, "0", "cpu"), DType.FLOAT64, offset, shape, strides);
        }

        @Override
        public String toString() {
            return op + Arrays.toString(args) + " of shape " + Arrays.toString(shape) + ", strides "
                    + Arrays.toString(strides) + ", offset " + offset;
        }
    }

    private static ArrayNode array(long[] values) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (long v : values) {
            a.add(v);
        }
        return a;
    }

    static List<Case> cases() {
        Random random = new Random(14);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            int rank = random.nextInt(5);
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) {
                int pick = random.nextInt(20);
                shape[d] = pick == 0 ? 0 : pick < 6 ? 1 : 2 + pick % 3;
            }
            long[] strides = strides(shape, random);
            long offset = random.nextInt(4);
            long last = offset;
            for (int d = 0; d < rank; d++) {
                last += Math.max(shape[d] - 1, 0) * strides[d];
            }
            long capacity = last + 1 + random.nextInt(3);
            int op = random.nextInt(10);
            if (op < 3) {
                int dim = random.nextInt(2 * rank + 3) - rank - 1;
                long size = sizeAt(shape, dim, random);
                cases.add(new Case(shape, strides, offset, capacity, "select",
                        new long[] {dim, random.nextInt((int) (2 * size + 3)) - size - 1}));
            } else if (op < 6) {
                int dim = random.nextInt(2 * rank + 3) - rank - 1;
                long size = sizeAt(shape, dim, random);
                long start = random.nextInt((int) (2 * size + 3)) - size - 1;
                long length = random.nextInt((int) size + 3) - 1;
                cases.add(new Case(shape, strides, offset, capacity, "narrow", new long[] {dim, start, length}));
            } else if (op < 9) {
                cases.add(new Case(shape, strides, offset, capacity, "reshape", newShape(shape, random)));
            } else {
                cases.add(new Case(shape, strides, offset, capacity, "item", new long[0]));
            }
        }
        return cases;
    }

    /** Row-major, permuted row-major, row-major with an expanded (stride 0) dimension, or arbitrary strides. */
    private static long[] strides(long[] shape, Random random) {
        int rank = shape.length;
        long[] rowMajor = new long[rank];
        long step = 1;
        for (int d = rank - 1; d >= 0; d--) {
            rowMajor[d] = step;
            step *= Math.max(shape[d], 1);
        }
        int layout = random.nextInt(10);
        if (layout < 4 || rank == 0) {
            return rowMajor;
        }
        if (layout < 6) {
            // the strides of a row-major tensor of the permuted shape, permuted back: a transpose
            Integer[] order = new Integer[rank];
            for (int d = 0; d < rank; d++) {
                order[d] = d;
            }
            java.util.Collections.shuffle(Arrays.asList(order), random);
            long[] strides = new long[rank];
            long s = 1;
            for (int k = rank - 1; k >= 0; k--) {
                strides[order[k]] = s;
                s *= Math.max(shape[order[k]], 1);
            }
            return strides;
        }
        if (layout < 7) {
            long[] strides = rowMajor.clone();
            strides[random.nextInt(rank)] = 0;
            return strides;
        }
        return LongStream.range(0, rank).map(d -> random.nextInt(13)).toArray();
    }

    private static long sizeAt(long[] shape, int dim, Random random) {
        int rank = shape.length;
        return dim >= -rank && dim < rank ? shape[dim < 0 ? dim + rank : dim] : random.nextInt(4);
    }

    /** A shape of the same element count (some with a -1), or now and then an invalid one. */
    private static long[] newShape(long[] shape, Random random) {
        long numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        List<Long> dims = new ArrayList<>();
        long rest = numel;
        int rank = random.nextInt(5);
        for (int d = 0; d + 1 < rank && rest > 1; d++) {
            List<Long> divisors = new ArrayList<>();
            for (long k = 1; k <= rest; k++) {
                if (rest % k == 0) {
                    divisors.add(k);
                }
            }
            long k = divisors.get(random.nextInt(divisors.size()));
            dims.add(k);
            rest /= k;
        }
        if (rank > 0 || rest != 1) {
            dims.add(rest);
        }
        for (int ones = random.nextInt(3); ones > 0; ones--) {
            dims.add(random.nextInt(dims.size() + 1), 1L);
        }
        if (numel == 0 && random.nextBoolean()) {
            dims.add(random.nextInt(dims.size() + 1), (long) random.nextInt(4));
        }
        long[] out = dims.stream().mapToLong(Long::longValue).toArray();
        int twist = random.nextInt(10);
        if (out.length > 0 && twist < 3) {
            out[random.nextInt(out.length)] = -1;
        } else if (out.length > 0 && twist == 3) {
            out[random.nextInt(out.length)] += 1; // the wrong count
        } else if (out.length > 1 && twist == 4) {
            out[0] = -1;
            out[out.length - 1] = random.nextBoolean() ? -1 : -2;
        }
        return out;
    }

    @Test
    void selectNarrowReshapeAndItemAreTorchs() {
        List<Case> cases = cases();
        ArrayNode input = JsonNodeFactory.instance.arrayNode();
        cases.forEach(c -> input.add(c.json()));
        JsonNode out = Torch26.runScript(Python.resources("torch26").resolve("tensor_views.py"), input);
        assertTrue(out.get("torch").asText().startsWith("2.6"), out.get("torch").asText());
        JsonNode answers = out.get("answers");
        assertEquals(cases.size(), answers.size());
        List<String> failures = new ArrayList<>();
        int views = 0;
        int copies = 0;
        int refusals = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            JsonNode torch = answers.get(i);
            try {
                String outcome = compare(c, torch);
                switch (outcome) {
                    case "view" -> views++;
                    case "copy" -> copies++;
                    case "refused" -> refusals++;
                    default -> { }
                }
            } catch (AssertionError e) {
                failures.add(c + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + cases.size() + " differ from PyTorch 2.6, first ones:\n"
                    + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
        // the seeded cases reach every outcome often
        assertTrue(views > 1000 && copies > 100 && refusals > 500, views + " views, " + copies + " copies, "
                + refusals + " refusals");
    }

    private static String compare(Case c, JsonNode torch) {
        Tensor t = c.tensor();
        Object result;
        try {
            result = switch (c.op()) {
                case "select" -> t.select((int) c.args()[0], c.args()[1]);
                case "narrow" -> t.narrow((int) c.args()[0], c.args()[1], c.args()[2]);
                case "reshape" -> t.reshape(c.args());
                case "item" -> t.item();
                default -> throw new AssertionError(c.op());
            };
        } catch (RuntimeException e) {
            if (!torch.has("error")) {
                throw new AssertionError("refused (" + e + ") where torch gives " + torch);
            }
            Class<?> expected = switch (torch.get("error").asText()) {
                case "IndexError" -> IndexOutOfBoundsException.class;
                case "RuntimeError" -> c.op().equals("item") ? IllegalStateException.class
                        : IllegalArgumentException.class;
                default -> throw new AssertionError("torch raised " + torch);
            };
            if (expected != e.getClass()) {
                throw new AssertionError("refused with " + e + " where torch raised " + torch);
            }
            return "refused";
        }
        if (torch.has("error")) {
            throw new AssertionError("gave " + result + " where torch raised " + torch);
        }
        if (result instanceof Double value) {
            assertEquals(torch.get("value").asDouble(), value);
            return "item";
        }
        Tensor r = (Tensor) result;
        assertArrayEquals(longs(torch.get("shape")), r.shape(), "shape");
        assertArrayEquals(longs(torch.get("strides")), r.strides(), "strides");
        assertEquals(torch.get("offset").asLong(), r.storageOffset(), "storage offset");
        boolean view = r.storage() == t.storage();
        assertEquals(torch.get("view").asBoolean(), view, "a view of the storage (else a copy)");
        double[] values = new double[torch.get("values").size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = torch.get("values").get(i).asDouble();
        }
        assertArrayEquals(values, r.toDoubleArray(), "values");
        return view ? "view" : "copy";
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
