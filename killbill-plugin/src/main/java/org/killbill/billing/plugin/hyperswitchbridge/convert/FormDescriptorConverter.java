package org.killbill.billing.plugin.hyperswitchbridge.convert;

import org.killbill.billing.payment.plugin.api.HostedPaymentPageFormDescriptor;
import org.killbill.billing.plugin.api.payment.PluginHostedPaymentPageFormDescriptor;
import org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.json.PluginPropertiesJson;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code HostedPaymentPageFormDescriptor} from buildFormDescriptor. */
public final class FormDescriptorConverter implements AnswerConverter<HostedPaymentPageFormDescriptor> {

    @Override
    public HostedPaymentPageFormDescriptor convert(final JsonNode answer) throws MalformedAnswerException {
        AnswerFields.object(answer, "HostedPaymentPageFormDescriptor");
        return new PluginHostedPaymentPageFormDescriptor(AnswerFields.requiredUuid(answer, "kbAccountId"),
                                                         AnswerFields.requiredText(answer, "formMethod"),
                                                         AnswerFields.requiredText(answer, "formUrl"),
                                                         PluginPropertiesJson.fromJson(answer.get("formFields"), "formFields"),
                                                         PluginPropertiesJson.fromJson(answer.get("properties"), "properties"));
    }
}
