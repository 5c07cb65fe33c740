package dev.weightsonly.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightsonly.UnsupportedGlobalException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The model service, started on a free loopback port and queried over HTTP like any client would, against the
 * outputs PyTorch computed; and its refusal to start on a malicious checkpoint.
 */
class WeightsServiceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path EVIL = CnnInferenceTest.fixture("malicious/posix_system.pt");

    private static WeightsService service;
    private static HttpClient client;

    @BeforeAll
    static void start() throws IOException {
        service = WeightsService.start(CnnInferenceTest.MODEL,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client = HttpClient.newHttpClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        service.close();
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + path));
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void predictAnswersWhatPyTorchAnswered() throws Exception {
        ReferenceSamples samples = ReferenceSamples.load(CnnInferenceTest.SAMPLES);
        for (int i = 0; i < samples.size(); i++) {
            HttpResponse<String> response = send("POST", "/predict", JSON.writeValueAsString(samples.inputs()[i]));
            assertEquals(200, response.statusCode(), response.body());
            assertEquals("application/json; charset=utf-8", response.headers().firstValue("Content-Type").orElse(""));
            JsonNode answer = JSON.readTree(response.body());
            JsonNode logits = answer.get("logits");
            assertEquals(3, logits.size(), response.body());
            for (int k = 0; k < 3; k++) {
                assertEquals(samples.logits()[i][k], logits.get(k).doubleValue(), 1e-5, "sample " + i + " logit " + k);
            }
            assertEquals(samples.classes()[i], answer.get("class").asLong(), "sample " + i);
        }
    }

    @Test
    void healthNamesTheModel() throws Exception {
        HttpResponse<String> response = send("GET", "/health", null);
        assertEquals(200, response.statusCode());
        assertEquals(JSON.readTree("{\"status\":\"ok\",\"model\":\"cnn.pt\",\"parameters\":683,\"classes\":3}"),
                JSON.readTree(response.body()));
    }

    @Test
    void badRequestsGetAStatusAndAReason() throws Exception {
        float[] sixtyThree = new float[63];
        HttpResponse<String> shortArray = send("POST", "/predict", JSON.writeValueAsString(sixtyThree));
        assertEquals(400, shortArray.statusCode());
        assertTrue(error(shortArray).endsWith("expected an array of 64 numbers, got 63"), shortArray.body());

        HttpResponse<String> longArray = send("POST", "/predict", JSON.writeValueAsString(new float[65]));
        assertEquals(400, longArray.statusCode());
        assertTrue(error(longArray).endsWith("expected an array of 64 numbers, got more"), longArray.body());

        HttpResponse<String> notJson = send("POST", "/predict", "{\"image\": [1, 2]}");
        assertEquals(400, notJson.statusCode());
        assertTrue(error(notJson).endsWith("expected '[' at character 0"), notJson.body());

        String[] values = new String[64];
        Arrays.fill(values, "0");
        values[10] = "1e39";
        HttpResponse<String> overflow = send("POST", "/predict", "[" + String.join(",", values) + "]");
        assertEquals(400, overflow.statusCode());
        assertTrue(error(overflow).endsWith("value 10 (1e39) is outside the float range"), overflow.body());

        values[10] = "NaN";
        assertEquals(400, send("POST", "/predict", "[" + String.join(",", values) + "]").statusCode());

        HttpResponse<String> huge = send("POST", "/predict", " ".repeat(WeightsService.MAX_BODY_BYTES + 1));
        assertEquals(413, huge.statusCode());

        HttpResponse<String> get = send("GET", "/predict", null);
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElse(""));

        HttpResponse<String> post = send("POST", "/health", "[]");
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("Allow").orElse(""));

        HttpResponse<String> unknown = send("GET", "/predictions", null);
        assertEquals(404, unknown.statusCode());
        assertEquals("no such endpoint: /predictions (POST /predict, GET /health)", error(unknown));
    }

    @Test
    void whitespaceAndExponentsAreValidJson() throws Exception {
        ReferenceSamples samples = ReferenceSamples.load(CnnInferenceTest.SAMPLES);
        StringBuilder body = new StringBuilder("\n[ ");
        for (int i = 0; i < 64; i++) {
            body.append(i == 0 ? "" : " ,\t").append(String.format("%.9e", samples.inputs()[2][i]));
        }
        HttpResponse<String> response = send("POST", "/predict", body.append(" ]\r\n").toString());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(2, JSON.readTree(response.body()).get("class").asInt());
    }

    private static String error(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body()).get("error").asText();
    }

    // ---------------------------------------------------------------------------------------------
    // Start-up

    @Test
    void aMaliciousCheckpointStopsTheStartWithOneLineNamingTheFileAndTheReason() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        WeightsService.Launch launch = WeightsService.launch(new String[] {EVIL.toString(), Integer.toString(port)},
                print(out), print(err));
        WeightsService.Launch.Failed failed = assertInstanceOf(WeightsService.Launch.Failed.class, launch);
        assertEquals(WeightsService.REFUSED, failed.exitStatus());
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("WeightsService: not starting: " + EVIL + ": archive/data.pkl: "), message);
        assertTrue(message.contains("GLOBAL posix.system whose module posix is blocked"), message);
        // The port was never opened: it is still free to take.
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, again.getLocalPort());
        }
        // The API says the same with an exception.
        UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class,
                () -> WeightsService.start(EVIL, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
        assertEquals("posix.system", e.globalName());
    }

    @Test
    void theRealMainExitsNonZeroOnAMaliciousCheckpoint() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                WeightsService.class.getName(), EVIL.toString(), "0")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        // A server that started would keep the process alive and this would never return: main must exit.
        assertEquals(WeightsService.REFUSED, process.waitFor(), stderr);
        assertEquals(1, stderr.lines().count(), stderr);
        assertTrue(stderr.contains(EVIL.toString()) && stderr.contains("posix.system"), stderr);
    }

    @Test
    void otherStartUpFailures() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        WeightsService.Launch missing = WeightsService.launch(new String[] {"/nonexistent/cnn.pt", "0"},
                print(new ByteArrayOutputStream()), print(err));
        assertEquals(new WeightsService.Launch.Failed(WeightsService.USAGE_OR_IO), missing);
        assertEquals("WeightsService: not starting: /nonexistent/cnn.pt: no such file",
                err.toString(StandardCharsets.UTF_8).strip());

        err.reset();
        WeightsService.Launch wrongModel = WeightsService.launch(
                new String[] {CnnInferenceTest.fixture("sd_linear.pt").toString(), "0"},
                print(new ByteArrayOutputStream()), print(err));
        assertEquals(new WeightsService.Launch.Failed(WeightsService.REFUSED), wrongModel);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no tensor 'conv.weight'"), err.toString());

        err.reset();
        WeightsService.Launch taken = WeightsService.launch(
                new String[] {CnnInferenceTest.MODEL.toString(), Integer.toString(service.port())},
                print(new ByteArrayOutputStream()), print(err));
        assertEquals(new WeightsService.Launch.Failed(WeightsService.USAGE_OR_IO), taken);
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("WeightsService: not starting: cannot listen on"),
                err.toString());

        assertEquals(new WeightsService.Launch.Failed(WeightsService.USAGE_OR_IO),
                WeightsService.launch(new String[0], print(new ByteArrayOutputStream()), print(err)));
        assertEquals(new WeightsService.Launch.Failed(WeightsService.USAGE_OR_IO), WeightsService.launch(
                new String[] {CnnInferenceTest.MODEL.toString(), "port"}, print(new ByteArrayOutputStream()),
                print(err)));
    }

    @Test
    void launchStartsAServiceThatAnswers() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        WeightsService.Launch launch = WeightsService.launch(new String[] {CnnInferenceTest.MODEL.toString(), "0"},
                print(out), print(new ByteArrayOutputStream()));
        try (WeightsService started = assertInstanceOf(WeightsService.Launch.Started.class, launch).service()) {
            assertEquals("WeightsService: " + CnnInferenceTest.MODEL + " loaded (683 parameters, 3 classes);"
                    + " listening on http://127.0.0.1:" + started.port() + " (POST /predict, GET /health)",
                    out.toString(StandardCharsets.UTF_8).strip());
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + started.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
        }
    }

    private static PrintStream print(ByteArrayOutputStream buffer) {
        return new PrintStream(buffer, true, StandardCharsets.UTF_8);
    }
}
