package dev.weightsonly.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightsonly.python.PyDict;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The dump recurses a few frames per level: at its bound of 1,000 levels it must neither overflow the stack
 * of a caller with a small one nor depend on whether the JIT has compiled it yet.
 */
class DeepDumpTest {

    private static Object nested(int depth) {
        Object v = 1L;
        for (int i = 0; i < depth; i++) {
            v = PyDict.builder(PyDict.Kind.DICT).put("a", v).build();
        }
        return v;
    }

    /** Runs {@code body} on a thread with a 128 KiB stack, the first time the dump runs in this JVM or not. */
    private static Throwable onSmallStack(Runnable body) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                body.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, "small-stack", 128 << 10);
        t.start();
        t.join();
        return thrown.get();
    }

    @Test
    void aThousandLevelsDumpFromASmallStack() throws InterruptedException {
        Object root = nested(999);
        AtomicReference<String> json = new AtomicReference<>();
        assertEquals(null, onSmallStack(() -> json.set(CanonicalDump.toJson(root, 1_000, 1_000_000))));
        assertTrue(json.get().startsWith("{\"root\":{\"dict\":[[\"a\","), json.get().substring(0, 40));
        assertEquals(999, json.get().split("\"dict\"", -1).length - 1);
    }

    @Test
    void deeperThanTheBoundIsRefusedNotOverflowed() throws InterruptedException {
        Object root = nested(5_000);
        Throwable e = onSmallStack(() -> CanonicalDump.toJson(root, 1_000, 1_000_000));
        assertTrue(e instanceof IllegalArgumentException, String.valueOf(e));
        assertTrue(e.getMessage().contains("nested more than 1000 deep"), e.getMessage());
        // and on the caller's own thread, errors keep their type
        assertThrows(IllegalArgumentException.class, () -> CanonicalDump.toJson(root, 1_000, 1_000_000));
    }
}
