package org.killbill.billing.plugin.hyperswitchbridge.api;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

import org.joda.time.DateTime;
import org.killbill.billing.catalog.api.Currency;
import org.killbill.billing.payment.api.PaymentMethodPlugin;
import org.killbill.billing.payment.api.PluginProperty;
import org.killbill.billing.payment.api.TransactionType;
import org.killbill.billing.payment.plugin.api.GatewayNotification;
import org.killbill.billing.payment.plugin.api.HostedPaymentPageFormDescriptor;
import org.killbill.billing.payment.plugin.api.PaymentMethodInfoPlugin;
import org.killbill.billing.payment.plugin.api.PaymentPluginApi;
import org.killbill.billing.payment.plugin.api.PaymentPluginApiException;
import org.killbill.billing.payment.plugin.api.PaymentTransactionInfoPlugin;
import org.killbill.billing.plugin.hyperswitchbridge.convert.AnswerConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.FormDescriptorConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.GatewayNotificationConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.ListConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.PaginationConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.PaymentMethodConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.PaymentMethodInfoConverter;
import org.killbill.billing.plugin.hyperswitchbridge.convert.TransactionInfoConverter;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarTransportException;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarUnreachableException;
import org.killbill.billing.plugin.hyperswitchbridge.json.Json;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.plugin.hyperswitchbridge.json.SidecarRequest;
import org.killbill.billing.util.callcontext.CallContext;
import org.killbill.billing.util.callcontext.TenantContext;
import org.killbill.billing.util.entity.Pagination;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kill Bill's payment plugin contract, forwarded call by call to the sidecar's {@code /plugin/v1/<method>}.
 * It keeps no state and decides nothing: every answer comes from the sidecar, except the status of a money
 * movement whose answer never arrived (see {@link UnansweredTransaction}).
 */
public class BridgePaymentPluginApi implements PaymentPluginApi {

    private static final Logger logger = LoggerFactory.getLogger(BridgePaymentPluginApi.class);

    private final SidecarExchange exchange;
    private final UnansweredTransaction unanswered;
    private final TransactionInfoConverter transactionInfo = new TransactionInfoConverter();
    private final PaymentMethodConverter paymentMethod = new PaymentMethodConverter();
    private final PaymentMethodInfoConverter paymentMethodInfo = new PaymentMethodInfoConverter();

    public BridgePaymentPluginApi(final SidecarExchange exchange, final Supplier<DateTime> now) {
        this.exchange = exchange;
        this.unanswered = new UnansweredTransaction(now);
    }

    @Override
    public PaymentTransactionInfoPlugin authorizePayment(final UUID kbAccountId, final UUID kbPaymentId, final UUID kbTransactionId,
                                                         final UUID kbPaymentMethodId, final BigDecimal amount, final Currency currency,
                                                         final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        return moveMoney(new TransactionCall(TransactionType.AUTHORIZE, "authorizePayment", kbAccountId, kbPaymentId,
                                             kbTransactionId, kbPaymentMethodId, amount, currency, properties, context));
    }

    @Override
    public PaymentTransactionInfoPlugin capturePayment(final UUID kbAccountId, final UUID kbPaymentId, final UUID kbTransactionId,
                                                       final UUID kbPaymentMethodId, final BigDecimal amount, final Currency currency,
                                                       final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        return moveMoney(new TransactionCall(TransactionType.CAPTURE, "capturePayment", kbAccountId, kbPaymentId,
                                             kbTransactionId, kbPaymentMethodId, amount, currency, properties, context));
    }

    @Override
    public PaymentTransactionInfoPlugin purchasePayment(final UUID kbAccountId, final UUID kbPaymentId, final UUID kbTransactionId,
                                                        final UUID kbPaymentMethodId, final BigDecimal amount, final Currency currency,
                                                        final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        return moveMoney(new TransactionCall(TransactionType.PURCHASE, "purchasePayment", kbAccountId, kbPaymentId,
                                             kbTransactionId, kbPaymentMethodId, amount, currency, properties, context));
    }

    @Override
    public PaymentTransactionInfoPlugin voidPayment(final UUID kbAccountId, final UUID kbPaymentId, final UUID kbTransactionId,
                                                    final UUID kbPaymentMethodId, final Iterable<PluginProperty> properties,
                                                    final CallContext context) throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                                           .uuid("kbPaymentId", kbPaymentId)
                                                           .uuid("kbTransactionId", kbTransactionId)
                                                           .uuid("kbPaymentMethodId", kbPaymentMethodId)
                                                           .properties(properties)
                                                           .callContext(context);
        return call(tenantOf(context), "voidPayment", request, transactionInfo);
    }

    @Override
    public PaymentTransactionInfoPlugin creditPayment(final UUID kbAccountId, final UUID kbPaymentId, final UUID kbTransactionId,
                                                      final UUID kbPaymentMethodId, final BigDecimal amount, final Currency currency,
                                                      final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        return moveMoney(new TransactionCall(TransactionType.CREDIT, "creditPayment", kbAccountId, kbPaymentId,
                                             kbTransactionId, kbPaymentMethodId, amount, currency, properties, context));
    }

    @Override
    public PaymentTransactionInfoPlugin refundPayment(final UUID kbAccountId, final UUID kbPaymentId, final UUID kbTransactionId,
                                                      final UUID kbPaymentMethodId, final BigDecimal amount, final Currency currency,
                                                      final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        return moveMoney(new TransactionCall(TransactionType.REFUND, "refundPayment", kbAccountId, kbPaymentId,
                                             kbTransactionId, kbPaymentMethodId, amount, currency, properties, context));
    }

    @Override
    public List<PaymentTransactionInfoPlugin> getPaymentInfo(final UUID kbAccountId, final UUID kbPaymentId,
                                                             final Iterable<PluginProperty> properties, final TenantContext context)
            throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                                           .uuid("kbPaymentId", kbPaymentId)
                                                           .properties(properties)
                                                           .tenantContext(context);
        return call(tenantOf(context), "getPaymentInfo", request, new ListConverter<>(transactionInfo));
    }

    @Override
    public Pagination<PaymentTransactionInfoPlugin> searchPayments(final String searchKey, final Long offset, final Long limit,
                                                                   final Iterable<PluginProperty> properties, final TenantContext context)
            throws PaymentPluginApiException {
        return call(tenantOf(context), "searchPayments", search(searchKey, offset, limit, properties, context),
                    new PaginationConverter<>(transactionInfo));
    }

    @Override
    public void addPaymentMethod(final UUID kbAccountId, final UUID kbPaymentMethodId, final PaymentMethodPlugin paymentMethodProps,
                                 final boolean setDefault, final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                                           .uuid("kbPaymentMethodId", kbPaymentMethodId)
                                                           .json("paymentMethodProps", paymentMethod.toJson(paymentMethodProps))
                                                           .bool("setDefault", setDefault)
                                                           .properties(properties)
                                                           .callContext(context);
        callVoid(tenantOf(context), "addPaymentMethod", request);
    }

    @Override
    public void deletePaymentMethod(final UUID kbAccountId, final UUID kbPaymentMethodId, final Iterable<PluginProperty> properties,
                                    final CallContext context) throws PaymentPluginApiException {
        callVoid(tenantOf(context), "deletePaymentMethod", paymentMethodCall(kbAccountId, kbPaymentMethodId, properties).callContext(context));
    }

    @Override
    public PaymentMethodPlugin getPaymentMethodDetail(final UUID kbAccountId, final UUID kbPaymentMethodId,
                                                      final Iterable<PluginProperty> properties, final TenantContext context)
            throws PaymentPluginApiException {
        return call(tenantOf(context), "getPaymentMethodDetail",
                    paymentMethodCall(kbAccountId, kbPaymentMethodId, properties).tenantContext(context), paymentMethod);
    }

    @Override
    public void setDefaultPaymentMethod(final UUID kbAccountId, final UUID kbPaymentMethodId, final Iterable<PluginProperty> properties,
                                        final CallContext context) throws PaymentPluginApiException {
        callVoid(tenantOf(context), "setDefaultPaymentMethod",
                 paymentMethodCall(kbAccountId, kbPaymentMethodId, properties).callContext(context));
    }

    @Override
    public List<PaymentMethodInfoPlugin> getPaymentMethods(final UUID kbAccountId, final boolean refreshFromGateway,
                                                           final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                                           .bool("refreshFromGateway", refreshFromGateway)
                                                           .properties(properties)
                                                           .callContext(context);
        return call(tenantOf(context), "getPaymentMethods", request, new ListConverter<>(paymentMethodInfo));
    }

    @Override
    public Pagination<PaymentMethodPlugin> searchPaymentMethods(final String searchKey, final Long offset, final Long limit,
                                                                final Iterable<PluginProperty> properties, final TenantContext context)
            throws PaymentPluginApiException {
        return call(tenantOf(context), "searchPaymentMethods", search(searchKey, offset, limit, properties, context),
                    new PaginationConverter<>(paymentMethod));
    }

    @Override
    public void resetPaymentMethods(final UUID kbAccountId, final List<PaymentMethodInfoPlugin> paymentMethods,
                                    final Iterable<PluginProperty> properties, final CallContext context) throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                                           .json("paymentMethods", paymentMethodInfo.toJson(paymentMethods))
                                                           .properties(properties)
                                                           .callContext(context);
        callVoid(tenantOf(context), "resetPaymentMethods", request);
    }

    @Override
    public HostedPaymentPageFormDescriptor buildFormDescriptor(final UUID kbAccountId, final Iterable<PluginProperty> customFields,
                                                               final Iterable<PluginProperty> properties, final CallContext context)
            throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().uuid("kbAccountId", kbAccountId)
                                                           .properties("customFields", customFields)
                                                           .properties(properties)
                                                           .callContext(context);
        return call(tenantOf(context), "buildFormDescriptor", request, new FormDescriptorConverter());
    }

    @Override
    public GatewayNotification processNotification(final String notification, final Iterable<PluginProperty> properties,
                                                   final CallContext context) throws PaymentPluginApiException {
        final SidecarRequest request = new SidecarRequest().text("notification", notification)
                                                           .properties(properties)
                                                           .callContext(context);
        return call(tenantOf(context), "processNotification", request, new GatewayNotificationConverter());
    }

    /** A money movement never throws for a lost answer: Kill Bill must learn CANCELED or UNDEFINED. */
    private PaymentTransactionInfoPlugin moveMoney(final TransactionCall call) throws PaymentPluginApiException {
        try {
            return transactionInfo.convert(Json.parse(exchange.send(call.tenantId(), call.operation, call.request()).body()));
        } catch (final SidecarUnreachableException e) {
            logger.warn("{} {}: sidecar unreachable, reporting CANCELED: {}", call.operation, call.kbTransactionId, e.getMessage());
            return unanswered.canceled(call, e);
        } catch (final SidecarTransportException | MalformedAnswerException e) {
            // Anything else that went wrong after connecting may have reached Hyperswitch.
            logger.warn("{} {}: outcome unknown, reporting UNDEFINED: {}", call.operation, call.kbTransactionId, e.getMessage());
            return unanswered.undefined(call, e);
        }
    }

    private <T> T call(final UUID tenantId, final String operation, final SidecarRequest request, final AnswerConverter<T> converter)
            throws PaymentPluginApiException {
        try {
            return converter.convert(Json.parse(exchange.send(tenantId, operation, request).body()));
        } catch (final SidecarTransportException e) {
            throw new PaymentPluginApiException("SIDECAR_UNAVAILABLE", e.getMessage());
        } catch (final MalformedAnswerException e) {
            throw new PaymentPluginApiException("SIDECAR_MALFORMED_ANSWER", operation + ": " + e.getMessage());
        }
    }

    /** The void methods ignore the 2xx body: the contract gives them nothing to return. */
    private void callVoid(final UUID tenantId, final String operation, final SidecarRequest request) throws PaymentPluginApiException {
        try {
            exchange.send(tenantId, operation, request);
        } catch (final SidecarTransportException e) {
            throw new PaymentPluginApiException("SIDECAR_UNAVAILABLE", e.getMessage());
        }
    }

    private static SidecarRequest paymentMethodCall(final UUID kbAccountId, final UUID kbPaymentMethodId,
                                                    final Iterable<PluginProperty> properties) {
        return new SidecarRequest().uuid("kbAccountId", kbAccountId).uuid("kbPaymentMethodId", kbPaymentMethodId).properties(properties);
    }

    private static SidecarRequest search(final String searchKey, final Long offset, final Long limit,
                                         final Iterable<PluginProperty> properties, final TenantContext context) {
        return new SidecarRequest().text("searchKey", searchKey).whole("offset", offset).whole("limit", limit)
                                   .properties(properties).tenantContext(context);
    }

    private static UUID tenantOf(final TenantContext context) {
        return context == null ? null : context.getTenantId();
    }
}
