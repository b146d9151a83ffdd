package org.killbill.billing.plugin.hyperswitchbridge.api;

import java.math.BigDecimal;
import java.util.UUID;

import org.killbill.billing.catalog.api.Currency;
import org.killbill.billing.payment.api.PluginProperty;
import org.killbill.billing.payment.api.TransactionType;
import org.killbill.billing.plugin.hyperswitchbridge.json.SidecarRequest;
import org.killbill.billing.util.callcontext.CallContext;

/** The parameters of authorize, capture, purchase, credit and refund, which share one Java signature. */
final class TransactionCall {

    final TransactionType type;
    final String operation;
    final UUID kbAccountId;
    final UUID kbPaymentId;
    final UUID kbTransactionId;
    final UUID kbPaymentMethodId;
    final BigDecimal amount;
    final Currency currency;
    final Iterable<PluginProperty> properties;
    final CallContext context;

    TransactionCall(final TransactionType type, final String operation, final UUID kbAccountId, final UUID kbPaymentId,
                    final UUID kbTransactionId, final UUID kbPaymentMethodId, final BigDecimal amount,
                    final Currency currency, final Iterable<PluginProperty> properties, final CallContext context) {
        this.type = type;
        this.operation = operation;
        this.kbAccountId = kbAccountId;
        this.kbPaymentId = kbPaymentId;
        this.kbTransactionId = kbTransactionId;
        this.kbPaymentMethodId = kbPaymentMethodId;
        this.amount = amount;
        this.currency = currency;
        this.properties = properties;
        this.context = context;
    }

    UUID tenantId() {
        return context == null ? null : context.getTenantId();
    }

    SidecarRequest request() {
        return new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                   .uuid("kbPaymentId", kbPaymentId)
                                   .uuid("kbTransactionId", kbTransactionId)
                                   .uuid("kbPaymentMethodId", kbPaymentMethodId)
                                   .amount(amount)
                                   .currency(currency)
                                   .properties(properties)
                                   .callContext(context);
    }
}
