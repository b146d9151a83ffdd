package org.killbill.billing.plugin.hyperswitchbridge;

import java.util.Hashtable;

import org.killbill.billing.osgi.api.Healthcheck;
import org.killbill.billing.osgi.api.OSGIPluginProperties;
import org.killbill.billing.osgi.libs.killbill.KillbillActivatorBase;
import org.killbill.billing.payment.plugin.api.PaymentPluginApi;
import org.killbill.billing.plugin.api.notification.PluginConfigurationEventHandler;
import org.killbill.billing.plugin.hyperswitchbridge.api.BridgePaymentPluginApi;
import org.killbill.billing.plugin.hyperswitchbridge.api.SidecarExchange;
import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfig;
import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfigurationHandler;
import org.killbill.billing.plugin.hyperswitchbridge.health.SidecarHealthcheck;
import org.osgi.framework.BundleContext;

/** The only wiring: builds the per-tenant configuration, the forwarding API and the healthcheck, and registers them. */
public class HyperswitchBridgeActivator extends KillbillActivatorBase {

    /** The name Kill Bill knows the plugin by (payment methods, plugin config uploads, bundle directory). */
    public static final String PLUGIN_NAME = "hyperswitch-bridge";

    @Override
    public void start(final BundleContext context) throws Exception {
        super.start(context);

        final BridgeConfig defaults = BridgeConfig.fromSystemProperties(configProperties.getProperties());
        final BridgeConfigurationHandler configurationHandler = new BridgeConfigurationHandler(PLUGIN_NAME, killbillAPI, defaults);
        // Re-reads a tenant's PLUGIN_CONFIG_hyperswitch-bridge on TENANT_CONFIG_CHANGE / _DELETION.
        dispatcher.registerEventHandlers(new PluginConfigurationEventHandler(configurationHandler));

        final SidecarExchange exchange = new SidecarExchange(configurationHandler::getConfigurable);
        register(context, PaymentPluginApi.class, new BridgePaymentPluginApi(exchange, () -> clock.getClock().getUTCNow()));
        register(context, Healthcheck.class, new SidecarHealthcheck(configurationHandler::getConfigurable));
    }

    private <S> void register(final BundleContext context, final Class<S> type, final S service) {
        final Hashtable<String, String> props = new Hashtable<>();
        props.put(OSGIPluginProperties.PLUGIN_NAME_PROP, PLUGIN_NAME);
        registrar.registerService(context, type, service, props);
    }
}
