package org.killbill.billing.plugin.hyperswitchbridge.http;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;

import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfig;

/**
 * HTTP to one sidecar. Uses the JDK client because, unlike HttpURLConnection, it never silently
 * re-sends a POST on a broken connection (a re-sent purchase could charge twice), and it tells a
 * refused connection apart from a lost answer.
 */
public class SidecarClient {

    static final String OPERATION_PATH = "/plugin/v1/";
    static final String READY_PATH = "/readyz";

    private final BridgeConfig config;
    private final HttpClient http;
    private final Clock clock;

    public SidecarClient(final BridgeConfig config) {
        this(config, Clock.systemUTC());
    }

    SidecarClient(final BridgeConfig config, final Clock clock) {
        this.config = config;
        this.clock = clock;
        this.http = HttpClient.newBuilder()
                              .version(HttpClient.Version.HTTP_1_1)
                              .connectTimeout(config.connectTimeout())
                              .followRedirects(HttpClient.Redirect.NEVER)
                              .build();
    }

    public BridgeConfig config() {
        return config;
    }

    /** POSTs a signed operation call. */
    public SidecarResponse post(final String operation, final byte[] body) throws SidecarTransportException {
        final String signature = BridgeSignature.sign(body, config.secrets(), clock.millis() / 1000);
        final HttpRequest request = request(OPERATION_PATH + operation)
                                               .header("Content-Type", "application/json")
                                               .header("Accept", "application/json")
                                               .header(BridgeSignature.HEADER, signature)
                                               .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                               .build();
        return send(request);
    }

    /** The sidecar's readiness probe (unsigned, like every infrastructure endpoint). */
    public SidecarResponse ready() throws SidecarTransportException {
        return send(request(READY_PATH).GET().build());
    }

    private HttpRequest.Builder request(final String path) throws SidecarUnreachableException {
        try {
            return HttpRequest.newBuilder(URI.create(config.url() + path)).timeout(config.readTimeout());
        } catch (final IllegalArgumentException e) {
            // A malformed or non-http(s) URL: refused before any connection was attempted.
            throw new SidecarUnreachableException("invalid sidecar URL " + config.url() + ": " + e.getMessage(), e);
        }
    }

    private SidecarResponse send(final HttpRequest request) throws SidecarTransportException {
        try {
            final HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new SidecarResponse(response.statusCode(), response.body());
        } catch (final HttpConnectTimeoutException | ConnectException e) {
            // Only the connect phase raises these: not one byte of the request left this machine.
            throw new SidecarUnreachableException("cannot connect to the sidecar at " + config.url() + ": " + e, e);
        } catch (final IOException e) {
            throw new SidecarNoAnswerException("no answer from the sidecar at " + config.url() + ": " + e, e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SidecarNoAnswerException("interrupted while waiting for the sidecar", e);
        }
    }
}
