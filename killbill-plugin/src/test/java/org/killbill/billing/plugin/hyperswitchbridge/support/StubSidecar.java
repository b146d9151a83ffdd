package org.killbill.billing.plugin.hyperswitchbridge.support;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stand-in sidecar on a real port. Like the real one it refuses a request whose X-Bridge-Signature does
 * not verify against {@link #SECRET} (401 with the contract's error body), so a test that expects a
 * mapped answer also proves the signature.
 */
public final class StubSidecar implements AutoCloseable {

    public static final String SECRET = "stub-shared-secret";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One request as the stub received it. */
    public static final class Received {

        public final String method;
        public final String path;
        public final String signature;
        public final String contentType;
        public final byte[] body;

        Received(final String method, final String path, final String signature, final String contentType, final byte[] body) {
            this.method = method;
            this.path = path;
            this.signature = signature;
            this.contentType = contentType;
            this.body = body;
        }

        public JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (final IOException e) {
                throw new AssertionError("the plugin sent invalid JSON: " + new String(body, StandardCharsets.UTF_8), e);
            }
        }
    }

    private static final class Answer {

        final int status;
        final String body;
        final Duration delay;

        Answer(final int status, final String body, final Duration delay) {
            this.status = status;
            this.body = body;
            this.delay = delay;
        }
    }

    private final HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final List<Received> received = new ArrayList<>();

    public StubSidecar() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public StubSidecar answer(final String path, final int status, final String body) {
        answers.put(path, new Answer(status, body, Duration.ZERO));
        return this;
    }

    public StubSidecar answerLate(final String path, final Duration delay, final int status, final String body) {
        answers.put(path, new Answer(status, body, delay));
        return this;
    }

    public synchronized List<Received> received() {
        return new ArrayList<>(received);
    }

    /** The one request made to {@code path}. */
    public synchronized Received only(final String path) {
        final List<Received> matching = new ArrayList<>();
        for (final Received r : received) {
            if (r.path.equals(path)) {
                matching.add(r);
            }
        }
        if (matching.size() != 1) {
            throw new AssertionError("expected one request to " + path + ", got " + matching.size());
        }
        return matching.get(0);
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(final HttpExchange exchange) throws IOException {
        final byte[] body = exchange.getRequestBody().readAllBytes();
        final String path = exchange.getRequestURI().getPath();
        final String signature = exchange.getRequestHeaders().getFirst("X-Bridge-Signature");
        synchronized (this) {
            received.add(new Received(exchange.getRequestMethod(), path, signature,
                                      exchange.getRequestHeaders().getFirst("Content-Type"), body));
        }
        if (path.startsWith("/plugin/v1/") && !signatureMatches(signature, body)) {
            respond(exchange, 401, "{\"errorType\":\"UNAUTHENTICATED\",\"errorMessage\":\"bad X-Bridge-Signature\"}");
            return;
        }
        final Answer answer = answers.get(path);
        if (answer == null) {
            respond(exchange, 404, "{\"errorType\":\"NOT_FOUND\",\"errorMessage\":\"no stub answer for " + path + "\"}");
            return;
        }
        if (!answer.delay.isZero()) {
            try {
                Thread.sleep(answer.delay.toMillis());
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        respond(exchange, answer.status, answer.body);
    }

    private static void respond(final HttpExchange exchange, final int status, final String body) throws IOException {
        final byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        } catch (final IOException ignored) {
            // The client gave up (a timeout test); nothing to answer.
        }
    }

    /** An independent check of the contract: t within 300 s and one v1 equal to HMAC-SHA256(secret, "t.body"). */
    static boolean signatureMatches(final String header, final byte[] body) {
        if (header == null) {
            return false;
        }
        Long timestamp = null;
        final List<String> macs = new ArrayList<>();
        for (final String part : header.split(",")) {
            final String[] kv = part.trim().split("=", 2);
            if (kv.length == 2 && kv[0].equals("t")) {
                timestamp = Long.parseLong(kv[1]);
            } else if (kv.length == 2 && kv[0].equals("v1")) {
                macs.add(kv[1]);
            }
        }
        if (timestamp == null || Math.abs(System.currentTimeMillis() / 1000 - timestamp) > 300) {
            return false;
        }
        final String expected = hmacHex(SECRET, timestamp + "." + new String(body, StandardCharsets.UTF_8));
        return macs.contains(expected);
    }

    private static String hmacHex(final String secret, final String message) {
        try {
            final Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            final StringBuilder hex = new StringBuilder();
            for (final byte b : mac.doFinal(message.getBytes(StandardCharsets.UTF_8))) {
                hex.append(String.format("%02x", b));
            }
            return hex.toString();
        } catch (final Exception e) {
            throw new AssertionError(e);
        }
    }
}
