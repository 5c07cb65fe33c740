package dev.weightsonly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;

/** For any sequence of add, scope open, scope close and clear, the effective allowlist is what a model says. */
class SafeGlobalsModelProperties {

    sealed interface Action permits Add, Open, Close, Clear {
    }

    record Add(String name) implements Action {
    }

    record Open(List<String> names) implements Action {
    }

    /** Closes the scope at this position from the bottom (modulo the number open). */
    record Close(int position) implements Action {
    }

    record Clear() implements Action {
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<String> names = Arbitraries.of("a.A", "b.B", "c.C", "d.D", "e.E");
        Arbitrary<Action> add = names.map(Add::new);
        Arbitrary<Action> open = names.list().ofMinSize(0).ofMaxSize(3).map(Open::new);
        Arbitrary<Action> close = Arbitraries.integers().between(0, 5).map(Close::new);
        Arbitrary<Action> clear = Arbitraries.just(new Clear());
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, add),
                net.jqwik.api.Tuple.of(4, open),
                net.jqwik.api.Tuple.of(4, close),
                net.jqwik.api.Tuple.of(1, clear)).list().ofMaxSize(40);
    }

    @AfterTry
    void reset() {
        SafeGlobals.clear();
    }

    @Property(tries = 500)
    void effectiveAllowlistFollowsTheModel(@ForAll("actions") List<Action> actions) {
        Set<String> process = new HashSet<>();
        List<Set<String>> modelScopes = new ArrayList<>();
        List<SafeGlobals.Scope> scopes = new ArrayList<>();
        try {
            for (Action action : actions) {
                switch (action) {
                    case Add a -> {
                        SafeGlobals.add(a.name());
                        process.add(a.name());
                    }
                    case Open o -> {
                        scopes.add(SafeGlobals.scope(o.names().toArray(String[]::new)));
                        modelScopes.add(Set.copyOf(o.names()));
                    }
                    case Close c -> {
                        if (!scopes.isEmpty()) {
                            int at = c.position() % scopes.size();
                            scopes.get(at).close();
                            // Closing a scope closes every scope opened after it.
                            scopes.subList(at, scopes.size()).clear();
                            modelScopes.subList(at, modelScopes.size()).clear();
                        }
                    }
                    case Clear x -> {
                        SafeGlobals.clear();
                        process.clear();
                    }
                }
                Set<String> expected = new HashSet<>(process);
                modelScopes.forEach(expected::addAll);
                assertEquals(expected, SafeGlobals.effective(), "after " + action);
                assertEquals(process, SafeGlobals.get(), "process-wide entries after " + action);
            }
        } finally {
            if (!scopes.isEmpty()) {
                scopes.get(0).close();
            }
        }
        assertEquals(process, SafeGlobals.effective());
    }
}
