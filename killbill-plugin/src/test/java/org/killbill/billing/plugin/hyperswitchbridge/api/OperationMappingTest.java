package org.killbill.billing.plugin.hyperswitchbridge.api;

import java.math.BigDecimal;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.junit.jupiter.api.Test;
import org.killbill.billing.catalog.api.Currency;
import org.killbill.billing.payment.api.PaymentMethodPlugin;
import org.killbill.billing.payment.api.PluginProperty;
import org.killbill.billing.payment.api.TransactionType;
import org.killbill.billing.payment.plugin.api.GatewayNotification;
import org.killbill.billing.payment.plugin.api.HostedPaymentPageFormDescriptor;
import org.killbill.billing.payment.plugin.api.PaymentMethodInfoPlugin;
import org.killbill.billing.payment.plugin.api.PaymentPluginStatus;
import org.killbill.billing.payment.plugin.api.PaymentTransactionInfoPlugin;
import org.killbill.billing.plugin.api.payment.PluginPaymentMethodInfoPlugin;
import org.killbill.billing.plugin.api.payment.PluginPaymentMethodPlugin;
import org.killbill.billing.plugin.hyperswitchbridge.support.ApiTestBase;
import org.killbill.billing.plugin.hyperswitchbridge.support.StubSidecar;
import org.killbill.billing.util.entity.Pagination;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.killbill.billing.plugin.hyperswitchbridge.support.TestContexts.callContext;
import static org.killbill.billing.plugin.hyperswitchbridge.support.TestContexts.tenantContext;

/** Each of the 17 operations: the exact request JSON (and its signature, checked by the stub) and the mapped answer. */
class OperationMappingTest extends ApiTestBase {

    static final UUID ACCOUNT = UUID.fromString("22222222-2222-2222-2222-222222222222");
    static final UUID PAYMENT = UUID.fromString("44444444-4444-4444-4444-444444444444");
    static final UUID TRANSACTION = UUID.fromString("55555555-5555-5555-5555-555555555555");
    static final UUID METHOD = UUID.fromString("66666666-6666-6666-6666-666666666666");
    static final List<PluginProperty> PROPS = List.of(new PluginProperty("IPCD_INVOICE_ID", "inv-1", false));

    static final String CALL_CONTEXT = "'context':{'tenantId':'11111111-1111-1111-1111-111111111111',"
                                       + "'accountId':'22222222-2222-2222-2222-222222222222','userName':'janitor',"
                                       + "'callOrigin':'INTERNAL','userType':'SYSTEM','reasonCode':'retry',"
                                       + "'comments':'from a test','createdDate':'2024-05-01T10:30:00.000Z'}";
    static final String TENANT_CONTEXT = "'context':{'tenantId':'11111111-1111-1111-1111-111111111111',"
                                         + "'accountId':'22222222-2222-2222-2222-222222222222'}";
    static final String PROPS_JSON = "'properties':[{'key':'IPCD_INVOICE_ID','value':'inv-1','isUpdatable':false}]";

    static String transactionAnswer(final String type, final String status) {
        return "{'kbPaymentId':'44444444-4444-4444-4444-444444444444',"
               + "'kbTransactionPaymentId':'55555555-5555-5555-5555-555555555555','transactionType':'" + type + "',"
               + "'amount':'10.50','currency':'EUR','createdDate':'2024-05-01T10:30:00.123456Z',"
               + "'effectiveDate':'2024-05-01T12:31:00+02:00','status':'" + status + "','gatewayError':null,"
               + "'gatewayErrorCode':null,'firstPaymentReferenceId':'pay_abc','secondPaymentReferenceId':'att_1',"
               + "'properties':[{'key':'hsStatus','value':'succeeded','isUpdatable':false}]}";
    }

    private String moneyRequest() {
        return "{'kbAccountId':'22222222-2222-2222-2222-222222222222','kbPaymentId':'44444444-4444-4444-4444-444444444444',"
               + "'kbTransactionId':'55555555-5555-5555-5555-555555555555','kbPaymentMethodId':'66666666-6666-6666-6666-666666666666',"
               + "'amount':'10.50','currency':'EUR'," + PROPS_JSON + "," + CALL_CONTEXT + "}";
    }

    private void assertRequest(final String operation, final String expectedSingleQuoted) {
        final StubSidecar.Received request = sidecar.only("/plugin/v1/" + operation);
        assertEquals("POST", request.method);
        assertEquals("application/json", request.contentType);
        assertTrue(request.signature.matches("t=\\d+,v1=[0-9a-f]{64}"), request.signature);
        assertEquals(json(expectedSingleQuoted), request.json());
    }

    private static void assertTransaction(final PaymentTransactionInfoPlugin info, final TransactionType type,
                                          final PaymentPluginStatus status) {
        assertEquals(PAYMENT, info.getKbPaymentId());
        assertEquals(TRANSACTION, info.getKbTransactionPaymentId());
        assertEquals(type, info.getTransactionType());
        assertEquals(new BigDecimal("10.50"), info.getAmount());
        assertEquals(Currency.EUR, info.getCurrency());
        assertEquals(status, info.getStatus());
        assertEquals(new DateTime(2024, 5, 1, 10, 30, 0, 123, DateTimeZone.UTC), info.getCreatedDate());
        assertEquals(new DateTime(2024, 5, 1, 10, 31, 0, 0, DateTimeZone.UTC).getMillis(), info.getEffectiveDate().getMillis());
        assertNull(info.getGatewayError());
        assertEquals("pay_abc", info.getFirstPaymentReferenceId());
        assertEquals("att_1", info.getSecondPaymentReferenceId());
        assertEquals(List.of(new PluginProperty("hsStatus", "succeeded", false)), info.getProperties());
    }

    @Test
    void authorizePayment() throws Exception {
        sidecar.answer("/plugin/v1/authorizePayment", 200, jsonText(transactionAnswer("AUTHORIZE", "PROCESSED")));
        final PaymentTransactionInfoPlugin info = api.authorizePayment(ACCOUNT, PAYMENT, TRANSACTION, METHOD, new BigDecimal("10.50"),
                                                                       Currency.EUR, PROPS, callContext());
        assertRequest("authorizePayment", moneyRequest());
        assertTransaction(info, TransactionType.AUTHORIZE, PaymentPluginStatus.PROCESSED);
    }

    @Test
    void capturePayment() throws Exception {
        sidecar.answer("/plugin/v1/capturePayment", 200, jsonText(transactionAnswer("CAPTURE", "PENDING")));
        final PaymentTransactionInfoPlugin info = api.capturePayment(ACCOUNT, PAYMENT, TRANSACTION, METHOD, new BigDecimal("10.50"),
                                                                     Currency.EUR, PROPS, callContext());
        assertRequest("capturePayment", moneyRequest());
        assertTransaction(info, TransactionType.CAPTURE, PaymentPluginStatus.PENDING);
    }

    @Test
    void purchasePayment() throws Exception {
        sidecar.answer("/plugin/v1/purchasePayment", 200, jsonText(transactionAnswer("PURCHASE", "ERROR")));
        final PaymentTransactionInfoPlugin info = api.purchasePayment(ACCOUNT, PAYMENT, TRANSACTION, METHOD, new BigDecimal("10.50"),
                                                                      Currency.EUR, PROPS, callContext());
        assertRequest("purchasePayment", moneyRequest());
        assertTransaction(info, TransactionType.PURCHASE, PaymentPluginStatus.ERROR);
    }

    @Test
    void purchaseAmountIsAPlainDecimalString() throws Exception {
        sidecar.answer("/plugin/v1/purchasePayment", 200, jsonText(transactionAnswer("PURCHASE", "PROCESSED")));
        api.purchasePayment(ACCOUNT, PAYMENT, TRANSACTION, null, new BigDecimal("1E+3"), Currency.JPY, List.of(), callContext());
        final StubSidecar.Received request = sidecar.only("/plugin/v1/purchasePayment");
        assertEquals("1000", request.json().get("amount").textValue());
        assertTrue(request.json().get("kbPaymentMethodId").isNull());
        assertEquals(json("[]"), request.json().get("properties"));
    }

    @Test
    void voidPayment() throws Exception {
        sidecar.answer("/plugin/v1/voidPayment", 200, jsonText(transactionAnswer("VOID", "PROCESSED")));
        final PaymentTransactionInfoPlugin info = api.voidPayment(ACCOUNT, PAYMENT, TRANSACTION, METHOD, PROPS, callContext());
        assertRequest("voidPayment", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                     + "'kbPaymentId':'44444444-4444-4444-4444-444444444444',"
                                     + "'kbTransactionId':'55555555-5555-5555-5555-555555555555',"
                                     + "'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666'," + PROPS_JSON + "," + CALL_CONTEXT + "}");
        assertTransaction(info, TransactionType.VOID, PaymentPluginStatus.PROCESSED);
    }

    @Test
    void creditPayment() throws Exception {
        sidecar.answer("/plugin/v1/creditPayment", 200, jsonText(transactionAnswer("CREDIT", "PROCESSED")));
        final PaymentTransactionInfoPlugin info = api.creditPayment(ACCOUNT, PAYMENT, TRANSACTION, METHOD, new BigDecimal("10.50"),
                                                                    Currency.EUR, PROPS, callContext());
        assertRequest("creditPayment", moneyRequest());
        assertTransaction(info, TransactionType.CREDIT, PaymentPluginStatus.PROCESSED);
    }

    @Test
    void refundPayment() throws Exception {
        sidecar.answer("/plugin/v1/refundPayment", 200, jsonText(transactionAnswer("REFUND", "PENDING")));
        final PaymentTransactionInfoPlugin info = api.refundPayment(ACCOUNT, PAYMENT, TRANSACTION, METHOD, new BigDecimal("10.50"),
                                                                    Currency.EUR, PROPS, callContext());
        assertRequest("refundPayment", moneyRequest());
        assertTransaction(info, TransactionType.REFUND, PaymentPluginStatus.PENDING);
    }

    @Test
    void getPaymentInfo() throws Exception {
        sidecar.answer("/plugin/v1/getPaymentInfo", 200,
                       jsonText("[" + transactionAnswer("AUTHORIZE", "PROCESSED") + "," + transactionAnswer("CAPTURE", "UNDEFINED") + "]"));
        final List<PaymentTransactionInfoPlugin> infos = api.getPaymentInfo(ACCOUNT, PAYMENT, PROPS, tenantContext());
        assertRequest("getPaymentInfo", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                        + "'kbPaymentId':'44444444-4444-4444-4444-444444444444'," + PROPS_JSON + "," + TENANT_CONTEXT + "}");
        assertEquals(2, infos.size());
        assertTransaction(infos.get(0), TransactionType.AUTHORIZE, PaymentPluginStatus.PROCESSED);
        assertTransaction(infos.get(1), TransactionType.CAPTURE, PaymentPluginStatus.UNDEFINED);
    }

    @Test
    void searchPayments() throws Exception {
        sidecar.answer("/plugin/v1/searchPayments", 200,
                       jsonText("{'currentOffset':10,'nextOffset':null,'totalNbRecords':11,'maxNbRecords':null,'records':["
                                + transactionAnswer("PURCHASE", "PROCESSED") + "]}"));
        final Pagination<PaymentTransactionInfoPlugin> page = api.searchPayments("pay_abc", 10L, 5L, PROPS, tenantContext());
        assertRequest("searchPayments", "{'searchKey':'pay_abc','offset':10,'limit':5," + PROPS_JSON + "," + TENANT_CONTEXT + "}");
        assertEquals(10L, page.getCurrentOffset());
        assertNull(page.getNextOffset());
        assertEquals(11L, page.getTotalNbRecords());
        assertNull(page.getMaxNbRecords());
        final Iterator<PaymentTransactionInfoPlugin> records = page.iterator();
        assertTransaction(records.next(), TransactionType.PURCHASE, PaymentPluginStatus.PROCESSED);
        assertFalse(records.hasNext());
    }

    @Test
    void addPaymentMethod() throws Exception {
        sidecar.answer("/plugin/v1/addPaymentMethod", 204, "");
        final PaymentMethodPlugin props = new PluginPaymentMethodPlugin(METHOD, "pm_123", true,
                                                                        List.of(new PluginProperty("mandateId", "man_1", true)));
        api.addPaymentMethod(ACCOUNT, METHOD, props, true, PROPS, callContext());
        assertRequest("addPaymentMethod", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                          + "'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666',"
                                          + "'paymentMethodProps':{'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666',"
                                          + "'externalPaymentMethodId':'pm_123','isDefaultPaymentMethod':true,"
                                          + "'properties':[{'key':'mandateId','value':'man_1','isUpdatable':true}]},"
                                          + "'setDefault':true," + PROPS_JSON + "," + CALL_CONTEXT + "}");
    }

    @Test
    void deletePaymentMethod() throws Exception {
        sidecar.answer("/plugin/v1/deletePaymentMethod", 200, "null");
        api.deletePaymentMethod(ACCOUNT, METHOD, PROPS, callContext());
        assertRequest("deletePaymentMethod", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                             + "'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666'," + PROPS_JSON + "," + CALL_CONTEXT + "}");
    }

    @Test
    void getPaymentMethodDetail() throws Exception {
        sidecar.answer("/plugin/v1/getPaymentMethodDetail", 200,
                       jsonText("{'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666','externalPaymentMethodId':'pm_123',"
                                + "'isDefaultPaymentMethod':true,'properties':[{'key':'last4','value':'4242','isUpdatable':false}]}"));
        final PaymentMethodPlugin detail = api.getPaymentMethodDetail(ACCOUNT, METHOD, PROPS, tenantContext());
        assertRequest("getPaymentMethodDetail", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                                + "'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666'," + PROPS_JSON + "," + TENANT_CONTEXT + "}");
        assertEquals(METHOD, detail.getKbPaymentMethodId());
        assertEquals("pm_123", detail.getExternalPaymentMethodId());
        assertTrue(detail.isDefaultPaymentMethod());
        assertEquals(List.of(new PluginProperty("last4", "4242", false)), detail.getProperties());
    }

    @Test
    void setDefaultPaymentMethod() throws Exception {
        sidecar.answer("/plugin/v1/setDefaultPaymentMethod", 204, "");
        api.setDefaultPaymentMethod(ACCOUNT, METHOD, PROPS, callContext());
        assertRequest("setDefaultPaymentMethod", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                                 + "'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666'," + PROPS_JSON + "," + CALL_CONTEXT + "}");
    }

    @Test
    void getPaymentMethods() throws Exception {
        sidecar.answer("/plugin/v1/getPaymentMethods", 200,
                       jsonText("[{'accountId':'22222222-2222-2222-2222-222222222222','paymentMethodId':'66666666-6666-6666-6666-666666666666',"
                                + "'isDefault':true,'externalPaymentMethodId':'pm_123'}]"));
        final List<PaymentMethodInfoPlugin> methods = api.getPaymentMethods(ACCOUNT, true, PROPS, callContext());
        assertRequest("getPaymentMethods", "{'kbAccountId':'22222222-2222-2222-2222-222222222222','refreshFromGateway':true,"
                                           + PROPS_JSON + "," + CALL_CONTEXT + "}");
        assertEquals(List.of(new PluginPaymentMethodInfoPlugin(ACCOUNT, METHOD, true, "pm_123")), methods);
    }

    @Test
    void searchPaymentMethods() throws Exception {
        sidecar.answer("/plugin/v1/searchPaymentMethods", 200,
                       jsonText("{'currentOffset':0,'nextOffset':1,'totalNbRecords':null,'maxNbRecords':2,'records':["
                                + "{'kbPaymentMethodId':'66666666-6666-6666-6666-666666666666','externalPaymentMethodId':'pm_123',"
                                + "'isDefaultPaymentMethod':false,'properties':[]}]}"));
        final Pagination<PaymentMethodPlugin> page = api.searchPaymentMethods("pm_", 0L, 1L, PROPS, tenantContext());
        assertRequest("searchPaymentMethods", "{'searchKey':'pm_','offset':0,'limit':1," + PROPS_JSON + "," + TENANT_CONTEXT + "}");
        assertEquals(0L, page.getCurrentOffset());
        assertEquals(1L, page.getNextOffset());
        assertNull(page.getTotalNbRecords());
        assertEquals(2L, page.getMaxNbRecords());
        final PaymentMethodPlugin only = page.iterator().next();
        assertEquals(METHOD, only.getKbPaymentMethodId());
        assertEquals("pm_123", only.getExternalPaymentMethodId());
        assertFalse(only.isDefaultPaymentMethod());
    }

    @Test
    void resetPaymentMethods() throws Exception {
        sidecar.answer("/plugin/v1/resetPaymentMethods", 204, "");
        api.resetPaymentMethods(ACCOUNT, List.of(new PluginPaymentMethodInfoPlugin(ACCOUNT, METHOD, false, "pm_123")), PROPS, callContext());
        assertRequest("resetPaymentMethods", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                             + "'paymentMethods':[{'accountId':'22222222-2222-2222-2222-222222222222',"
                                             + "'paymentMethodId':'66666666-6666-6666-6666-666666666666','isDefault':false,"
                                             + "'externalPaymentMethodId':'pm_123'}]," + PROPS_JSON + "," + CALL_CONTEXT + "}");
    }

    @Test
    void buildFormDescriptor() throws Exception {
        sidecar.answer("/plugin/v1/buildFormDescriptor", 200,
                       jsonText("{'kbAccountId':'22222222-2222-2222-2222-222222222222','formMethod':'GET',"
                                + "'formUrl':'https://pay.example/link/1','formFields':[{'key':'amount','value':'10.50','isUpdatable':false}],"
                                + "'properties':[]}"));
        final HostedPaymentPageFormDescriptor form = api.buildFormDescriptor(
                ACCOUNT, List.of(new PluginProperty("returnUrl", "https://shop.example/done", false)), PROPS, callContext());
        assertRequest("buildFormDescriptor", "{'kbAccountId':'22222222-2222-2222-2222-222222222222',"
                                             + "'customFields':[{'key':'returnUrl','value':'https://shop.example/done','isUpdatable':false}],"
                                             + PROPS_JSON + "," + CALL_CONTEXT + "}");
        assertEquals(ACCOUNT, form.getKbAccountId());
        assertEquals("GET", form.getFormMethod());
        assertEquals("https://pay.example/link/1", form.getFormUrl());
        assertEquals(List.of(new PluginProperty("amount", "10.50", false)), form.getFormFields());
    }

    @Test
    void processNotification() throws Exception {
        sidecar.answer("/plugin/v1/processNotification", 200,
                       jsonText("{'kbPaymentId':'44444444-4444-4444-4444-444444444444','status':202,'entity':'accepted',"
                                + "'headers':{'X-Reason':['stored']},'properties':[]}"));
        final GatewayNotification notification = api.processNotification("{\"event\":\"payment_succeeded\"}", PROPS, callContext());
        assertRequest("processNotification", "{'notification':'{\\'event\\':\\'payment_succeeded\\'}'," + PROPS_JSON + "," + CALL_CONTEXT + "}");
        assertEquals(PAYMENT, notification.getKbPaymentId());
        assertEquals(202, notification.getStatus());
        assertEquals("accepted", notification.getEntity());
        assertEquals(Map.of("X-Reason", List.of("stored")), notification.getHeaders());
    }
}
