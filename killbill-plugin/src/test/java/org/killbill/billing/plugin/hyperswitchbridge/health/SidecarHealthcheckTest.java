package org.killbill.billing.plugin.hyperswitchbridge.health;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.killbill.billing.osgi.api.Healthcheck.HealthStatus;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;
import org.killbill.billing.plugin.hyperswitchbridge.support.ApiTestBase;
import org.killbill.billing.plugin.hyperswitchbridge.support.ClosedPort;

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
}
