package dev.weightsonly.cli;

import dev.weightsonly.testing.SharedFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the tool in-process with captured streams (no terminal, as under Maven). */
final class Cli {

    record Run(int status, String out, String err) {
    }

    private Cli() {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = WeightsOnlyCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(status, out.toString(), err.toString());
    }

    static Path fixture(String name) {
        return SharedFixtures.path("fixtures/" + name);
    }
}
