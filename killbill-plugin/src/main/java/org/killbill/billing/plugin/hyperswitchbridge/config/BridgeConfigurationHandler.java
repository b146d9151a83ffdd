package org.killbill.billing.plugin.hyperswitchbridge.config;

import java.util.Properties;

import org.killbill.billing.osgi.libs.killbill.OSGIKillbillAPI;
import org.killbill.billing.plugin.api.notification.PluginTenantConfigurableConfigurationHandler;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;

/**
 * One {@link SidecarClient} per tenant, built from the tenant's uploaded plugin config and rebuilt by the
 * base plugin on TENANT_CONFIG_CHANGE; tenants without an upload get the global client.
 */
public class BridgeConfigurationHandler extends PluginTenantConfigurableConfigurationHandler<SidecarClient> {

    private final BridgeConfig defaults;

    public BridgeConfigurationHandler(final String pluginName, final OSGIKillbillAPI killbillAPI, final BridgeConfig defaults) {
        super(pluginName, killbillAPI);
        this.defaults = defaults;
        setDefaultConfigurable(new SidecarClient(defaults));
    }

    @Override
    protected SidecarClient createConfigurable(final Properties properties) {
        return new SidecarClient(BridgeConfig.parse(properties, defaults));
    }
}
