"""The simulator calling a payment plugin's ``/plugin/v1`` the way Kill Bill does (reference/killbill.md §A),
against a stub sidecar that checks the X-Bridge-Signature."""

from __future__ import annotations

import socket
from decimal import Decimal
from uuid import UUID

import pytest

from bridge.simulators.killbill import KillBillState
from killbill_client import (
    BadRequestError,
    KillBillClient,
    PaymentDeclinedError,
    PaymentPluginFailureError,
    PaymentPluginTimeoutError,
    PaymentTransactionError,
    PaymentUnknownError,
)
from killbill_client.constants import AUTO_PAY_OFF, MANUAL_PAY
from killbill_client.models import (
    Account,
    ExternalCharge,
    Invoice,
    Payment,
    PaymentMethod,
    Tenant,
    TransactionStatus,
    TransactionType,
)
from tests.simulators.killbill.support import PLUGIN_NAME, StubPlugin


@pytest.fixture
def plugin_pm(kb: KillBillClient, account: Account, stub_plugin: StubPlugin) -> PaymentMethod:
    return kb.payment_methods.add(account.account_id, PLUGIN_NAME, external_key="card-1", is_default=True)  # type: ignore[arg-type]


def _charge(kb: KillBillClient, account: Account, amount: str, kb_state: KillBillState) -> Invoice:
    items = kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal(amount))])  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    return kb.invoices.get(items[0].invoice_id)  # type: ignore[arg-type]


def _events(kb_state: KillBillState, tenant: Tenant) -> list[str]:
    return [e["eventType"] for e in kb_state.event_log(tenant.tenant_id)]


def _outcome_payment(kb: KillBillClient, error: PaymentTransactionError) -> Payment:
    assert error.payment_id is not None
    return kb.payments.get(error.payment_id)


# -- the status table (§A3) ----------------------------------------------------------------------------
@pytest.mark.parametrize(("plugin_status", "kb_status", "error", "processed"), [
    ("PROCESSED", TransactionStatus.SUCCESS, None, Decimal("10.50")),
    ("PENDING", TransactionStatus.PENDING, None, Decimal("10.50")),
    ("ERROR", TransactionStatus.PAYMENT_FAILURE, PaymentDeclinedError, Decimal("0")),
    ("CANCELED", TransactionStatus.PLUGIN_FAILURE, PaymentPluginFailureError, Decimal("0")),
    ("UNDEFINED", TransactionStatus.UNKNOWN, PaymentUnknownError, Decimal("0")),
])
def test_each_plugin_status_becomes_kill_bills_transaction_status(
        kb: KillBillClient, kb_state: KillBillState, tenant: Tenant, account: Account, plugin_pm: PaymentMethod,
        stub_plugin: StubPlugin, plugin_status: str, kb_status: TransactionStatus, error: type | None,
        processed: Decimal) -> None:
    stub_plugin.statuses.append(plugin_status)
    if error is None:
        payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("10.50"))  # type: ignore[arg-type]
    else:
        with pytest.raises(error) as caught:
            kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("10.50"))  # type: ignore[arg-type]
        payment = _outcome_payment(kb, caught.value)
    txn = payment.transactions[0]  # type: ignore[index]
    assert (txn.status, txn.processed_amount) == (kb_status, processed)
    assert stub_plugin.last("purchasePayment")["kbTransactionId"] == str(txn.transaction_id)
    kb_state.wait_idle()
    event = [e for e in kb_state.event_log(tenant.tenant_id) if e["objectType"] == "PAYMENT"][-1]
    ok = kb_status in (TransactionStatus.SUCCESS, TransactionStatus.PENDING)
    assert event["eventType"] == ("PAYMENT_SUCCESS" if ok else "PAYMENT_FAILED")
    assert f'"status":"{kb_status.value}"' in event["metaData"]
    assert stub_plugin.signature_failures == 0


def test_the_plugin_receives_the_java_parameters(kb: KillBillClient, tenant: Tenant, account: Account,
                                                 plugin_pm: PaymentMethod, stub_plugin: StubPlugin) -> None:
    payment = kb.payments.create(account.account_id, TransactionType.AUTHORIZE, Decimal("10.50"),  # type: ignore[arg-type]
                                 plugin_properties={"return_url": "https://shop/return"}, reason="r1",
                                 comment="c1")
    call = stub_plugin.last("authorizePayment")
    assert call["kbAccountId"] == str(account.account_id) and call["kbPaymentId"] == str(payment.payment_id)
    assert call["kbPaymentMethodId"] == str(plugin_pm.payment_method_id)
    assert (call["amount"], call["currency"]) == ("10.50", "USD")  # a decimal string in major units
    assert call["properties"] == [{"key": "return_url", "value": "https://shop/return", "isUpdatable": False}]
    context = call["context"]
    assert context["tenantId"] == str(tenant.tenant_id) and context["accountId"] == str(account.account_id)
    assert (context["userName"], context["callOrigin"], context["userType"]) == (
        "hyperswitch-bridge", "EXTERNAL", "CUSTOMER")
    assert (context["reasonCode"], context["comments"]) == ("r1", "c1")
    assert context["createdDate"].endswith("Z")


def test_capture_refund_and_void_are_forwarded_after_a_refresh(kb: KillBillClient, account: Account,
                                                               plugin_pm: PaymentMethod,
                                                               stub_plugin: StubPlugin) -> None:
    auth = kb.payments.create(account.account_id, TransactionType.AUTHORIZE, Decimal("20"))  # type: ignore[arg-type]
    kb.payments.capture(auth.payment_id, Decimal("20"))  # type: ignore[arg-type]
    refunded = kb.payments.refund(auth.payment_id, Decimal("5"))  # type: ignore[arg-type]
    assert refunded.refunded_amount == Decimal("5.00")
    # (getPaymentMethodDetail: the client read the new method back with its plugin info.)
    assert stub_plugin.operations() == ["addPaymentMethod", "getPaymentMethodDetail", "authorizePayment",
                                        "getPaymentInfo", "capturePayment", "getPaymentInfo", "refundPayment"]
    second = kb.payments.create(account.account_id, TransactionType.AUTHORIZE, Decimal("7"))  # type: ignore[arg-type]
    kb.payments.void(second.payment_id)  # type: ignore[arg-type]
    void = stub_plugin.last("voidPayment")
    assert "amount" not in void and "currency" not in void  # voidPayment has no amount
    assert void["kbPaymentId"] == str(second.payment_id)


def test_plugin_timeout_answers_504_and_leaves_the_transaction_unknown(
        kb: KillBillClient, kb_state: KillBillState, tenant: Tenant, account: Account, plugin_pm: PaymentMethod,
        stub_plugin: StubPlugin) -> None:
    endpoint = kb_state.tenants[tenant.tenant_id].plugins[PLUGIN_NAME]  # type: ignore[index]
    endpoint.timeout = 0.3
    stub_plugin.delay = 0.8
    with pytest.raises(PaymentPluginTimeoutError) as caught:
        kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("4"))  # type: ignore[arg-type]
    assert caught.value.code == 7100
    [payment] = kb.payments.list_for_account(account.account_id)  # type: ignore[arg-type]
    assert payment.transactions[0].status == TransactionStatus.UNKNOWN  # type: ignore[index]


def test_a_plugin_exception_answers_400_and_leaves_the_transaction_unknown(
        kb: KillBillClient, account: Account, plugin_pm: PaymentMethod, stub_plugin: StubPlugin) -> None:
    stub_plugin.failure = (500, "HyperswitchUnavailable", "upstream 500")
    with pytest.raises(BadRequestError) as caught:
        kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("4"))  # type: ignore[arg-type]
    assert caught.value.code == 7199 and caught.value.message == "Plugin exception upstream 500"
    assert caught.value.cause_class_name == "org.killbill.billing.payment.plugin.api.PaymentPluginApiException"
    [payment] = kb.payments.list_for_account(account.account_id)  # type: ignore[arg-type]
    assert payment.transactions[0].status == TransactionStatus.UNKNOWN  # type: ignore[index]


def test_processed_amount_comes_from_the_plugin_and_garbage_is_an_exception(
        kb: KillBillClient, account: Account, plugin_pm: PaymentMethod, stub_plugin: StubPlugin) -> None:
    stub_plugin.overrides = {"amount": "9.5"}  # a partial purchase
    partial = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("10"))  # type: ignore[arg-type]
    assert partial.transactions[0].processed_amount == Decimal("9.5")  # type: ignore[index]
    assert partial.purchased_amount == Decimal("9.50")
    stub_plugin.overrides = {"amount": "ten"}
    with pytest.raises(BadRequestError, match="unreadable PaymentTransactionInfoPlugin amount"):
        kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("10"))  # type: ignore[arg-type]


def test_an_unreachable_sidecar_is_a_plugin_failure(kb: KillBillClient, kb_state: KillBillState, tenant: Tenant,
                                                    account: Account, plugin_pm: PaymentMethod) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    kb_state.configure_plugin(tenant.tenant_id, PLUGIN_NAME, f"http://127.0.0.1:{closed_port}", "x")  # type: ignore[arg-type]
    with pytest.raises(PaymentPluginFailureError) as caught:
        kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("4"))  # type: ignore[arg-type]
    txn = _outcome_payment(kb, caught.value).transactions[0]  # type: ignore[index]
    assert txn.status == TransactionStatus.PLUGIN_FAILURE and "ConnectionError" in (txn.gateway_error_msg or "")


def test_a_wrong_shared_secret_is_rejected_by_the_sidecar(kb: KillBillClient, kb_state: KillBillState,
                                                          tenant: Tenant, account: Account, plugin_pm: PaymentMethod,
                                                          stub_plugin: StubPlugin) -> None:
    url = kb_state.tenants[tenant.tenant_id].plugins[PLUGIN_NAME].url  # type: ignore[index]
    kb_state.configure_plugin(tenant.tenant_id, PLUGIN_NAME, url, "not-the-shared-secret")  # type: ignore[arg-type]
    with pytest.raises(BadRequestError, match="Plugin exception"):
        kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("4"))  # type: ignore[arg-type]
    assert stub_plugin.signature_failures == 1
    assert kb_state.plugin_calls("purchasePayment")[-1]["errorType"] == "SignatureError"


def test_completing_a_pending_purchase_recalls_the_plugin_with_the_same_transaction(
        kb: KillBillClient, account: Account, plugin_pm: PaymentMethod, stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.extend(["PENDING", "PROCESSED"])
    payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("12"))  # type: ignore[arg-type]
    pending = payment.transactions[0]  # type: ignore[index]
    kb.payments.complete(payment.payment_id, transaction_id=pending.transaction_id)  # type: ignore[arg-type]
    completed = kb.payments.get(payment.payment_id)  # type: ignore[arg-type]
    assert len(completed.transactions or []) == 1
    assert completed.transactions[0].status == TransactionStatus.SUCCESS  # type: ignore[index]
    calls = [c for c in stub_plugin.calls if c["operation"] == "purchasePayment"]
    assert [c["body"]["kbTransactionId"] for c in calls] == [str(pending.transaction_id)] * 2


# -- invoices ------------------------------------------------------------------------------------------
def test_committed_invoice_is_auto_paid_with_ipcd_invoice_id(kb: KillBillClient, kb_state: KillBillState,
                                                             tenant: Tenant, account: Account,
                                                             plugin_pm: PaymentMethod,
                                                             stub_plugin: StubPlugin) -> None:
    invoice = _charge(kb, account, "49.90", kb_state)
    call = stub_plugin.last("purchasePayment")
    assert call["amount"] == "49.90"
    assert {"key": "IPCD_INVOICE_ID", "value": str(invoice.invoice_id), "isUpdatable": False} in call["properties"]
    assert (call["context"]["callOrigin"], call["context"]["userType"]) == ("INTERNAL", "SYSTEM")
    assert invoice.balance == Decimal("0")
    assert _events(kb_state, tenant)[-3:] == ["INVOICE_CREATION", "PAYMENT_SUCCESS", "INVOICE_PAYMENT_SUCCESS"]


@pytest.mark.parametrize("tag", [AUTO_PAY_OFF, MANUAL_PAY])
def test_auto_pay_off_accounts_are_not_charged(kb: KillBillClient, kb_state: KillBillState, account: Account,
                                              plugin_pm: PaymentMethod, stub_plugin: StubPlugin, tag: UUID) -> None:
    kb.tags.add_to_account(account.account_id, [tag])  # type: ignore[arg-type]
    invoice = _charge(kb, account, "15", kb_state)
    assert "purchasePayment" not in stub_plugin.operations()
    assert invoice.balance == Decimal("15")
    if tag == AUTO_PAY_OFF:  # the parked payment runs once the tag goes
        kb.tags.remove_from_account(account.account_id, [AUTO_PAY_OFF])  # type: ignore[arg-type]
        assert kb_state.wait_idle()
        assert kb.invoices.get(invoice.invoice_id).balance == Decimal("0")  # type: ignore[arg-type]


def test_a_declined_auto_pay_keeps_the_balance_and_reports_failure(kb: KillBillClient, kb_state: KillBillState,
                                                                   tenant: Tenant, account: Account,
                                                                   plugin_pm: PaymentMethod,
                                                                   stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("ERROR")
    invoice = _charge(kb, account, "15", kb_state)
    assert invoice.balance == Decimal("15")
    [payment] = kb.invoice_payments.list_for_invoice(invoice.invoice_id, with_attempts=True)  # type: ignore[arg-type]
    txn = payment.transactions[0]  # type: ignore[index]
    assert (txn.status, txn.gateway_error_code, txn.gateway_error_msg) == (
        TransactionStatus.PAYMENT_FAILURE, "card_declined", "Your card was declined.")
    # An automatic payment's decline is retried (org.killbill.payment.retry.days), as on a real Kill Bill.
    assert [a.state_name for a in payment.payment_attempts] == ["RETRIED", "SCHEDULED"]  # type: ignore[union-attr]
    assert _events(kb_state, tenant)[-2:] == ["PAYMENT_FAILED", "INVOICE_PAYMENT_FAILED"]


def test_invoice_payment_with_hs_payment_id_and_a_declined_one_still_answers_201(
        kb: KillBillClient, kb_state: KillBillState, account: Account, stub_plugin: StubPlugin) -> None:
    pm = kb.payment_methods.add(account.account_id, PLUGIN_NAME)  # type: ignore[arg-type]  # not the default
    invoice = _charge(kb, account, "30", kb_state)
    paid = kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id,  # type: ignore[arg-type]
                                           payment_method_id=pm.payment_method_id,
                                           plugin_properties={"hsPaymentId": "pay_link_42"})
    assert paid is not None and paid.purchased_amount == Decimal("30.00")
    properties = stub_plugin.last("purchasePayment")["properties"]
    assert properties[0] == {"key": "hsPaymentId", "value": "pay_link_42", "isUpdatable": False}
    assert properties[1]["key"] == "IPCD_INVOICE_ID"
    second = _charge(kb, account, "8", kb_state)
    stub_plugin.statuses.append("ERROR")
    declined = kb.invoice_payments.pay_invoice(second.invoice_id, account.account_id,  # type: ignore[arg-type]
                                               payment_method_id=pm.payment_method_id)
    assert declined is not None
    assert declined.transactions[0].status == TransactionStatus.PAYMENT_FAILURE  # type: ignore[index]
    assert kb.invoices.get(second.invoice_id).balance == Decimal("8")  # type: ignore[arg-type]


def test_with_plugin_info_calls_get_payment_info_and_settles_on_the_fly(
        kb: KillBillClient, kb_state: KillBillState, account: Account, plugin_pm: PaymentMethod,
        stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("PENDING")
    invoice = _charge(kb, account, "21", kb_state)
    [payment] = kb.invoice_payments.list_for_invoice(invoice.invoice_id)  # type: ignore[arg-type]
    assert invoice.balance == Decimal("21")
    plain = kb.payments.get(payment.payment_id)  # type: ignore[arg-type]
    assert plain.transactions[0].properties is None and "getPaymentInfo" not in stub_plugin.operations()  # type: ignore[index]
    stub_plugin.settle(payment.transactions[0].transaction_id, "PROCESSED")  # type: ignore[index]
    refreshed = kb.payments.get(payment.payment_id, with_plugin_info=True)  # type: ignore[arg-type]
    txn = refreshed.transactions[0]  # type: ignore[index]
    assert txn.status == TransactionStatus.SUCCESS
    assert txn.first_payment_reference_id == "pay_" + str(txn.transaction_id)[:8]
    assert txn.property("hsStatus") == "processed"
    assert kb.invoices.get(invoice.invoice_id).balance == Decimal("0")  # type: ignore[arg-type]
