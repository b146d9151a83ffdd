package org.killbill.billing.plugin.hyperswitchbridge.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

/**
 * Where the sidecar is and how to talk to it, for one tenant (or the global default).
 * Keys are Kill Bill style: {@code org.killbill.billing.plugin.hyperswitch-bridge.<name>}.
 */
public final class BridgeConfig {

    public static final String PREFIX = "org.killbill.billing.plugin.hyperswitch-bridge.";
    public static final String URL = PREFIX + "url";
    /** Comma-separated: during a rotation every secret signs, so either side may switch first. */
    public static final String SECRET = PREFIX + "secret";
    public static final String CONNECT_TIMEOUT_MS = PREFIX + "connectTimeoutMs";
    public static final String READ_TIMEOUT_MS = PREFIX + "readTimeoutMs";

    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(25);
    // Kill Bill gives up on a plugin call after 30 s (org.killbill.payment.plugin.timeout) and records
    // UNKNOWN without telling the plugin; staying below it keeps the outcome ours to report.
    static final Duration MAX_TOTAL_TIMEOUT = Duration.ofSeconds(28);

    private static final BridgeConfig BUILT_IN = new BridgeConfig("http://127.0.0.1:8787", false, List.of(),
                                                                  DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT);

    private final String url;
    private final boolean urlConfigured;
    private final List<String> secrets;
    private final Duration connectTimeout;
    private final Duration readTimeout;

    BridgeConfig(final String url, final boolean urlConfigured, final List<String> secrets, final Duration connectTimeout,
                 final Duration readTimeout) {
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.urlConfigured = urlConfigured;
        this.secrets = Collections.unmodifiableList(new ArrayList<>(secrets));
        this.connectTimeout = connectTimeout;
        final Duration budget = MAX_TOTAL_TIMEOUT.minus(connectTimeout);
        this.readTimeout = readTimeout.compareTo(budget) > 0 ? budget : readTimeout;
    }

    /** The global configuration: Kill Bill's system properties over the built-in defaults. */
    public static BridgeConfig fromSystemProperties(final Properties properties) {
        return parse(properties, BUILT_IN);
    }

    /** A tenant's uploaded properties; keys it leaves out keep the values of {@code defaults}. */
    public static BridgeConfig parse(final Properties properties, final BridgeConfig defaults) {
        final String url = text(properties, URL);
        final String secret = text(properties, SECRET);
        return new BridgeConfig(url == null ? defaults.url : url, url != null || defaults.urlConfigured,
                                secret == null ? defaults.secrets : splitSecrets(secret),
                                millis(properties, CONNECT_TIMEOUT_MS, defaults.connectTimeout),
                                millis(properties, READ_TIMEOUT_MS, defaults.readTimeout));
    }

    public String url() {
        return url;
    }

    /** False while the URL is the built-in default: nobody said where the sidecar is. */
    public boolean urlConfigured() {
        return urlConfigured;
    }

    public List<String> secrets() {
        return secrets;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration readTimeout() {
        return readTimeout;
    }

    private static String text(final Properties properties, final String key) {
        final String value = properties.getProperty(key);
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static List<String> splitSecrets(final String value) {
        final List<String> secrets = new ArrayList<>();
        for (final String part : value.split(",")) {
            if (!part.isBlank()) {
                secrets.add(part.trim());
            }
        }
        return secrets;
    }

    private static Duration millis(final Properties properties, final String key, final Duration fallback) {
        final String value = text(properties, key);
        if (value == null) {
            return fallback;
        }
        final long ms = Long.parseLong(value);
        if (ms <= 0) {
            throw new IllegalArgumentException(key + " must be a positive number of milliseconds, got " + value);
        }
        return Duration.ofMillis(ms);
    }
}
