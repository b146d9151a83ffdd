package org.killbill.billing.plugin.hyperswitchbridge.api;

import java.util.UUID;
import java.util.function.Function;

import org.killbill.billing.payment.plugin.api.PaymentPluginApiException;
import org.killbill.billing.plugin.hyperswitchbridge.convert.PluginErrorConverter;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarNoAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarResponse;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarTransportException;
import org.killbill.billing.plugin.hyperswitchbridge.json.SidecarRequest;

/** Sends a call to the tenant's sidecar and sorts the answer: a 2xx, a contract error, or no real answer. */
public class SidecarExchange {

    private final Function<UUID, SidecarClient> clientForTenant;
    private final PluginErrorConverter errors = new PluginErrorConverter();

    public SidecarExchange(final Function<UUID, SidecarClient> clientForTenant) {
        this.clientForTenant = clientForTenant;
    }

    /** The 2xx answer; the sidecar's {@code {errorType, errorMessage}} is thrown as Kill Bill's exception. */
    public SidecarResponse send(final UUID tenantId, final String operation, final SidecarRequest request)
            throws PaymentPluginApiException, SidecarTransportException {
        final SidecarResponse response = clientForTenant.apply(tenantId).post(operation, request.toBytes());
        if (response.isSuccess()) {
            return response;
        }
        final PaymentPluginApiException described = errors.fromBody(response);
        if (described != null) {
            throw described;
        }
        if (response.isServerError()) {
            // A 5xx without the contract's error body comes from something in between (a proxy, a crashed
            // worker): the sidecar's own answer never arrived, so the outcome is unknown.
            throw new SidecarNoAnswerException("the sidecar answered HTTP " + response.status()
                                               + " without an error body: " + response.bodyExcerpt(), null);
        }
        throw errors.fromStatus(response);
    }
}
