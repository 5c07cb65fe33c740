package dev.weightsonly.cli;

import dev.weightsonly.writer.WriteProgress;
import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar, redrawn in place with {@code \r} each time the written share grows by a tenth of
 * a percent (at most 1001 draws, whatever the file's size), and cleared when complete: its line is overwritten
 * with spaces and the cursor returned to its start, so that what is printed next starts on a clean line and
 * the finished bar leaves nothing behind.
 *
 * <p>Only for people watching: {@link #forTerminal} gives one only when the JVM has an interactive
 * terminal, so pipes, logs, scripts and tests see nothing (a bar drawn with carriage returns into a log
 * file is noise). Java cannot ask whether standard error alone is a terminal; the console's terminal is the
 * closest question it can ask.
 */
final class ProgressBar implements WriteProgress {

    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String label;
    private int drawn = -1;
    /** The length of the line last drawn: what clearing must overwrite. */
    private int width;

    ProgressBar(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
    }

    /** A bar on {@code err} when there is an interactive terminal, else {@link WriteProgress#NONE}. */
    static WriteProgress forTerminal(PrintWriter err, String label) {
        Console console = System.console();
        return console != null && console.isTerminal() ? new ProgressBar(err, label) : WriteProgress.NONE;
    }

    @Override
    public void progress(long written, long total) {
        int permille = total <= 0 ? 1000 : (int) Math.min(1000, written * 1000.0 / total);
        if (permille == drawn) {
            return;
        }
        drawn = permille;
        int filled = permille * WIDTH / 1000;
        String line = label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
                + String.format(Locale.ROOT, "%5.1f%%", permille / 10.0) + "  " + Sizes.human(written) + " / "
                + Sizes.human(total);
        // Padded to the last line's length: a shorter line (a size printed with fewer digits) leaves no tail.
        err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
        width = Math.max(width, line.length());
        if (permille == 1000) {
            err.print("\r" + " ".repeat(width) + "\r");
        }
        err.flush();
    }
}
