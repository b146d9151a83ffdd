"""Kill Bill events of the invoice flow (registered with the Kill Bill push processor), and the hook the
Hyperswitch webhook processor calls for pay-link payments.

* INVOICE_CREATION: a committed invoice with a balance, for an account that pays by link
  (:mod:`bridge.invoices.policy`) → its PayLink, the ``pay_link`` email and the reminder schedule.
* INVOICE_PAYMENT_FAILED: only a final failure (not PENDING, no retry scheduled) → PayLink, the
  ``payment_failed`` email ("pay here or update your card") and the reminder schedule, when the policy
  says so.
* INVOICE_PAYMENT_SUCCESS / INVOICE_ADJUSTMENT: the invoice re-read; at zero → the PayLink PAID/VOIDED
  (and its pending reminders stopped). A successful payment of an invoice the bridge asked the payor to
  pay, made with a payment method of the bridge (an automatic payment, or the link payment itself) → the
  payor's receipt, once per payment.

Every handler treats the notification as a hint and re-reads Kill Bill.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.invoices import PayLink
from bridge.invoices import lump_sums, notices, paylinks, policy, reminders
from bridge.invoices import resolvers as _resolvers  # noqa: F401  (registers the send-time context of emails)
from bridge.jobs import RetryLater
from bridge.payment_methods import store
from bridge.tenancy.env import TenantEnv
from bridge.webhooks.inbox import EventResult
from bridge.webhooks.killbill import Notification, register_handler
from killbill_client.models import Account, Invoice, InvoiceStatus

log = logging.getLogger(__name__)


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def _read(env: TenantEnv, invoice_id: UUID) -> tuple[Invoice, Account] | None:
    try:
        invoice = env.killbill.invoices.get(invoice_id)
        assert invoice.account_id is not None
        return invoice, env.killbill.accounts.get(invoice.account_id)
    except kb.NotFoundError:
        return None


def ask_to_pay(env: TenantEnv, *, kind: str, sequence: object, invoice: Invoice, account: Account,
               reason: str, fields: Mapping[str, str]) -> tuple[PayLink, bool, int]:
    """The invoice's pay link, its email and its reminders, all queued in one transaction (each once).
    ``fields``: the account's custom fields (:func:`bridge.invoices.policy.account_fields`).

    Returns the link, whether the email is new, and how many reminders were newly scheduled.
    """
    assert account.account_id is not None and invoice.invoice_id is not None
    link, _url = paylinks.open_pay_link(env, account.account_id, invoice.invoice_id, reason)
    due = policy.due_date(env, invoice, account, fields)
    context = notices.invoice_context(env, invoice, account, link.id, due, fields)
    with session_scope(env.sessions) as session:
        queued = notices.queue(session, env, kind=kind, sequence=sequence, account=account, invoice=invoice,
                               context=context)
        planned = reminders.schedule(session, env, link=link, invoice=invoice, account=account, due=due,
                                     context=context)
    return link, queued, len(planned)


def _asked(kind: str, link: PayLink, queued: bool, planned: int) -> str:
    return (f"pay link {link.id}; {kind} email {'queued' if queued else 'already queued'}"
            + (f"; {planned} reminder(s) scheduled" if planned else ""))


def invoice_creation(env: TenantEnv, notification: Notification) -> EventResult:
    invoice_id = _uuid(notification.object_id)
    if invoice_id is None:
        return EventResult.skipped("INVOICE_CREATION: the notification names no invoice")
    read = _read(env, invoice_id)
    if read is None:
        return EventResult.skipped(f"Kill Bill has no invoice {invoice_id} in this tenant")
    invoice, account = read
    if invoice.status is not InvoiceStatus.COMMITTED or (invoice.balance or 0) <= 0:
        return EventResult.skipped(f"invoice {invoice_id} is {invoice.status}, balance {invoice.balance}: "
                                   "nothing to pay")
    assert account.account_id is not None
    fields = policy.account_fields(env, account.account_id)  # one read for every decision below
    reason = policy.pay_by_link_reason(env, account, fields=fields)
    if reason is None:
        return EventResult.skipped(f"account {account.account_id} does not pay by link")
    link, queued, planned = ask_to_pay(env, kind=notices.PAY_LINK, sequence=1, invoice=invoice, account=account,
                                       reason=reason, fields=fields)
    return EventResult.processed(f"invoice {invoice_id} ({reason}): " + _asked(notices.PAY_LINK, link, queued,
                                                                               planned))


def _final_failure(payment: Any) -> tuple[bool, str]:
    transactions = payment.transactions or []
    if not transactions:
        return False, "the payment has no transaction"
    status = str(transactions[-1].status)
    if status in ("PENDING", "SUCCESS", "UNKNOWN"):
        return False, f"its last transaction is {status}"
    if any((a.state_name or "") == "SCHEDULED" for a in payment.payment_attempts or []):
        return False, "Kill Bill has a retry scheduled"
    return True, status


def invoice_payment_failed(env: TenantEnv, notification: Notification) -> EventResult:
    invoice_id = _uuid(notification.object_id)
    payment_id = _uuid(notification.metadata.get("paymentId"))
    if invoice_id is None or payment_id is None:
        return EventResult.skipped("INVOICE_PAYMENT_FAILED: the notification names no invoice or payment")
    try:
        payment = env.killbill.payments.get(payment_id, with_attempts=True)
    except kb.NotFoundError:
        return EventResult.skipped(f"Kill Bill has no payment {payment_id}")
    final, why = _final_failure(payment)
    if not final:
        return EventResult.skipped(f"payment {payment_id} is not a final failure: {why}")
    read = _read(env, invoice_id)
    if read is None:
        return EventResult.skipped(f"Kill Bill has no invoice {invoice_id} in this tenant")
    invoice, account = read
    if not paylinks.invoice_state(invoice).payable:
        return EventResult.skipped(f"invoice {invoice_id} has nothing left to pay")
    assert account.account_id is not None
    fields = policy.account_fields(env, account.account_id)
    reason = policy.pay_by_link_reason(env, account, after_failure=True, fields=fields)
    if reason is None:
        return EventResult.skipped(f"account {account.account_id} gets no link after a failed payment")
    link, queued, planned = ask_to_pay(env, kind=notices.PAYMENT_FAILED, sequence=payment_id, invoice=invoice,
                                       account=account, reason=reason, fields=fields)
    return EventResult.processed(f"payment {payment_id} failed ({why}): "
                                 + _asked(notices.PAYMENT_FAILED, link, queued, planned))


def invoice_settled(env: TenantEnv, notification: Notification) -> EventResult:
    invoice_id = _uuid(notification.object_id)
    if invoice_id is None:
        return EventResult.skipped(f"{notification.event_type}: the notification names no invoice")
    link = paylinks.find_for_invoice(env, invoice_id)
    if link is None:
        return EventResult.skipped(f"invoice {invoice_id} has no pay link")
    read = _read(env, invoice_id)
    if read is None:
        return EventResult.skipped(f"Kill Bill has no invoice {invoice_id} in this tenant")
    invoice, account = read
    link, now = paylinks.refresh(env, link, invoice)
    outcome = f"pay link {link.id} is {link.state.value} (invoice balance {now.balance})"
    # A payment, not a refund or chargeback of one (those are INVOICE_PAYMENT_SUCCESS too).
    if notification.event_type == "INVOICE_PAYMENT_SUCCESS" and \
            notification.metadata.get("invoicePaymentType") in (None, "ATTEMPT"):
        outcome += "; " + _receipt(env, link, invoice, account, _uuid(notification.metadata.get("paymentId")))
    return EventResult.processed(outcome)


def _receipt(env: TenantEnv, link: PayLink, invoice: Invoice, account: Account, payment_id: UUID | None) -> str:
    """Queue the receipt of a successful payment made with a payment method of the bridge."""
    if payment_id is None:
        return "no payment named: no receipt"
    try:
        payment = env.killbill.payments.get(payment_id)
    except kb.NotFoundError:
        return f"Kill Bill has no payment {payment_id}: no receipt"
    lump = lump_sums.one_receipt(env, payment.payment_external_key)
    if lump is not None:
        return f"payment {payment_id} is part of lump sum {lump.id}, whose one receipt lists it"
    paid = sum((t.processed_amount or Decimal(0) for t in payment.transactions or []
                if str(t.status) == "SUCCESS" and str(t.transaction_type) in ("PURCHASE", "CAPTURE")), Decimal(0))
    if paid <= 0:
        return f"payment {payment_id} has no successful charge: no receipt"
    ours = str(payment_id) == link.kb_payment_id or (
        payment.payment_method_id is not None and store.find(env, payment.payment_method_id) is not None)
    if not ours:
        return f"payment {payment_id} was not made through the bridge: no receipt"
    with session_scope(env.sessions) as session:
        queued = notices.queue_receipt(session, env, invoice=invoice, account=account, pay_link_id=link.id,
                                       kb_payment_id=payment_id, amount_paid=paid)
    return f"receipt of payment {payment_id} {'queued' if queued else 'already queued'}"


def on_hyperswitch_payment(env: TenantEnv, hs_payment_id: str) -> EventResult | None:
    """The Hyperswitch webhook hook: a pay-link payment is recorded; None for any other payment."""
    if not paylinks.is_pay_link_payment(hs_payment_id):
        return None
    try:
        link: PayLink | None = paylinks.record_payment(env, hs_payment_id)
        lump = lump_sums.record(env, hs_payment_id) if link is None else None
    except paylinks.RecordingInProgress as exc:
        raise RetryLater(str(exc)) from None
    if lump is not None:
        return EventResult.processed(f"lump sum {lump.id}: {lump.state.value}")
    if link is None:
        return EventResult.skipped(f"payment {hs_payment_id} names no pay link of this tenant")
    return EventResult.processed(f"pay link {link.id}: {link.state.value}"
                                 + (f", Kill Bill payment {link.kb_payment_id}" if link.kb_payment_id else ""))


for _event, _handler in (("INVOICE_CREATION", invoice_creation), ("INVOICE_PAYMENT_FAILED", invoice_payment_failed),
                         ("INVOICE_PAYMENT_SUCCESS", invoice_settled), ("INVOICE_ADJUSTMENT", invoice_settled)):
    register_handler(_event, _handler)
