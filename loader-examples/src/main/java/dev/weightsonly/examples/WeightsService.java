package dev.weightsonly.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weightsonly.CheckpointException;
import dev.weightsonly.UnreadableCheckpointException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A minimal model-serving HTTP service on the JDK's own server ({@code com.sun.net.httpserver}): the weights are
 * loaded once at start-up, weights-only, and every request runs the network on them.
 *
 * <pre>
 * WeightsService MODEL.pt [PORT [ADDRESS]]      (defaults: 8080, 127.0.0.1)
 *
 * POST /predict   body: a JSON array of 64 numbers (one 8x8 image, row by row)
 *                 200 {"logits":[...],"class":k}; 400 {"error":"..."} for any other body; 413 over 64 KiB
 * GET  /health    200 {"status":"ok","model":"cnn.pt","parameters":683,"classes":3}
 * </pre>
 *
 * <p>Loading at start-up is the point of the example: the file is checked once, before the port is opened. A
 * malicious or broken checkpoint makes {@code main} print one line naming the file and the reason and exit with
 * status 1, and the server never starts; a missing file, a bad argument or a port in use exit with 2. A service
 * that started anyway and failed per request would hide the problem behind a healthy-looking port.
 *
 * <p>The network is immutable ({@link SmallCnn}), so requests run concurrently on virtual threads with no locking.
 * The default address is the loopback interface: exposing a model server is a decision to make explicitly.
 */
public final class WeightsService implements AutoCloseable {

    /** Exit status when the checkpoint is refused or is not the expected network. */
    public static final int REFUSED = 1;
    /** Exit status for a usage error, a missing file or a port that cannot be opened. */
    public static final int USAGE_OR_IO = 2;
    /** Request bodies larger than this are refused (413) without being read further: 64 numbers need far less. */
    static final int MAX_BODY_BYTES = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService executor;
    private final SmallCnn network;
    private final String modelName;

    private WeightsService(HttpServer server, ExecutorService executor, SmallCnn network, String modelName) {
        this.server = server;
        this.executor = executor;
        this.network = network;
        this.modelName = modelName;
    }

    /**
     * Loads {@code model} and, only if that succeeds, starts serving on {@code address} (port 0 picks a free port;
     * see {@link #port()}).
     *
     * @param model the state dict of the network of {@code gen_cnn.py}
     * @param address where to listen
     * @return the running service; close it to stop
     * @throws CheckpointException if the checkpoint is refused (the server is not started)
     * @throws IllegalArgumentException if it loads but is not the network of {@code gen_cnn.py}
     * @throws IOException if the file cannot be read or the address cannot be bound
     */
    public static WeightsService start(Path model, InetSocketAddress address) throws IOException {
        SmallCnn network = SmallCnn.load(model);             // everything that can refuse the file happens here
        HttpServer server = HttpServer.create(address, 0);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        WeightsService service = new WeightsService(server, executor, network, String.valueOf(model.getFileName()));
        server.createContext("/", service::handle);
        server.setExecutor(executor);
        server.start();
        return service;
    }

    /**
     * The port the server listens on, which is how a caller that asked for port 0 learns the one it got.
     *
     * @return the bound port
     */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops accepting requests, lets those in progress finish, and releases the port. */
    @Override
    public void close() {
        server.stop(0);
        executor.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Requests

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            switch (path) {
                case "/predict" -> {
                    if (!method.equals("POST")) {
                        methodNotAllowed(exchange, "POST");
                    } else {
                        predict(exchange);
                    }
                }
                case "/health" -> {
                    if (!method.equals("GET")) {
                        methodNotAllowed(exchange, "GET");
                    } else {
                        respond(exchange, 200, "{\"status\":\"ok\",\"model\":" + FloatJson.string(modelName)
                                + ",\"parameters\":" + network.parameterCount() + ",\"classes\":" + network.classes()
                                + "}");
                    }
                }
                default -> respond(exchange, 404, error("no such endpoint: " + path
                        + " (POST /predict, GET /health)"));
            }
        } catch (RuntimeException e) {
            // The exchange is closed already if the response was under way; otherwise say what happened.
            respondQuietly(exchange, 500, error("internal error: " + e));
        }
    }

    private void predict(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            respond(exchange, 413, error("request body over " + MAX_BODY_BYTES + " bytes"));
            return;
        }
        float[] image;
        try {
            image = FloatJson.parseArray(new String(body, StandardCharsets.UTF_8), SmallCnn.INPUT_LENGTH);
        } catch (FloatJson.BadRequestException e) {
            respond(exchange, 400, error("body must be a JSON array of " + SmallCnn.INPUT_LENGTH
                    + " numbers (an 8x8 image, row by row): " + e.getMessage()));
            return;
        }
        float[] logits = network.logits(image);
        for (float v : logits) {
            if (!Float.isFinite(v)) {
                respond(exchange, 422, error("the logits overflow the float range for this input"));
                return;
            }
        }
        respond(exchange, 200, "{\"logits\":" + FloatJson.array(logits) + ",\"class\":"
                + SmallCnn.predictedClass(logits) + "}");
    }

    private static void methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        respond(exchange, 405, error(exchange.getRequestMethod() + " is not allowed here; use " + allowed));
    }

    private static String error(String message) {
        return "{\"error\":" + FloatJson.string(message) + "}";
    }

    private static void respond(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void respondQuietly(HttpExchange exchange, int status, String json) {
        try {
            respond(exchange, status, json);
        } catch (IOException | RuntimeException alreadySent) {
            // Headers were sent before the failure: the client sees a truncated response, nothing more to do.
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Command line

    /** How a command-line start ended: a running service, or an exit status after a one-line report. */
    sealed interface Launch {
        /** The service is up. */
        record Started(WeightsService service) implements Launch {
        }

        /** It did not start; the reason was printed. */
        record Failed(int exitStatus) implements Launch {
        }
    }

    /**
     * Starts the service from the command line; on a refused model or a usage error prints one line and exits
     * ({@link #REFUSED}, {@link #USAGE_OR_IO}) without opening the port.
     *
     * @param args {@code MODEL.pt [PORT [ADDRESS]]}
     */
    public static void main(String[] args) {
        if (launch(args, System.out, System.err) instanceof Launch.Failed(int status)) {
            System.exit(status);
        }
        // Started: the server's threads keep the JVM running until it is killed.
    }

    /**
     * What {@link #main} does, with the streams given: parses the arguments, loads the model and starts the
     * server, or reports on {@code err}, in one line, why not.
     */
    static Launch launch(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 1 || args.length > 3 || args[0].startsWith("-")) {
            err.println("usage: WeightsService MODEL.pt [PORT [ADDRESS]]   (defaults: 8080, 127.0.0.1)");
            return new Launch.Failed(USAGE_OR_IO);
        }
        Path model = Path.of(args[0]);
        InetSocketAddress address;
        try {
            int port = args.length > 1 ? Integer.parseInt(args[1]) : 8080;
            InetAddress host = InetAddress.getByName(args.length > 2 ? args[2] : "127.0.0.1");
            address = new InetSocketAddress(host, port);
        } catch (NumberFormatException | UnknownHostException e) {
            err.println("WeightsService: bad port or address: " + e.getMessage());
            return new Launch.Failed(USAGE_OR_IO);
        } catch (IllegalArgumentException e) {
            err.println("WeightsService: " + e.getMessage());
            return new Launch.Failed(USAGE_OR_IO);
        }
        WeightsService service;
        try {
            service = start(model, address);
        } catch (UnreadableCheckpointException e) {
            err.println("WeightsService: not starting: " + oneLine(e.getMessage()));
            return new Launch.Failed(USAGE_OR_IO);
        } catch (CheckpointException | IllegalArgumentException e) {
            err.println("WeightsService: not starting: " + oneLine(e.getMessage()));
            return new Launch.Failed(REFUSED);
        } catch (NoSuchFileException e) {
            err.println("WeightsService: not starting: " + e.getFile() + ": no such file");
            return new Launch.Failed(USAGE_OR_IO);
        } catch (BindException e) {
            err.println("WeightsService: not starting: cannot listen on " + address + ": " + e.getMessage());
            return new Launch.Failed(USAGE_OR_IO);
        } catch (IOException e) {
            err.println("WeightsService: not starting: " + model + ": " + oneLine(String.valueOf(e.getMessage())));
            return new Launch.Failed(USAGE_OR_IO);
        }
        String host = address.getAddress() instanceof Inet6Address ? "[" + address.getAddress().getHostAddress() + "]"
                : address.getAddress().getHostAddress();
        out.println("WeightsService: " + model + " loaded (" + service.network.parameterCount() + " parameters, "
                + service.network.classes() + " classes); listening on http://" + host + ":" + service.port()
                + " (POST /predict, GET /health)");
        return new Launch.Started(service);
    }

    private static String oneLine(String message) {
        return message.replace("\r", "").replace('\n', ' ');
    }
}
