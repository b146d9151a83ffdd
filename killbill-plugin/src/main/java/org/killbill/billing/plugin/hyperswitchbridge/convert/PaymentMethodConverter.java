package org.killbill.billing.plugin.hyperswitchbridge.convert;

import org.killbill.billing.payment.api.PaymentMethodPlugin;
import org.killbill.billing.plugin.api.payment.PluginPaymentMethodPlugin;
import org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.json.PluginPropertiesJson;
import org.killbill.billing.plugin.hyperswitchbridge.json.SidecarRequest;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code PaymentMethodPlugin}: read from getPaymentMethodDetail, written as addPaymentMethod's paymentMethodProps. */
public final class PaymentMethodConverter implements AnswerConverter<PaymentMethodPlugin> {

    @Override
    public PaymentMethodPlugin convert(final JsonNode answer) throws MalformedAnswerException {
        AnswerFields.object(answer, "PaymentMethodPlugin");
        return new PluginPaymentMethodPlugin(AnswerFields.uuid(answer, "kbPaymentMethodId"),
                                             AnswerFields.text(answer, "externalPaymentMethodId"),
                                             AnswerFields.bool(answer, "isDefaultPaymentMethod"),
                                             PluginPropertiesJson.fromJson(answer.get("properties"), "properties"));
    }

    public JsonNode toJson(final PaymentMethodPlugin paymentMethod) {
        final SidecarRequest node = new SidecarRequest();
        if (paymentMethod != null) {
            node.uuid("kbPaymentMethodId", paymentMethod.getKbPaymentMethodId())
                .text("externalPaymentMethodId", paymentMethod.getExternalPaymentMethodId())
                .bool("isDefaultPaymentMethod", paymentMethod.isDefaultPaymentMethod())
                .properties(paymentMethod.getProperties());
        }
        return node.json();
    }
}
