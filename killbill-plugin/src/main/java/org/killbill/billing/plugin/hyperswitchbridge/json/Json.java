package org.killbill.billing.plugin.hyperswitchbridge.json;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The one JSON mapper: decimals stay BigDecimal end to end, so no amount passes through a double. */
public final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    public static JsonNode parse(final byte[] body) throws MalformedAnswerException {
        try {
            final JsonNode node = MAPPER.readTree(body);
            if (node == null || node.isMissingNode()) {
                throw new MalformedAnswerException("empty answer where JSON was expected");
            }
            return node;
        } catch (final IOException e) {
            throw new MalformedAnswerException("unreadable JSON answer: " + e.getMessage(), e);
        }
    }

    public static byte[] bytes(final JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (final JsonProcessingException e) {
            // A tree of plain nodes always serializes; failing here means a broken Jackson.
            throw new IllegalStateException("cannot serialize a JSON tree", e);
        }
    }
}
