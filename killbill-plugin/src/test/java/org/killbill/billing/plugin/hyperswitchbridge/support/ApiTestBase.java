package org.killbill.billing.plugin.hyperswitchbridge.support;

import java.io.IOException;
import java.time.Duration;
import java.util.Properties;

import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.killbill.billing.plugin.hyperswitchbridge.api.BridgePaymentPluginApi;
import org.killbill.billing.plugin.hyperswitchbridge.api.SidecarExchange;
import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfig;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A plugin API wired to a {@link StubSidecar}; "fast" is the group the Kill Bill parent pom runs by default. */
@Tag("fast")
public abstract class ApiTestBase {

    protected static final DateTime NOW = new DateTime(2024, 6, 1, 12, 0, 0, 0, DateTimeZone.UTC);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    protected StubSidecar sidecar;
    protected BridgePaymentPluginApi api;

    @BeforeEach
    void startSidecar() throws IOException {
        sidecar = new StubSidecar();
        api = apiFor(sidecar.url(), Duration.ofSeconds(5));
    }

    @AfterEach
    void stopSidecar() {
        sidecar.close();
    }

    protected static BridgePaymentPluginApi apiFor(final String url, final Duration readTimeout) {
        final SidecarClient client = new SidecarClient(config(url, readTimeout));
        return new BridgePaymentPluginApi(new SidecarExchange(tenantId -> client), () -> NOW);
    }

    protected static BridgeConfig config(final String url, final Duration readTimeout) {
        final Properties properties = new Properties();
        properties.setProperty(BridgeConfig.URL, url);
        properties.setProperty(BridgeConfig.SECRET, StubSidecar.SECRET);
        properties.setProperty(BridgeConfig.READ_TIMEOUT_MS, String.valueOf(readTimeout.toMillis()));
        return BridgeConfig.fromSystemProperties(properties);
    }

    /** JSON written with single quotes, to keep test literals readable. */
    protected static JsonNode json(final String singleQuoted) {
        try {
            return MAPPER.readTree(singleQuoted.replace('\'', '"'));
        } catch (final IOException e) {
            throw new AssertionError("bad test JSON: " + singleQuoted, e);
        }
    }

    protected static String jsonText(final String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }
}
