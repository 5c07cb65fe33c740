/** The weightsonly command-line tool and runnable examples. */
module dev.weightsonly.examples {
    requires transitive dev.weightsonly.core; // the examples' public methods take and return its types
    requires info.picocli;
    requires jdk.httpserver; // the WeightsService example

    exports dev.weightsonly.examples;

    opens dev.weightsonly.cli to info.picocli;
}
