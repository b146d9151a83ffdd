package org.killbill.billing.plugin.hyperswitchbridge.health;

import java.time.Duration;
import java.util.Properties;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.killbill.billing.osgi.api.Healthcheck.HealthStatus;
import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfig;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;
import org.killbill.billing.plugin.hyperswitchbridge.support.ApiTestBase;
import org.killbill.billing.plugin.hyperswitchbridge.support.ClosedPort;
import org.killbill.billing.plugin.hyperswitchbridge.support.TestContexts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SidecarHealthcheckTest extends ApiTestBase {

    private static SidecarHealthcheck healthcheckFor(final String url) {
        final SidecarClient client = new SidecarClient(config(url, Duration.ofSeconds(2)));
        return new SidecarHealthcheck(tenantId -> client);
    }

    @Test
    void readySidecarIsHealthy() {
        sidecar.answer("/readyz", 200, "{\"status\":\"ready\"}");
        final HealthStatus status = healthcheckFor(sidecar.url()).getHealthStatus(null, null);
        assertTrue(status.isHealthy());
        assertEquals("GET", sidecar.only("/readyz").method);
    }

    @Test
    void unreadySidecarIsUnhealthy() {
        sidecar.answer("/readyz", 503, "{\"status\":\"database unavailable\"}");
        final HealthStatus status = healthcheckFor(sidecar.url()).getHealthStatus(null, null);
        assertFalse(status.isHealthy());
        assertTrue(status.getDetails().toString().contains("database unavailable"), status.getDetails().toString());
    }

    @Test
    void unreachableSidecarIsUnhealthy() throws Exception {
        assertFalse(healthcheckFor(ClosedPort.url()).getHealthStatus(null, null).isHealthy());
    }

    @Test
    void withoutAGlobalUrlKillBillsOwnHealthcheckHasNoSidecarToProbe() throws Exception {
        // Every tenant uploads its own URL; the global client keeps the built-in default, where nothing runs.
        final SidecarClient builtIn = new SidecarClient(BridgeConfig.fromSystemProperties(new Properties()));
        final SidecarClient tenantClient = new SidecarClient(config(ClosedPort.url(), Duration.ofSeconds(2)));
        final UUID tenantId = UUID.randomUUID();
        final SidecarHealthcheck healthcheck = new SidecarHealthcheck(id -> tenantId.equals(id) ? tenantClient : builtIn);

        final HealthStatus global = healthcheck.getHealthStatus(null, null);
        assertTrue(global.isHealthy());
        assertTrue(global.getDetails().toString().contains(BridgeConfig.URL), global.getDetails().toString());
        // A tenant's own sidecar is still probed, and its outage still shows.
        assertFalse(healthcheck.getHealthStatus(TestContexts.tenant(tenantId), null).isHealthy());
    }
}
