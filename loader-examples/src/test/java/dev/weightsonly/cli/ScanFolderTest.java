package dev.weightsonly.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scan} over folders: recognition, links, models, formats, and the external corpus in one command. */
class ScanFolderTest {

    static final Path CORPUS = Paths.get("../../shared/corpus/external").toAbsolutePath().normalize();
    static final Path SARIF_SCHEMA = Paths.get("../../shared/corpus/sarif/sarif-schema-2.1.0.json")
            .toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path fixture(String name) {
        return Cli.fixture(name);
    }

    static JsonNode json(Cli.Run r) throws IOException {
        return JSON.readTree(r.out());
    }

    static Map<String, JsonNode> byFile(JsonNode doc) {
        Map<String, JsonNode> out = new HashMap<>();
        doc.get("files").forEach(f -> out.put(f.get("file").asText(), f));
        return out;
    }

    @Test
    void theExternalCorpusScansInOneCommandWithTheManifestsVerdicts() throws IOException {
        assumeTrue(Files.isDirectory(CORPUS), "the external corpus is beside the project in CI");
        Cli.Run r = Cli.run("scan", "--format", "json", CORPUS.toString());
        JsonNode doc = json(r);
        // The files are scanned in parallel and reported in the order they were found: a folder's sorted by path.
        List<Path> reported = new ArrayList<>();
        doc.get("files").forEach(f -> reported.add(Path.of(f.get("file").asText())));
        assertEquals(reported.stream().sorted().toList(), reported);
        Map<String, JsonNode> files = byFile(doc);
        List<String> rows = Files.readAllLines(CORPUS.resolve("manifest.tsv"), StandardCharsets.UTF_8);
        List<String> wrong = new ArrayList<>();
        for (String row : rows.subList(1, rows.size())) {
            String[] cols = row.split("\t");
            String name = cols[0];
            JsonNode f = files.remove(CORPUS.resolve(name).toString());
            if (f == null) {
                wrong.add(name + ": not scanned");
                continue;
            }
            int status = f.get("exit_status").asInt();
            boolean ok = switch (cols[2]) {
                case "load" -> status == 0;
                case "refuse" -> name.startsWith("malicious/") ? status == 3 : status == 1 || status == 3;
                case "either" -> status == 0 || status == 1 || status == 3;
                default -> false;
            };
            if (!ok) {
                wrong.add(name + ": expected " + cols[2] + ", scanned " + f.get("verdict").asText() + " (status "
                        + status + ") " + f.get("problems"));
            }
        }
        // README.md and manifest.tsv are not checkpoints, and nothing else is in the folder.
        assertEquals(Set.of(), files.keySet(), "scanned files that are not in the manifest");
        assertEquals(List.of(), wrong, wrong.size() + " of " + (rows.size() - 1) + " files");
        assertEquals(3, r.status(), "the folder's status is the worst file's");
    }

    @Test
    void theCorpusSarifValidatesAgainstTheOfficialSchema() throws IOException {
        assumeTrue(Files.isDirectory(CORPUS) && Files.exists(SARIF_SCHEMA), "shared/ is beside the project in CI");
        Cli.Run r = Cli.run("scan", "--format", "sarif", CORPUS.toString());
        assertEquals(3, r.status());
        assertEquals(List.of(), validate(r.out()));
        JsonNode run = JSON.readTree(r.out()).get("runs").get(0);
        List<String> ruleIds = new ArrayList<>();
        run.get("tool").get("driver").get("rules").forEach(rule -> ruleIds.add(rule.get("id").asText()));
        assertEquals(List.of("WO001", "WO002", "WO003", "WO004", "WO005"), ruleIds);
        boolean systemCall = false;
        for (JsonNode result : run.get("results")) {
            assertEquals(ruleIds.get(result.get("ruleIndex").asInt()), result.get("ruleId").asText());
            if (result.path("properties").path("global").asText().equals("posix.system")) {
                systemCall = true;
                assertEquals("error", result.get("level").asText());
                assertEquals("WO001", result.get("ruleId").asText());
                JsonNode loc = result.get("locations").get(0);
                assertTrue(loc.get("physicalLocation").get("artifactLocation").get("uri").asText()
                        .startsWith("file:///"), loc.toString());
                assertFalse(loc.get("logicalLocations").get(0).get("name").asText().isEmpty());
            }
        }
        assertTrue(systemCall, "a posix.system exploit is reported");
    }

    @Test
    void theValidatorRejectsABrokenLog() throws IOException {
        assumeTrue(Files.exists(SARIF_SCHEMA));
        Cli.Run r = Cli.run("scan", "--format", "sarif", fixture("malicious/builtins_eval.pt").toString());
        assertEquals(List.of(), validate(r.out()));
        // The control: the same log with a level SARIF does not define must fail, or the validation proves nothing.
        assertNotEquals(List.of(), validate(r.out().replace("\"level\":\"error\"", "\"level\":\"fatal\"")));
    }

    static List<String> validate(String sarif) throws IOException {
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
                .getSchema(Files.readString(SARIF_SCHEMA), InputFormat.JSON);
        return schema.validate(sarif, InputFormat.JSON).stream().map(Error::toString).toList();
    }

    @Test
    void aFolderIsScannedByContentAndItsStatusIsTheWorstFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("models/deep"));
        Files.copy(fixture("sd_linear.pt"), dir.resolve("weights.bin"));             // a checkpoint named .bin
        Files.copy(fixture("malicious/builtins_eval.pt"), dir.resolve("x.data"));     // any name: by content
        Files.writeString(dir.resolve("notes.txt"), "not a checkpoint.");
        jar(dir.resolve("lib.jar"));                                                  // a zip with no pickle
        Files.write(dir.resolve("proto0.dat"), "cposix\nsystem\n(S'id'\ntR.".getBytes(StandardCharsets.US_ASCII));
        // No header, a string first, and a tail that breaks after the payload: still a pickle that names a global.
        Files.write(dir.resolve("hidden.dat"), "S'x'\np0\n0cos\nsystem\n(S'id'\ntR\u0001\u0002"
                .getBytes(StandardCharsets.US_ASCII));
        Files.writeString(dir.resolve("CMakeLists.txt"), "cmake_minimum_required(VERSION 3.10)\nproject(x)\n");
        Files.writeString(dir.resolve("README.md"), "# Models\n\nSome text.\n");
        Cli.Run r = Cli.run("scan", tmp.resolve("models").toString());
        assertEquals(3, r.status(), r.out());
        assertTrue(r.out().contains(dir.resolve("weights.bin") + ": allowed"), r.out());
        assertTrue(r.out().contains(dir.resolve("x.data") + ": dangerous"), r.out());
        assertTrue(r.out().contains(dir.resolve("proto0.dat") + ": dangerous"), r.out());
        assertTrue(r.out().contains(dir.resolve("hidden.dat") + ": dangerous"), r.out());
        assertFalse(r.out().contains("notes.txt") || r.out().contains("lib.jar") || r.out().contains("CMakeLists")
                || r.out().contains("README"), r.out());
        assertTrue(r.out().contains("4 files: 1 clean, 0 need allowlisting, 3 dangerous or malformed, 0 unreadable"),
                r.out());
        Files.delete(dir.resolve("x.data"));
        Files.delete(dir.resolve("proto0.dat"));
        Files.delete(dir.resolve("hidden.dat"));
        assertEquals(0, Cli.run("scan", tmp.resolve("models").toString()).status());
    }

    private static void jar(Path file) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            z.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
            z.write("Manifest-Version: 1.0\n".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
        }
    }

    @Test
    void aHubCacheScansAsOneModelAndNoLinkLeadsOutOfTheTree() throws IOException {
        Path repo = tmp.resolve("hub/models--org--tiny");
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snap = Files.createDirectories(repo.resolve("snapshots/0123abc"));
        Files.copy(fixture("sd_linear.pt"), blobs.resolve("aa11"));
        Files.copy(fixture("sd_linear.pt"), blobs.resolve("bb22"));
        Files.createSymbolicLink(snap.resolve("pytorch_model-00001-of-00002.bin"), Path.of("../../blobs/aa11"));
        Files.createSymbolicLink(snap.resolve("pytorch_model-00002-of-00002.bin"), Path.of("../../blobs/bb22"));
        Path outside = Files.copy(fixture("malicious/builtins_eval.pt"), tmp.resolve("elsewhere.pt"));
        // What else a hub cache holds: refs (a commit hash) and locks; neither is a checkpoint.
        Files.writeString(Files.createDirectories(repo.resolve("refs")).resolve("main"),
                "0123abcdef0123abcdef0123abcdef0123abcdef");
        Files.createFile(Files.createDirectories(tmp.resolve("hub/.locks/models--org--tiny")).resolve("aa11.lock"));

        Cli.Run r = Cli.run("scan", "--format", "json", snap.toString());
        JsonNode doc = json(r);
        assertEquals(0, r.status(), r.out());
        assertEquals(2, doc.get("summary").get("files").asInt());
        assertEquals("org/tiny@0123abc", doc.get("models").get(0).get("model").asText());
        assertEquals(2, doc.get("models").get(0).get("files").size());

        // Scanning the whole cache reads each blob once, through its snapshot.
        Cli.Run whole = Cli.run("scan", "--format", "json", tmp.resolve("hub").toString());
        assertEquals(2, json(whole).get("summary").get("files").asInt(), whole.out());

        Files.createSymbolicLink(snap.resolve("extra.pt"), outside);
        Cli.Run out = Cli.run("scan", "--format", "json", snap.toString());
        assertEquals(2, out.status(), "a link out of the tree is not read: unreadable");
        JsonNode extra = byFile(json(out)).get(snap.resolve("extra.pt").toString());
        assertEquals("unreadable", extra.get("verdict").asText());
        assertTrue(extra.get("problems").get(0).asText().contains("out of the scanned tree"));
    }

    @Test
    void aSavePretrainedFolderIsOneModelAndAMissingShardIsReported() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("my-model"));
        Files.copy(fixture("sd_linear.pt"), model.resolve("pytorch_model-00001-of-00002.bin"));
        Files.copy(fixture("sd_linear.pt"), model.resolve("pytorch_model-00002-of-00002.bin"));
        Files.writeString(model.resolve("pytorch_model.bin.index.json"), """
                {"metadata": {"total_size": 1}, "weight_map": {"a": "pytorch_model-00001-of-00002.bin",
                 "b": "pytorch_model-00002-of-00002.bin"}}""");
        Files.writeString(model.resolve("config.json"), "{}");
        Cli.Run r = Cli.run("scan", model.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("model " + model + ": allowed (2 files)"), r.out());

        Files.delete(model.resolve("pytorch_model-00002-of-00002.bin"));
        Cli.Run missing = Cli.run("scan", "--format", "json", model.toString());
        assertEquals(2, missing.status());
        assertEquals(1, json(missing).get("summary").get("unreadable").asInt());
    }

    @Test
    void anUnknownFormatIsAUsageError() {
        assertEquals(2, Cli.run("scan", "--format", "xml", fixture("sd_linear.pt").toString()).status());
    }
}
