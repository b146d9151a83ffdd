package org.killbill.billing.plugin.hyperswitchbridge.config;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("fast")
class BridgeConfigTest {

    private static Properties properties(final String... keyValues) {
        final Properties properties = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            properties.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return properties;
    }

    @Test
    void defaultsStayBelowKillBillsPluginTimeout() {
        final BridgeConfig config = BridgeConfig.fromSystemProperties(new Properties());
        assertEquals(Duration.ofSeconds(2), config.connectTimeout());
        assertEquals(Duration.ofSeconds(25), config.readTimeout());
        assertEquals(List.of(), config.secrets());
        assertFalse(config.urlConfigured());
    }

    @Test
    void aUrlIsConfiguredGloballyOrByATenantUpload() {
        final BridgeConfig builtIn = BridgeConfig.fromSystemProperties(new Properties());
        assertTrue(BridgeConfig.parse(properties(BridgeConfig.URL, "http://tenant:9000"), builtIn).urlConfigured());
        assertFalse(BridgeConfig.parse(properties(BridgeConfig.SECRET, "s"), builtIn).urlConfigured());
        final BridgeConfig global = BridgeConfig.fromSystemProperties(properties(BridgeConfig.URL, "http://global:8000"));
        assertTrue(global.urlConfigured());
        assertTrue(BridgeConfig.parse(properties(BridgeConfig.SECRET, "s"), global).urlConfigured());
    }

    @Test
    void systemPropertiesSetTheGlobalDefaults() {
        final BridgeConfig config = BridgeConfig.fromSystemProperties(properties(
                "org.killbill.billing.plugin.hyperswitch-bridge.url", "http://bridge:8000/",
                "org.killbill.billing.plugin.hyperswitch-bridge.secret", "new, old",
                "org.killbill.billing.plugin.hyperswitch-bridge.connectTimeoutMs", "500",
                "org.killbill.billing.plugin.hyperswitch-bridge.readTimeoutMs", "10000"));
        assertEquals("http://bridge:8000", config.url());
        assertEquals(List.of("new", "old"), config.secrets());
        assertEquals(Duration.ofMillis(500), config.connectTimeout());
        assertEquals(Duration.ofSeconds(10), config.readTimeout());
    }

    @Test
    void aTenantUploadOverridesOnlyTheKeysItSets() {
        final BridgeConfig global = BridgeConfig.fromSystemProperties(properties(BridgeConfig.URL, "http://global:8000",
                                                                                 BridgeConfig.SECRET, "global-secret"));
        final BridgeConfig tenant = BridgeConfig.parse(properties(BridgeConfig.SECRET, "tenant-secret"), global);
        assertEquals("http://global:8000", tenant.url());
        assertEquals(List.of("tenant-secret"), tenant.secrets());
        assertEquals(Duration.ofSeconds(25), tenant.readTimeout());
    }

    @Test
    void aTooLongReadTimeoutIsCutToStayUnderThirtySeconds() {
        final BridgeConfig config = BridgeConfig.fromSystemProperties(properties(BridgeConfig.READ_TIMEOUT_MS, "60000"));
        assertEquals(Duration.ofSeconds(26), config.readTimeout());
    }

    @Test
    void aNonPositiveTimeoutIsRefused() {
        assertThrows(IllegalArgumentException.class,
                     () -> BridgeConfig.fromSystemProperties(properties(BridgeConfig.CONNECT_TIMEOUT_MS, "0")));
    }

    @Test
    void theHandlerBuildsTenantClientsOverTheGlobalDefaults() {
        final BridgeConfig global = BridgeConfig.fromSystemProperties(properties(BridgeConfig.URL, "http://global:8000",
                                                                                 BridgeConfig.SECRET, "global-secret"));
        final BridgeConfigurationHandler handler = new BridgeConfigurationHandler("hyperswitch-bridge", null, global);
        final SidecarClient tenantClient = handler.createConfigurable(properties(BridgeConfig.URL, "http://tenant:9000"));
        assertEquals("http://tenant:9000", tenantClient.config().url());
        assertEquals(List.of("global-secret"), tenantClient.config().secrets());
        assertEquals("http://global:8000", handler.getConfigurable(null).config().url());
    }
}
