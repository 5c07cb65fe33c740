package dev.weightsonly.cli;

import picocli.CommandLine;

/** The tool's version, from the jar manifest when packaged. */
final class Version implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return new String[] {"weightsonly " + (v != null ? v : "0.1.0-SNAPSHOT")};
    }
}
