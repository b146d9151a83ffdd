"""notifyStateChanged (reference/killbill.md §B4): only a PENDING transaction; "SUCCESS" versus anything
else; the plugin is not called; the invoice follows only with the invoice control plugin."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest
import requests

from bridge.simulators.killbill import KillBillState
from bridge.simulators.server import BackgroundServer
from killbill_client import KillBillClient, NotFoundError, ServerError
from killbill_client.models import (
    Account,
    ExternalCharge,
    InvoicePayment,
    PaymentMethod,
    Tenant,
    TransactionStatus,
    TransactionType,
)
from tests.simulators.killbill.support import PLUGIN_NAME, StubPlugin, check_response


@pytest.fixture
def pending_invoice_payment(kb: KillBillClient, kb_state: KillBillState, account: Account,
                            stub_plugin: StubPlugin) -> InvoicePayment:
    kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
    stub_plugin.statuses.append("PENDING")
    items = kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("25.00"))])  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    [payment] = kb.invoice_payments.list_for_invoice(items[0].invoice_id)  # type: ignore[arg-type]
    assert payment.transactions[0].status == TransactionStatus.PENDING  # type: ignore[index]
    return payment


def _balance(kb: KillBillClient, payment: InvoicePayment) -> Decimal:
    return kb.invoices.get(payment.target_invoice_id).balance  # type: ignore[arg-type, return-value]


def test_success_with_the_control_plugin_pays_the_invoice(kb: KillBillClient, kb_state: KillBillState,
                                                          tenant: Tenant, pending_invoice_payment: InvoicePayment,
                                                          stub_plugin: StubPlugin) -> None:
    txn = pending_invoice_payment.transactions[0]  # type: ignore[index]
    calls_before = len(stub_plugin.calls)
    updated = kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, "SUCCESS",  # type: ignore[arg-type]
                                                           invoice_payment=True)
    settled = updated.transaction(txn.transaction_id)  # type: ignore[arg-type]
    assert (settled.status, settled.processed_amount) == (TransactionStatus.SUCCESS, Decimal("25.00"))
    assert _balance(kb, pending_invoice_payment) == Decimal("0")
    assert len(stub_plugin.calls) == calls_before  # the plugin was not asked
    events = [e["eventType"] for e in kb_state.event_log(tenant.tenant_id)]
    assert events[-2:] == ["PAYMENT_SUCCESS", "INVOICE_PAYMENT_SUCCESS"]


def test_success_without_the_control_plugin_leaves_the_invoice_owed(kb: KillBillClient,
                                                                    pending_invoice_payment: InvoicePayment) -> None:
    txn = pending_invoice_payment.transactions[0]  # type: ignore[index]
    updated = kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, "SUCCESS")  # type: ignore[arg-type]
    assert updated.transaction(txn.transaction_id).status == TransactionStatus.SUCCESS  # type: ignore[arg-type]
    assert _balance(kb, pending_invoice_payment) == Decimal("25.00")


@pytest.mark.parametrize("status", ["PAYMENT_FAILURE", "PLUGIN_FAILURE", "UNKNOWN", "PENDING"])
def test_anything_but_success_fails_the_transaction(kb: KillBillClient, pending_invoice_payment: InvoicePayment,
                                                   status: str) -> None:
    txn = pending_invoice_payment.transactions[0]  # type: ignore[index]
    updated = kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, status,  # type: ignore[arg-type]
                                                           invoice_payment=True)
    failed = updated.transaction(txn.transaction_id)  # type: ignore[arg-type]
    assert (failed.status, failed.processed_amount) == (TransactionStatus.PAYMENT_FAILURE, Decimal("0"))
    assert _balance(kb, pending_invoice_payment) == Decimal("25.00")
    assert kb.invoice_payments.get(txn.payment_id, with_attempts=True).payment_attempts[0].state_name == "ABORTED"  # type: ignore[arg-type, index]


def test_only_a_pending_transaction_can_be_notified(kb: KillBillClient, pending_invoice_payment: InvoicePayment) -> None:
    txn = pending_invoice_payment.transactions[0]  # type: ignore[index]
    kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, "SUCCESS")  # type: ignore[arg-type]
    for status in ("SUCCESS", "PAYMENT_FAILURE"):
        with pytest.raises(NotFoundError) as caught:
            kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, status)  # type: ignore[arg-type]
        assert caught.value.code == 7024
        assert caught.value.class_name == "org.killbill.billing.payment.api.PaymentApiException"


def test_injected_failures_change_nothing_then_stop(kb: KillBillClient, kb_state: KillBillState,
                                                    pending_invoice_payment: InvoicePayment) -> None:
    txn = pending_invoice_payment.transactions[0]  # type: ignore[index]
    kb_state.fail_next_notify_state_changed(2, status=503)
    for _ in range(2):
        with pytest.raises(ServerError) as caught:
            kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, "SUCCESS",  # type: ignore[arg-type]
                                                         invoice_payment=True)
        assert caught.value.status == 503
        assert kb.payments.get(txn.payment_id).transactions[0].status == TransactionStatus.PENDING  # type: ignore[arg-type, index]
    kb.payment_transactions.notify_state_changed(txn.transaction_id, txn.payment_id, "SUCCESS",  # type: ignore[arg-type]
                                                 invoice_payment=True)
    assert _balance(kb, pending_invoice_payment) == Decimal("0")


def test_required_fields_and_an_unknown_transaction(kb_server: BackgroundServer, tenant_keys: tuple[str, str],
                                                    pending_invoice_payment: InvoicePayment) -> None:
    headers = {"X-Killbill-ApiKey": tenant_keys[0], "X-Killbill-ApiSecret": tenant_keys[1],
               "X-Killbill-CreatedBy": "test"}
    txn = pending_invoice_payment.transactions[0]  # type: ignore[index]
    url = f"{kb_server.url}/1.0/kb/paymentTransactions/{txn.transaction_id}"
    no_status = requests.post(url, json={"paymentId": str(txn.payment_id)}, auth=("admin", "password"),
                              headers=headers, timeout=5)
    assert (no_status.status_code, no_status.json()["message"]) == (
        400, "PaymentTransactionJson status needs to be set")
    no_payment = requests.post(url, json={"status": "SUCCESS"}, auth=("admin", "password"), headers=headers,
                               timeout=5)
    assert no_payment.json()["message"] == "PaymentTransactionJson paymentId needs to be set"
    unknown = requests.post(f"{kb_server.url}/1.0/kb/paymentTransactions/{uuid4()}",
                            json={"paymentId": str(txn.payment_id), "status": "SUCCESS"},
                            auth=("admin", "password"), headers=headers, timeout=5)
    assert unknown.status_code == 400
    for response in (no_status, no_payment, unknown):
        check_response("POST", response)


def test_a_direct_pending_payment_resolved_by_notification(kb: KillBillClient, account: Account,
                                                           stub_plugin: StubPlugin) -> None:
    pm: PaymentMethod = kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
    stub_plugin.statuses.append("PENDING")
    payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("5"),  # type: ignore[arg-type]
                                 payment_method_id=pm.payment_method_id)
    txn = payment.transactions[0]  # type: ignore[index]
    assert payment.purchased_amount == Decimal("0.00")  # PENDING counts for nothing yet
    done = kb.payment_transactions.notify_state_changed(txn.transaction_id, payment.payment_id, "SUCCESS")  # type: ignore[arg-type]
    assert done.purchased_amount == Decimal("5.00")
