package dev.weightsonly.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** The commands a mistyped one may have meant ({@code inspcet}: {@code inspect}), for the usage error. */
final class CommandNames {

    private CommandNames() {
    }

    /**
     * The names in {@code commands} that {@code typed} is a slip away from: within two edits (a letter left out,
     * added, changed, or two letters swapped), or a prefix of at least two letters. None for anything further, so
     * that a wrong word is not answered with a guess.
     */
    static List<String> near(String typed, Collection<String> commands) {
        String t = typed.toLowerCase(Locale.ROOT);
        List<String> near = new ArrayList<>();
        for (String name : commands) {
            if (t.length() <= 2 * name.length()
                    && (distance(t, name) <= Math.min(2, name.length() / 3) || t.length() >= 2 && name.startsWith(t))) {
                near.add(name);
            }
        }
        return near;
    }

    /** The optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
