package org.killbill.billing.plugin.hyperswitchbridge.convert;

import java.util.List;

import org.killbill.billing.payment.plugin.api.PaymentMethodInfoPlugin;
import org.killbill.billing.plugin.api.payment.PluginPaymentMethodInfoPlugin;
import org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.json.SidecarRequest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/** {@code PaymentMethodInfoPlugin}: read from getPaymentMethods, written for resetPaymentMethods. */
public final class PaymentMethodInfoConverter implements AnswerConverter<PaymentMethodInfoPlugin> {

    @Override
    public PaymentMethodInfoPlugin convert(final JsonNode answer) throws MalformedAnswerException {
        AnswerFields.object(answer, "PaymentMethodInfoPlugin");
        return new PluginPaymentMethodInfoPlugin(AnswerFields.uuid(answer, "accountId"),
                                                 AnswerFields.uuid(answer, "paymentMethodId"),
                                                 AnswerFields.bool(answer, "isDefault"),
                                                 AnswerFields.text(answer, "externalPaymentMethodId"));
    }

    public ArrayNode toJson(final List<PaymentMethodInfoPlugin> paymentMethods) {
        final ArrayNode array = JsonNodeFactory.instance.arrayNode();
        if (paymentMethods != null) {
            for (final PaymentMethodInfoPlugin info : paymentMethods) {
                array.add(new SidecarRequest().uuid("accountId", info.getAccountId())
                                              .uuid("paymentMethodId", info.getPaymentMethodId())
                                              .bool("isDefault", info.isDefault())
                                              .text("externalPaymentMethodId", info.getExternalPaymentMethodId())
                                              .json());
            }
        }
        return array;
    }
}
