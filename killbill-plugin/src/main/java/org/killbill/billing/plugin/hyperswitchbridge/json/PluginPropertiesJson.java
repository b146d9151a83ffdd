package org.killbill.billing.plugin.hyperswitchbridge.json;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

import org.killbill.billing.payment.api.PluginProperty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** {@link PluginProperty} as the contract's {@code {"key","value","isUpdatable"}}, both ways. */
public final class PluginPropertiesJson {

    private PluginPropertiesJson() {
    }

    public static ArrayNode toJson(final Iterable<PluginProperty> properties) {
        final ArrayNode array = Json.MAPPER.createArrayNode();
        if (properties == null) {
            return array;
        }
        for (final PluginProperty property : properties) {
            final ObjectNode item = array.addObject();
            item.put("key", property.getKey());
            putValue(item, property.getValue());
            item.put("isUpdatable", Boolean.TRUE.equals(property.getIsUpdatable()));
        }
        return array;
    }

    public static List<PluginProperty> fromJson(final JsonNode node, final String what) throws MalformedAnswerException {
        final List<PluginProperty> properties = new ArrayList<>();
        for (final JsonNode item : AnswerFields.array(node, what)) {
            AnswerFields.object(item, what + " item");
            properties.add(new PluginProperty(AnswerFields.requiredText(item, "key"), value(item.get("value")),
                                              AnswerFields.bool(item, "isUpdatable")));
        }
        return properties;
    }

    // Kill Bill's values are mostly strings (REST delivers nothing else); other scalars keep their JSON
    // type, and anything structured travels as its text so no information is dropped.
    private static void putValue(final ObjectNode item, final Object value) {
        if (value == null) {
            item.putNull("value");
        } else if (value instanceof Boolean) {
            item.put("value", (Boolean) value);
        } else if (value instanceof BigDecimal) {
            item.put("value", ((BigDecimal) value).toPlainString());
        } else if (value instanceof Integer || value instanceof Long) {
            item.put("value", ((Number) value).longValue());
        } else {
            item.put("value", value.toString());
        }
    }

    private static Object value(final JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
        }
        if (node.isNumber()) {
            return node.decimalValue();
        }
        return node.toString();
    }
}
