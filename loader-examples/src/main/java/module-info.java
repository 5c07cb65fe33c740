/** The weightsonly command-line tool and runnable examples. */
module dev.weightsonly.examples {
    requires dev.weightsonly.core;
    requires info.picocli;

    exports dev.weightsonly.examples;

    opens dev.weightsonly.cli to info.picocli;
}
