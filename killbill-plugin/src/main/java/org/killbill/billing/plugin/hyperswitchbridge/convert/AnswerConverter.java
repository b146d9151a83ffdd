package org.killbill.billing.plugin.hyperswitchbridge.convert;

import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;

import com.fasterxml.jackson.databind.JsonNode;

/** Maps one JSON answer of the sidecar to the Kill Bill type a PaymentPluginApi method returns. */
@FunctionalInterface
public interface AnswerConverter<T> {

    T convert(JsonNode answer) throws MalformedAnswerException;
}
