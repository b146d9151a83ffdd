package org.killbill.billing.plugin.hyperswitchbridge.health;

import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

import org.killbill.billing.osgi.api.Healthcheck;
import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfig;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarResponse;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarTransportException;
import org.killbill.billing.tenant.api.Tenant;

/**
 * Kill Bill's healthcheck for this plugin: the sidecar's {@code /readyz}, through the tenant's configured
 * sidecar when Kill Bill names a tenant, else the global one. The plugin itself has nothing else to check.
 * Without a tenant and without a global URL (every tenant uploads its own), there is no sidecar to probe:
 * Kill Bill's own {@code /1.0/healthcheck} must not fail for it, since restarting Kill Bill mends nothing.
 */
public class SidecarHealthcheck implements Healthcheck {

    private final Function<UUID, SidecarClient> clientForTenant;

    public SidecarHealthcheck(final Function<UUID, SidecarClient> clientForTenant) {
        this.clientForTenant = clientForTenant;
    }

    @Override
    public HealthStatus getHealthStatus(final Tenant tenant, final Map properties) {
        final SidecarClient client = clientForTenant.apply(tenant == null ? null : tenant.getId());
        if (tenant == null && !client.config().urlConfigured()) {
            return HealthStatus.healthy("no global sidecar URL (" + BridgeConfig.URL + "): each tenant's sidecar, "
                                        + "from its uploaded plugin configuration, is checked with that tenant");
        }
        final String where = client.config().url();
        try {
            final SidecarResponse response = client.ready();
            if (response.isSuccess()) {
                return HealthStatus.healthy("sidecar at " + where + " is ready");
            }
            return HealthStatus.unHealthy("sidecar at " + where + " is not ready (HTTP " + response.status() + "): "
                                          + response.bodyExcerpt());
        } catch (final SidecarTransportException e) {
            return HealthStatus.unHealthy(e.getMessage());
        }
    }
}
