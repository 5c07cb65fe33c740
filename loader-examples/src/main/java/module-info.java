/** The weightsonly command-line tool and runnable examples. */
module dev.weightsonly.examples {
    requires dev.weightsonly.core;
    requires info.picocli;

    opens dev.weightsonly.cli to info.picocli;
}
