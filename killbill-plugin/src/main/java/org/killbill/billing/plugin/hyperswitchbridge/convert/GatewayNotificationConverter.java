package org.killbill.billing.plugin.hyperswitchbridge.convert;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.killbill.billing.payment.plugin.api.GatewayNotification;
import org.killbill.billing.plugin.api.payment.PluginGatewayNotification;
import org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.json.PluginPropertiesJson;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code GatewayNotification}: what Kill Bill relays, unchanged, as its HTTP reply to the gateway. */
public final class GatewayNotificationConverter implements AnswerConverter<GatewayNotification> {

    @Override
    public GatewayNotification convert(final JsonNode answer) throws MalformedAnswerException {
        AnswerFields.object(answer, "GatewayNotification");
        final Long status = AnswerFields.whole(answer, "status");
        if (status == null || status < 100 || status > 599) {
            throw new MalformedAnswerException("status must be an HTTP status code");
        }
        return new PluginGatewayNotification(AnswerFields.uuid(answer, "kbPaymentId"),
                                             status.intValue(),
                                             AnswerFields.text(answer, "entity"),
                                             headers(answer.get("headers")),
                                             PluginPropertiesJson.fromJson(answer.get("properties"), "properties"));
    }

    private static Map<String, List<String>> headers(final JsonNode node) throws MalformedAnswerException {
        final Map<String, List<String>> headers = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return headers;
        }
        AnswerFields.object(node, "headers");
        final Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            final Map.Entry<String, JsonNode> field = fields.next();
            final List<String> values = new ArrayList<>();
            for (final JsonNode value : AnswerFields.array(field.getValue(), "headers." + field.getKey())) {
                if (!value.isTextual()) {
                    throw new MalformedAnswerException("headers." + field.getKey() + " must hold strings");
                }
                values.add(value.textValue());
            }
            headers.put(field.getKey(), values);
        }
        return headers;
    }
}
