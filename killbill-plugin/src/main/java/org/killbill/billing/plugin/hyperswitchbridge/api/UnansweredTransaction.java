package org.killbill.billing.plugin.hyperswitchbridge.api;

import java.util.List;
import java.util.function.Supplier;

import org.joda.time.DateTime;
import org.killbill.billing.payment.plugin.api.PaymentPluginStatus;
import org.killbill.billing.payment.plugin.api.PaymentTransactionInfoPlugin;
import org.killbill.billing.plugin.api.payment.PluginPaymentTransactionInfoPlugin;

/**
 * The answer Kill Bill gets when the sidecar's did not arrive. CANCELED only when the request certainly
 * never left (Kill Bill retries it soon, which is safe); otherwise UNDEFINED, which Kill Bill resolves
 * through getPaymentInfo instead of retrying, so nothing is charged twice.
 */
final class UnansweredTransaction {

    static final String UNREACHABLE = "SIDECAR_UNREACHABLE";
    static final String NO_ANSWER = "SIDECAR_NO_ANSWER";

    private final Supplier<DateTime> now;

    UnansweredTransaction(final Supplier<DateTime> now) {
        this.now = now;
    }

    PaymentTransactionInfoPlugin canceled(final TransactionCall call, final Exception cause) {
        return build(call, PaymentPluginStatus.CANCELED, UNREACHABLE, cause);
    }

    PaymentTransactionInfoPlugin undefined(final TransactionCall call, final Exception cause) {
        return build(call, PaymentPluginStatus.UNDEFINED, NO_ANSWER, cause);
    }

    private PaymentTransactionInfoPlugin build(final TransactionCall call, final PaymentPluginStatus status,
                                               final String code, final Exception cause) {
        final DateTime at = now.get();
        return new PluginPaymentTransactionInfoPlugin(call.kbPaymentId, call.kbTransactionId, call.type, call.amount,
                                                      call.currency, status, cause.getMessage(), code,
                                                      null, null, at, at, List.of());
    }
}
