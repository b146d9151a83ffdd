"""Payments, invoice payments, chargebacks and notifyStateChanged, client ⇄ simulator over HTTP
(``__EXTERNAL_PAYMENT__``, Kill Bill's built-in plugin, answers PROCESSED without a sidecar)."""

from __future__ import annotations

import time
from decimal import Decimal
from uuid import uuid4

import pytest

from killbill_client import BadRequestError, KillBillClient, NotFoundError
from killbill_client.constants import (
    EXTERNAL_PAYMENT_PLUGIN,
    INVOICE_PAYMENT_CONTROL_PLUGIN,
)
from killbill_client.models import (
    Account,
    ExternalCharge,
    PaymentMethod,
    TransactionStatus,
    TransactionType,
)


@pytest.fixture
def external_pm(kb: KillBillClient, account: Account) -> PaymentMethod:
    return kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # type: ignore[arg-type]


def _invoice(kb: KillBillClient, account: Account, *amounts: str):  # type: ignore[no-untyped-def]
    items = kb.invoices.create_external_charges(account.account_id,  # type: ignore[arg-type]
                                                [ExternalCharge(amount=Decimal(a), description=f"charge {a}")
                                                 for a in amounts], auto_commit=False)
    return kb.invoices.get(items[0].invoice_id)  # type: ignore[arg-type]


def test_authorize_capture_refund_amounts(kb: KillBillClient, account: Account, external_pm: PaymentMethod) -> None:
    payment = kb.payments.create(account.account_id, TransactionType.AUTHORIZE, Decimal("100.00"),  # type: ignore[arg-type]
                                 payment_external_key="order-1", transaction_external_key="auth-1")
    assert payment.payment_external_key == "order-1"
    assert payment.auth_amount == Decimal("100.00") and payment.currency == "USD"
    captured = kb.payments.capture(payment.payment_id, Decimal("60.00"))  # type: ignore[arg-type]
    captured = kb.payments.capture(payment.payment_id, Decimal("40.00"))  # type: ignore[arg-type]
    assert captured.captured_amount == Decimal("100.00")
    refunded = kb.payments.refund(payment.payment_id, Decimal("25.50"))  # type: ignore[arg-type]
    assert refunded.refunded_amount == Decimal("25.50")
    assert [t.transaction_type for t in refunded.transactions or []] == [
        TransactionType.AUTHORIZE, TransactionType.CAPTURE, TransactionType.CAPTURE, TransactionType.REFUND]
    assert all(t.status == TransactionStatus.SUCCESS for t in refunded.transactions or [])


def test_void_cancels_the_authorization(kb: KillBillClient, account: Account, external_pm: PaymentMethod) -> None:
    payment = kb.payments.create(account.account_id, TransactionType.AUTHORIZE, Decimal("10"))  # type: ignore[arg-type]
    kb.payments.void(payment.payment_id, transaction_external_key="void-1")  # type: ignore[arg-type]
    voided = kb.payments.get(payment.payment_id)  # type: ignore[arg-type]
    assert voided.auth_amount == Decimal("0.00")
    assert voided.last_transaction.transaction_type == TransactionType.VOID  # type: ignore[union-attr]
    with pytest.raises(BadRequestError) as caught:  # nothing left to capture
        kb.payments.capture(payment.payment_id, Decimal("10"))  # type: ignore[arg-type]
    assert caught.value.code == 7032


def test_account_payments_and_transaction_lookup(kb: KillBillClient, account: Account,
                                                 external_pm: PaymentMethod) -> None:
    purchase = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("5.00"))  # type: ignore[arg-type]
    txn = purchase.transactions[0]  # type: ignore[index]
    assert kb.payment_transactions.get_payment(txn.transaction_id).payment_id == purchase.payment_id  # type: ignore[arg-type]
    listed = kb.payments.list_for_account(account.account_id, with_attempts=True)  # type: ignore[arg-type]
    assert [p.payment_id for p in listed] == [purchase.payment_id]
    assert listed[0].purchased_amount == Decimal("5.00")
    assert [p.payment_id for p in kb.payments.iterate(page_size=1)] == [purchase.payment_id]


def test_pay_invoice_with_properties_reduces_the_balance(kb: KillBillClient, account: Account,
                                                        external_pm: PaymentMethod, kb_state) -> None:  # type: ignore[no-untyped-def]
    invoice = _invoice(kb, account, "30.00", "20.00")
    assert invoice.status == "DRAFT" and invoice.balance == Decimal("0")
    kb.invoices.commit(invoice.invoice_id)  # type: ignore[arg-type]
    assert kb_state.wait_idle(timeout=30)  # Kill Bill auto-pays on its bus, after answering the commit
    # The external payment method is the default, so auto-pay already ran: nothing left to pay.
    assert kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id) is None  # type: ignore[arg-type]
    assert kb.invoices.get(invoice.invoice_id).balance == Decimal("0.00")  # type: ignore[arg-type]
    payments = kb.invoice_payments.list_for_invoice(invoice.invoice_id, with_attempts=True)  # type: ignore[arg-type]
    assert len(payments) == 1 and payments[0].target_invoice_id == invoice.invoice_id
    attempt = payments[0].payment_attempts[0]  # type: ignore[index]
    assert attempt.state_name == "SUCCESS" and attempt.plugin_name == INVOICE_PAYMENT_CONTROL_PLUGIN
    assert {p.key for p in attempt.plugin_properties or []} == {"IPCD_INVOICE_ID"}


def test_partial_api_payment_then_overpayment_is_refused(kb: KillBillClient, account: Account) -> None:
    invoice = _invoice(kb, account, "50.00")
    kb.invoices.commit(invoice.invoice_id)  # type: ignore[arg-type]
    paid = kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id, amount=Decimal("20.00"),  # type: ignore[arg-type]
                                           external_payment=True, plugin_properties={"hsPaymentId": "pay_abc"})
    assert paid is not None and paid.purchased_amount == Decimal("20.00")
    assert kb.invoices.get(invoice.invoice_id).balance == Decimal("30.00")  # type: ignore[arg-type]
    with pytest.raises(BadRequestError) as caught:
        kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id, amount=Decimal("31"),  # type: ignore[arg-type]
                                        external_payment=True)
    assert caught.value.code == 7199 and "invoice balance is = '30.00'" in caught.value.message
    unpaid = kb.invoices.list_for_account(account.account_id, unpaid_only=True)  # type: ignore[arg-type]
    assert [i.invoice_id for i in unpaid] == [invoice.invoice_id]


def test_refund_with_item_adjustment_keeps_the_invoice_paid(kb: KillBillClient, account: Account,
                                                            external_pm: PaymentMethod) -> None:
    items = kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("40"))])  # type: ignore[arg-type]
    invoice_id = items[0].invoice_id
    payment = _wait_paid(kb, invoice_id)
    refunded = kb.invoice_payments.refund(payment.payment_id, Decimal("15"), is_adjusted=True,  # type: ignore[arg-type]
                                          adjustments={items[0].invoice_item_id: Decimal("15")})  # type: ignore[dict-item]
    assert refunded.refunded_amount == Decimal("15.00")
    invoice = kb.invoices.get(invoice_id)  # type: ignore[arg-type]
    assert invoice.balance == Decimal("0") and invoice.amount == Decimal("25")
    assert invoice.refund_adj == Decimal("-15")
    assert [i.item_type for i in invoice.items or []] == ["EXTERNAL_CHARGE", "ITEM_ADJ"]
    plain = kb.invoice_payments.refund(payment.payment_id, Decimal("5"))  # type: ignore[arg-type]
    assert plain.refunded_amount == Decimal("20.00")
    assert kb.invoices.get(invoice_id).balance == Decimal("5")  # type: ignore[arg-type]


def _wait_paid(kb: KillBillClient, invoice_id):  # type: ignore[no-untyped-def]
    """Auto-pay runs on Kill Bill's bus, after the external charge call returned (slow on a loaded machine)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        payments = kb.invoice_payments.list_for_invoice(invoice_id)
        if payments and payments[0].purchased_amount:
            return payments[0]
        time.sleep(0.02)
    raise AssertionError("the invoice was not auto-paid")


def test_invoice_chargeback_and_reversal_move_the_balance(kb: KillBillClient, account: Account,
                                                          external_pm: PaymentMethod) -> None:
    items = kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("80"))])  # type: ignore[arg-type]
    payment = _wait_paid(kb, items[0].invoice_id)
    charged_back = kb.invoice_payments.chargeback(payment.payment_id, Decimal("80"),  # type: ignore[arg-type]
                                                  transaction_external_key="cb-1")
    assert charged_back.purchased_amount == Decimal("0.00")
    assert kb.invoices.get(items[0].invoice_id).balance == Decimal("80")  # type: ignore[arg-type]
    reversed_ = kb.invoice_payments.chargeback_reversal(payment.payment_id, "cb-1")  # type: ignore[arg-type]
    assert reversed_.purchased_amount == Decimal("80.00")
    last = reversed_.last_transaction
    assert last is not None and last.transaction_type == TransactionType.CHARGEBACK
    assert last.status == TransactionStatus.PAYMENT_FAILURE and last.amount is None
    assert kb.invoices.get(items[0].invoice_id).balance == Decimal("0")  # type: ignore[arg-type]


def test_payment_chargeback_reversal_despite_kill_bills_402(kb: KillBillClient, account: Account,
                                                            external_pm: PaymentMethod) -> None:
    payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("9.99"))  # type: ignore[arg-type]
    charged = kb.payments.chargeback(payment.payment_id, Decimal("9.99"), transaction_external_key="cb-9")  # type: ignore[arg-type]
    assert charged.purchased_amount == Decimal("0.00")
    with pytest.raises(BadRequestError) as caught:  # no refund after a chargeback
        kb.payments.refund(payment.payment_id, Decimal("1"))  # type: ignore[arg-type]
    assert caught.value.code == 7032
    restored = kb.payments.chargeback_reversal(payment.payment_id, "cb-9")  # type: ignore[arg-type]
    assert restored.purchased_amount == Decimal("9.99")
    assert kb.payments.refund(payment.payment_id, Decimal("1")).refunded_amount == Decimal("1.00")  # type: ignore[arg-type]


def test_notify_state_changed_refuses_a_settled_transaction(kb: KillBillClient, account: Account,
                                                           external_pm: PaymentMethod) -> None:
    payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("3"))  # type: ignore[arg-type]
    txn = payment.transactions[0]  # type: ignore[index]
    with pytest.raises(NotFoundError) as caught:
        kb.payment_transactions.notify_state_changed(txn.transaction_id, payment.payment_id, "SUCCESS")  # type: ignore[arg-type]
    assert caught.value.code == 7024
    assert caught.value.message == f"Payment {payment.payment_id} did not succeed"


def test_unknown_payment_is_not_found(kb: KillBillClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        kb.payments.get(uuid4())
    assert caught.value.code == 7020
