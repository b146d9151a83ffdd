package org.killbill.billing.plugin.hyperswitchbridge.convert;

import org.killbill.billing.catalog.api.Currency;
import org.killbill.billing.payment.api.TransactionType;
import org.killbill.billing.payment.plugin.api.PaymentPluginStatus;
import org.killbill.billing.payment.plugin.api.PaymentTransactionInfoPlugin;
import org.killbill.billing.plugin.api.payment.PluginPaymentTransactionInfoPlugin;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.json.PluginPropertiesJson;

import com.fasterxml.jackson.databind.JsonNode;

import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.dateTime;
import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.decimal;
import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.enumValue;
import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.object;
import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.requiredEnum;
import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.requiredUuid;
import static org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields.text;

/**
 * {@code PaymentTransactionInfoPlugin}. The status is required: a missing one must not default to
 * anything, since Kill Bill acts on it (a guessed PROCESSED would mark money as received).
 */
public final class TransactionInfoConverter implements AnswerConverter<PaymentTransactionInfoPlugin> {

    @Override
    public PaymentTransactionInfoPlugin convert(final JsonNode answer) throws MalformedAnswerException {
        object(answer, "PaymentTransactionInfoPlugin");
        return new PluginPaymentTransactionInfoPlugin(requiredUuid(answer, "kbPaymentId"),
                                                      requiredUuid(answer, "kbTransactionPaymentId"),
                                                      requiredEnum(answer, "transactionType", TransactionType.class),
                                                      decimal(answer, "amount"),
                                                      enumValue(answer, "currency", Currency.class),
                                                      requiredEnum(answer, "status", PaymentPluginStatus.class),
                                                      text(answer, "gatewayError"),
                                                      text(answer, "gatewayErrorCode"),
                                                      text(answer, "firstPaymentReferenceId"),
                                                      text(answer, "secondPaymentReferenceId"),
                                                      dateTime(answer, "createdDate"),
                                                      dateTime(answer, "effectiveDate"),
                                                      PluginPropertiesJson.fromJson(answer.get("properties"), "properties"));
    }
}
