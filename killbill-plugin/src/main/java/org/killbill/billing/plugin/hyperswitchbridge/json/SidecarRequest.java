package org.killbill.billing.plugin.hyperswitchbridge.json;

import java.math.BigDecimal;
import java.util.UUID;

import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.killbill.billing.catalog.api.Currency;
import org.killbill.billing.payment.api.PluginProperty;
import org.killbill.billing.util.callcontext.CallContext;
import org.killbill.billing.util.callcontext.TenantContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The JSON body of one {@code /plugin/v1/<operation>} call: the Java parameters by their Java names,
 * amounts as decimal strings, ids as strings, plus a {@code context}.
 */
public final class SidecarRequest {

    private final ObjectNode body = Json.MAPPER.createObjectNode();

    public SidecarRequest uuid(final String name, final UUID value) {
        body.put(name, value == null ? null : value.toString());
        return this;
    }

    /** Plain notation: "1E+1" would be a valid BigDecimal but not the decimal string the contract asks for. */
    public SidecarRequest amount(final BigDecimal value) {
        body.put("amount", value == null ? null : value.toPlainString());
        return this;
    }

    public SidecarRequest currency(final Currency value) {
        body.put("currency", value == null ? null : value.name());
        return this;
    }

    public SidecarRequest text(final String name, final String value) {
        body.put(name, value);
        return this;
    }

    public SidecarRequest bool(final String name, final boolean value) {
        body.put(name, value);
        return this;
    }

    /** Kill Bill may pass a null offset or limit; leaving it out lets the contract's default apply. */
    public SidecarRequest whole(final String name, final Long value) {
        if (value != null) {
            body.put(name, value);
        }
        return this;
    }

    public SidecarRequest json(final String name, final JsonNode value) {
        body.set(name, value);
        return this;
    }

    public SidecarRequest properties(final String name, final Iterable<PluginProperty> properties) {
        body.set(name, PluginPropertiesJson.toJson(properties));
        return this;
    }

    public SidecarRequest properties(final Iterable<PluginProperty> properties) {
        return properties("properties", properties);
    }

    /** For the methods Kill Bill calls with a TenantContext: only the tenant and account are known. */
    public SidecarRequest tenantContext(final TenantContext context) {
        final ObjectNode node = body.putObject("context");
        node.put("tenantId", string(context == null ? null : context.getTenantId()));
        node.put("accountId", string(context == null ? null : context.getAccountId()));
        return this;
    }

    public SidecarRequest callContext(final CallContext context) {
        tenantContext(context);
        if (context != null) {
            final ObjectNode node = (ObjectNode) body.get("context");
            node.put("userName", context.getUserName());
            node.put("callOrigin", context.getCallOrigin() == null ? null : context.getCallOrigin().name());
            node.put("userType", context.getUserType() == null ? null : context.getUserType().name());
            node.put("reasonCode", context.getReasonCode());
            node.put("comments", context.getComments());
            node.put("createdDate", instant(context.getCreatedDate()));
        }
        return this;
    }

    public ObjectNode json() {
        return body;
    }

    public byte[] toBytes() {
        return Json.bytes(body);
    }

    private static String string(final UUID value) {
        return value == null ? null : value.toString();
    }

    private static String instant(final DateTime value) {
        return value == null ? null : value.toDateTime(DateTimeZone.UTC).toString();
    }
}
