package org.killbill.billing.plugin.hyperswitchbridge.convert;

import org.killbill.billing.payment.plugin.api.PaymentPluginApiException;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarResponse;
import org.killbill.billing.plugin.hyperswitchbridge.json.Json;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;

import com.fasterxml.jackson.databind.JsonNode;

/** A 4xx/5xx answer's {@code {"errorType","errorMessage"}} body, as Kill Bill's plugin exception. */
public final class PluginErrorConverter {

    /** The exception the body describes, or null when the body is not the contract's error object. */
    public PaymentPluginApiException fromBody(final SidecarResponse response) {
        final JsonNode body;
        try {
            body = Json.parse(response.body());
        } catch (final MalformedAnswerException e) {
            return null;
        }
        final JsonNode type = body.get("errorType");
        final JsonNode message = body.get("errorMessage");
        if (type == null || !type.isTextual() || message == null || !message.isTextual()) {
            return null;
        }
        return new PaymentPluginApiException(type.textValue(), message.textValue());
    }

    /** For a non-contract error body: the HTTP status names the type, the body's start explains it. */
    public PaymentPluginApiException fromStatus(final SidecarResponse response) {
        return new PaymentPluginApiException("HTTP_" + response.status(),
                                             "the sidecar answered HTTP " + response.status() + ": " + response.bodyExcerpt());
    }
}
