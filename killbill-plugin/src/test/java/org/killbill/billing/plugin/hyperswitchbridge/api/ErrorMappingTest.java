package org.killbill.billing.plugin.hyperswitchbridge.api;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.killbill.billing.catalog.api.Currency;
import org.killbill.billing.payment.api.TransactionType;
import org.killbill.billing.payment.plugin.api.PaymentPluginApiException;
import org.killbill.billing.payment.plugin.api.PaymentPluginStatus;
import org.killbill.billing.payment.plugin.api.PaymentTransactionInfoPlugin;
import org.killbill.billing.plugin.hyperswitchbridge.config.BridgeConfig;
import org.killbill.billing.plugin.hyperswitchbridge.http.SidecarClient;
import org.killbill.billing.plugin.hyperswitchbridge.support.ApiTestBase;
import org.killbill.billing.plugin.hyperswitchbridge.support.ClosedPort;
import org.killbill.billing.plugin.hyperswitchbridge.support.HangUpServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.killbill.billing.plugin.hyperswitchbridge.support.TestContexts.callContext;
import static org.killbill.billing.plugin.hyperswitchbridge.support.TestContexts.tenantContext;

/**
 * Every way a call can fail. Money movements never throw for a lost answer (UNDEFINED, or CANCELED when
 * nothing was sent); every other call reports failures as PaymentPluginApiException.
 */
class ErrorMappingTest extends ApiTestBase {

    static final UUID ACCOUNT = OperationMappingTest.ACCOUNT;
    static final UUID PAYMENT = OperationMappingTest.PAYMENT;
    static final UUID TRANSACTION = OperationMappingTest.TRANSACTION;
    static final BigDecimal AMOUNT = new BigDecimal("10.50");

    private PaymentTransactionInfoPlugin purchase() throws PaymentPluginApiException {
        return api.purchasePayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR, List.of(), callContext());
    }

    private static void assertSynthesized(final PaymentTransactionInfoPlugin info, final TransactionType type,
                                          final PaymentPluginStatus status, final String code) {
        assertEquals(status, info.getStatus());
        assertEquals(code, info.getGatewayErrorCode());
        assertEquals(type, info.getTransactionType());
        assertEquals(PAYMENT, info.getKbPaymentId());
        assertEquals(TRANSACTION, info.getKbTransactionPaymentId());
        assertEquals(NOW, info.getCreatedDate());
    }

    @Test
    void errorBodyWith4xxIsThePluginException() {
        sidecar.answer("/plugin/v1/purchasePayment", 422,
                       jsonText("{'errorType':'INVALID_REQUEST','errorMessage':'amount must be a decimal string'}"));
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class, this::purchase);
        assertEquals("INVALID_REQUEST", e.getErrorType());
        assertEquals("amount must be a decimal string", e.getErrorMessage());
    }

    @Test
    void errorBodyWith5xxIsThePluginException() {
        sidecar.answer("/plugin/v1/getPaymentInfo", 500,
                       jsonText("{'errorType':'INTERNAL_ERROR','errorMessage':'the bridge failed to handle this call'}"));
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.getPaymentInfo(ACCOUNT, PAYMENT, List.of(), tenantContext()));
        assertEquals("INTERNAL_ERROR", e.getErrorType());
        assertEquals("the bridge failed to handle this call", e.getErrorMessage());
    }

    @Test
    void plain4xxWithoutErrorBodyNamesTheStatus() {
        sidecar.answer("/plugin/v1/deletePaymentMethod", 404, "not here");
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.deletePaymentMethod(ACCOUNT, PAYMENT, List.of(), callContext()));
        assertEquals("HTTP_404", e.getErrorType());
        assertTrue(e.getErrorMessage().contains("not here"), e.getErrorMessage());
    }

    @Test
    void bare5xxOnAMoneyMovementIsUndefined() throws Exception {
        sidecar.answer("/plugin/v1/purchasePayment", 502, "");
        assertSynthesized(purchase(), TransactionType.PURCHASE, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
    }

    @Test
    void proxyHtml5xxOnARefundIsUndefined() throws Exception {
        sidecar.answer("/plugin/v1/refundPayment", 503, "<html>Service Unavailable</html>");
        final PaymentTransactionInfoPlugin info = api.refundPayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                    List.of(), callContext());
        assertSynthesized(info, TransactionType.REFUND, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
    }

    @Test
    void bare5xxOnAQueryIsThePluginException() {
        sidecar.answer("/plugin/v1/getPaymentInfo", 500, "");
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.getPaymentInfo(ACCOUNT, PAYMENT, List.of(), tenantContext()));
        assertEquals("SIDECAR_UNAVAILABLE", e.getErrorType());
    }

    @Test
    void readTimeoutOnAPurchaseIsUndefined() throws Exception {
        sidecar.answerLate("/plugin/v1/purchasePayment", Duration.ofSeconds(3), 200,
                           jsonText(OperationMappingTest.transactionAnswer("PURCHASE", "PROCESSED")));
        api = apiFor(sidecar.url(), Duration.ofMillis(300));
        final long started = System.nanoTime();
        final PaymentTransactionInfoPlugin info = purchase();
        assertTrue(Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(2)) < 0, "the read timeout applied");
        assertSynthesized(info, TransactionType.PURCHASE, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
        assertEquals(1, sidecar.received().size());
    }

    @Test
    void readTimeoutOnAQueryIsThePluginException() {
        sidecar.answerLate("/plugin/v1/getPaymentMethods", Duration.ofSeconds(3), 200, "[]");
        api = apiFor(sidecar.url(), Duration.ofMillis(300));
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.getPaymentMethods(ACCOUNT, false, List.of(), callContext()));
        assertEquals("SIDECAR_UNAVAILABLE", e.getErrorType());
    }

    @Test
    void connectionResetAfterSendingIsUndefined() throws Exception {
        try (HangUpServer server = new HangUpServer()) {
            api = apiFor(server.url(), Duration.ofSeconds(5));
            final PaymentTransactionInfoPlugin info = api.capturePayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                         List.of(), callContext());
            assertTrue(server.bytesRead() > 0, "the request was sent before the connection dropped");
            assertSynthesized(info, TransactionType.CAPTURE, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
        }
    }

    @Test
    void connectionRefusedOnAPurchaseIsCanceled() throws Exception {
        api = apiFor(ClosedPort.url(), Duration.ofSeconds(5));
        assertSynthesized(purchase(), TransactionType.PURCHASE, PaymentPluginStatus.CANCELED, UnansweredTransaction.UNREACHABLE);
    }

    @Test
    void connectionRefusedOnEveryMoneyMovementIsCanceled() throws Exception {
        api = apiFor(ClosedPort.url(), Duration.ofSeconds(5));
        assertEquals(PaymentPluginStatus.CANCELED, api.authorizePayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                        List.of(), callContext()).getStatus());
        assertEquals(PaymentPluginStatus.CANCELED, api.capturePayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                      List.of(), callContext()).getStatus());
        assertEquals(PaymentPluginStatus.CANCELED, api.creditPayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                     List.of(), callContext()).getStatus());
        assertEquals(PaymentPluginStatus.CANCELED, api.refundPayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                     List.of(), callContext()).getStatus());
    }

    @Test
    void connectionRefusedOnAVoidIsThePluginException() throws Exception {
        api = apiFor(ClosedPort.url(), Duration.ofSeconds(5));
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.voidPayment(ACCOUNT, PAYMENT, TRANSACTION, null, List.of(), callContext()));
        assertEquals("SIDECAR_UNAVAILABLE", e.getErrorType());
    }

    @Test
    void malformedJsonOnAPurchaseIsUndefined() throws Exception {
        sidecar.answer("/plugin/v1/purchasePayment", 200, "{\"kbPaymentId\": ");
        assertSynthesized(purchase(), TransactionType.PURCHASE, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
    }

    @Test
    void answerWithoutStatusIsUndefinedNotGuessed() throws Exception {
        sidecar.answer("/plugin/v1/purchasePayment", 200,
                       jsonText(OperationMappingTest.transactionAnswer("PURCHASE", "PROCESSED").replace(",'status':'PROCESSED'", "")));
        assertSynthesized(purchase(), TransactionType.PURCHASE, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
    }

    @Test
    void unknownStatusIsUndefinedNotGuessed() throws Exception {
        sidecar.answer("/plugin/v1/authorizePayment", 200,
                       jsonText(OperationMappingTest.transactionAnswer("AUTHORIZE", "SUCCEEDED")));
        final PaymentTransactionInfoPlugin info = api.authorizePayment(ACCOUNT, PAYMENT, TRANSACTION, null, AMOUNT, Currency.EUR,
                                                                       List.of(), callContext());
        assertSynthesized(info, TransactionType.AUTHORIZE, PaymentPluginStatus.UNDEFINED, UnansweredTransaction.NO_ANSWER);
    }

    @Test
    void malformedJsonOnAQueryIsThePluginException() {
        sidecar.answer("/plugin/v1/getPaymentMethodDetail", 200, "not json");
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.getPaymentMethodDetail(ACCOUNT, PAYMENT, List.of(), tenantContext()));
        assertEquals("SIDECAR_MALFORMED_ANSWER", e.getErrorType());
    }

    @Test
    void wrongShapeOnAListIsThePluginException() {
        sidecar.answer("/plugin/v1/getPaymentInfo", 200, "{}");
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.getPaymentInfo(ACCOUNT, PAYMENT, List.of(), tenantContext()));
        assertEquals("SIDECAR_MALFORMED_ANSWER", e.getErrorType());
    }

    @Test
    void badSignatureIsRefusedByTheSidecar() throws Exception {
        // The stub verifies like the sidecar: a plugin configured with another secret gets the 401 error body.
        final Properties properties = new Properties();
        properties.setProperty(BridgeConfig.URL, sidecar.url());
        properties.setProperty(BridgeConfig.SECRET, "wrong-secret");
        final SidecarClient client = new SidecarClient(BridgeConfig.fromSystemProperties(properties));
        api = new BridgePaymentPluginApi(new SidecarExchange(tenantId -> client), () -> NOW);
        final PaymentPluginApiException e = assertThrows(PaymentPluginApiException.class,
                                                         () -> api.getPaymentInfo(ACCOUNT, PAYMENT, List.of(), tenantContext()));
        assertEquals("UNAUTHENTICATED", e.getErrorType());
    }
}
