package dev.weightsonly.maven;

import dev.weightsonly.scan.FolderScan;
import dev.weightsonly.scan.GlobalReference;
import dev.weightsonly.scan.SarifReport;
import dev.weightsonly.scan.Verdict;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * Scans the project's model files as {@code weightsonly scan} does and fails the build on any that a
 * weights-only load would refuse: a dangerous file (a global that runs code, a TorchScript archive, a
 * malformed file), an unreadable one (a link out of the tree), and one whose globals need allowlisting
 * unless {@code <allow>} lists those globals or the file. Writes a SARIF 2.1.0 report either way.
 */
@Mojo(name = "scan", defaultPhase = LifecyclePhase.VERIFY, threadSafe = true)
public class ScanMojo extends AbstractMojo {

    @Parameter(defaultValue = "${project.basedir}", readonly = true, required = true)
    private File basedir;

    /** Folders to scan recursively (default: src/main/resources and src/test/resources); missing ones are skipped. */
    @Parameter
    private List<File> directories;

    /**
     * What may need allowlisting without failing the build: a global's qualified name ({@code module.Name},
     * as {@code LoadOptions.allowGlobal} and {@code scan --allow} take it), or a file's path relative to the
     * project folder ({@code src/main/resources/model.pt}). A dangerous global can never be allowed.
     */
    @Parameter
    private List<String> allow;

    /** The SARIF report. */
    @Parameter(property = "weightsonly.sarif", defaultValue = "${project.build.directory}/weightsonly-scan.sarif")
    private File sarif;

    /** Skips the scan. */
    @Parameter(property = "weightsonly.skip", defaultValue = "false")
    private boolean skip;

    /** Created by Maven, which then injects the parameters above from the plugin's configuration. */
    public ScanMojo() {
    }

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("weightsonly scan skipped");
            return;
        }
        Path base = basedir.toPath().toAbsolutePath().normalize();
        List<Path> roots = new ArrayList<>();
        List<File> dirs = directories != null && !directories.isEmpty() ? directories
                : List.of(new File(basedir, "src/main/resources"), new File(basedir, "src/test/resources"));
        for (File d : dirs) {
            Path p = base.resolve(d.toPath()).normalize();
            if (Files.exists(p)) {
                roots.add(p);
            }
        }
        Set<String> allowed = allow == null ? Set.of() : Set.copyOf(allow);
        FolderScan.Result scanned = FolderScan.scan(roots, allowed::contains);
        // Paths relative to the project folder: what a reader and a code-scanning dashboard expect.
        List<FolderScan.FileResult> relative = new ArrayList<>();
        for (FolderScan.FileResult f : scanned.files()) {
            relative.add(new FolderScan.FileResult(relativize(base, f.path()), f.model(), f.report(), f.outcome(),
                    f.error()));
        }
        FolderScan.Result result = new FolderScan.Result(relative);
        writeSarif(result, base);

        List<String> failures = new ArrayList<>();
        for (FolderScan.FileResult f : result.files()) {
            String line = describe(f);
            switch (f.outcome()) {
                case CLEAN -> getLog().debug(line);
                case NEEDS_ALLOWLISTING -> {
                    if (allowed.contains(f.path())) {
                        getLog().warn(line + " (allowed by <allow>)");
                    } else {
                        getLog().error(line);
                        failures.add(f.path());
                    }
                }
                default -> {
                    getLog().error(line);
                    failures.add(f.path());
                }
            }
        }
        FolderScan.Summary s = result.summary();
        getLog().info("weightsonly: " + s.files() + " model file(s) in " + roots.size() + " folder(s): " + s.clean()
                + " clean, " + s.needsAllowlisting() + " need allowlisting, " + s.dangerous() + " dangerous or"
                + " malformed, " + s.unreadable() + " unreadable; SARIF: " + sarif);
        if (!failures.isEmpty()) {
            throw new MojoFailureException("weightsonly: " + failures.size() + " model file(s) a weights-only load"
                    + " would refuse: " + String.join(", ", failures) + " (details above and in " + sarif + ")");
        }
    }

    private void writeSarif(FolderScan.Result result, Path base) throws MojoExecutionException {
        String version = ScanMojo.class.getPackage().getImplementationVersion();
        try {
            Files.createDirectories(sarif.toPath().toAbsolutePath().getParent());
            Files.writeString(sarif.toPath(), SarifReport.write(result, version == null ? "unknown" : version, base),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new MojoExecutionException("cannot write the SARIF report " + sarif + ": " + e.getMessage(), e);
        }
    }

    private static String relativize(Path base, String path) {
        Path p = Path.of(path);
        return p.startsWith(base) ? base.relativize(p).toString().replace(File.separatorChar, '/') : path;
    }

    /** One line: the file, its verdict, and the globals behind it. */
    static String describe(FolderScan.FileResult f) {
        StringBuilder sb = new StringBuilder(f.path()).append(": ").append(f.verdictWord().replace('_', ' '));
        if (f.report() == null) {
            return sb.append(": ").append(f.error()).toString();
        }
        Set<String> names = new LinkedHashSet<>();
        for (GlobalReference g : f.report().globals()) {
            if (g.verdict() == Verdict.DANGEROUS || g.verdict() == Verdict.NEEDS_ALLOWLISTING) {
                names.add(g.name() + (g.verdict() == Verdict.DANGEROUS ? " (dangerous)" : " (needs allowlisting)"));
            }
        }
        if (!names.isEmpty()) {
            sb.append(": ").append(String.join(", ", names));
        }
        for (String problem : f.report().problems()) {
            sb.append("; ").append(problem.replace('\n', ' '));
        }
        return sb.toString();
    }
}
