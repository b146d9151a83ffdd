package org.killbill.billing.plugin.hyperswitchbridge.json;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of answer fields; anything off-contract is a {@link MalformedAnswerException}, never a guess. */
public final class AnswerFields {

    private AnswerFields() {
    }

    public static JsonNode object(final JsonNode node, final String what) throws MalformedAnswerException {
        if (node == null || !node.isObject()) {
            throw new MalformedAnswerException(what + " must be a JSON object");
        }
        return node;
    }

    public static List<JsonNode> array(final JsonNode node, final String what) throws MalformedAnswerException {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new MalformedAnswerException(what + " must be a JSON array");
        }
        final List<JsonNode> items = new ArrayList<>(node.size());
        node.forEach(items::add);
        return items;
    }

    public static String text(final JsonNode parent, final String field) throws MalformedAnswerException {
        final JsonNode node = parent.get(field);
        if (absent(node)) {
            return null;
        }
        if (!node.isValueNode()) {
            throw new MalformedAnswerException(field + " must be a string");
        }
        return node.asText();
    }

    public static String requiredText(final JsonNode parent, final String field) throws MalformedAnswerException {
        final String value = text(parent, field);
        if (value == null) {
            throw new MalformedAnswerException(field + " is required");
        }
        return value;
    }

    public static UUID uuid(final JsonNode parent, final String field) throws MalformedAnswerException {
        final String value = text(parent, field);
        try {
            return value == null ? null : UUID.fromString(value);
        } catch (final IllegalArgumentException e) {
            throw new MalformedAnswerException(field + " is not a UUID: " + value, e);
        }
    }

    public static UUID requiredUuid(final JsonNode parent, final String field) throws MalformedAnswerException {
        final UUID value = uuid(parent, field);
        if (value == null) {
            throw new MalformedAnswerException(field + " is required");
        }
        return value;
    }

    public static BigDecimal decimal(final JsonNode parent, final String field) throws MalformedAnswerException {
        final JsonNode node = parent.get(field);
        if (absent(node)) {
            return null;
        }
        if (node.isNumber()) {
            return node.decimalValue();
        }
        try {
            return new BigDecimal(node.asText());
        } catch (final NumberFormatException e) {
            throw new MalformedAnswerException(field + " is not a decimal: " + node.asText(), e);
        }
    }

    public static DateTime dateTime(final JsonNode parent, final String field) throws MalformedAnswerException {
        final String value = text(parent, field);
        try {
            return value == null ? null : new DateTime(value, DateTimeZone.UTC);
        } catch (final IllegalArgumentException e) {
            throw new MalformedAnswerException(field + " is not an ISO-8601 date-time: " + value, e);
        }
    }

    public static <E extends Enum<E>> E enumValue(final JsonNode parent, final String field, final Class<E> type)
            throws MalformedAnswerException {
        final String value = text(parent, field);
        try {
            return value == null ? null : Enum.valueOf(type, value);
        } catch (final IllegalArgumentException e) {
            throw new MalformedAnswerException(field + " is not a " + type.getSimpleName() + ": " + value, e);
        }
    }

    public static <E extends Enum<E>> E requiredEnum(final JsonNode parent, final String field, final Class<E> type)
            throws MalformedAnswerException {
        final E value = enumValue(parent, field, type);
        if (value == null) {
            throw new MalformedAnswerException(field + " is required");
        }
        return value;
    }

    public static boolean bool(final JsonNode parent, final String field) throws MalformedAnswerException {
        final JsonNode node = parent.get(field);
        if (absent(node)) {
            return false;
        }
        if (!node.isBoolean()) {
            throw new MalformedAnswerException(field + " must be a boolean");
        }
        return node.booleanValue();
    }

    public static Long whole(final JsonNode parent, final String field) throws MalformedAnswerException {
        final JsonNode node = parent.get(field);
        if (absent(node)) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw new MalformedAnswerException(field + " must be an integer");
        }
        return node.longValue();
    }

    private static boolean absent(final JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode();
    }
}
