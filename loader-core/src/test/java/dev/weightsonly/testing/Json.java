package dev.weightsonly.testing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/** JSON value equality as canonical-dump.md defines it: numbers as numbers, object keys in any order. */
public final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private Json() {
    }

    public static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }

    /** Null if equal, else the JSON path of the first difference with both values. */
    public static String firstDifference(JsonNode a, JsonNode b) {
        return diff(a, b, "$");
    }

    private static String diff(JsonNode a, JsonNode b, String path) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0 ? null : path + ": " + a + " != " + b;
        }
        if (a.getNodeType() != b.getNodeType()) {
            return path + ": " + abbreviate(a) + " != " + abbreviate(b);
        }
        if (a.isArray()) {
            if (a.size() != b.size()) {
                return path + ": array of " + a.size() + " != array of " + b.size();
            }
            for (int i = 0; i < a.size(); i++) {
                String d = diff(a.get(i), b.get(i), path + "[" + i + "]");
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (a.isObject()) {
            Set<String> keys = new HashSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            Set<String> other = new HashSet<>();
            b.fieldNames().forEachRemaining(other::add);
            if (!keys.equals(other)) {
                return path + ": keys " + keys + " != " + other;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String d = diff(e.getValue(), b.get(e.getKey()), path + "." + e.getKey());
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        return a.equals(b) ? null : path + ": " + abbreviate(a) + " != " + abbreviate(b);
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
