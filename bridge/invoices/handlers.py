"""Kill Bill events of the invoice flow (registered with the Kill Bill push processor), and the hook the
Hyperswitch webhook processor calls for pay-link payments.

* INVOICE_CREATION: a committed invoice with a balance, for an account that pays by link
  (:mod:`bridge.invoices.policy`) → its PayLink and the ``pay_link`` email.
* INVOICE_PAYMENT_FAILED: only a final failure (not PENDING, no retry scheduled) → PayLink and the
  ``payment_failed`` email, when the policy says so.
* INVOICE_PAYMENT_SUCCESS / INVOICE_ADJUSTMENT: the invoice re-read; at zero → the PayLink PAID/VOIDED.

Every handler treats the notification as a hint and re-reads Kill Bill.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.invoices import PayLink
from bridge.invoices import messages, paylinks, policy
from bridge.invoices.formatting import format_amount, format_date
from bridge.invoices.paylinks import pay_url
from bridge.jobs import RetryLater
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


def email_context(env: TenantEnv, invoice: Invoice, account: Account, link: PayLink) -> dict[str, Any]:
    """What a payor email shows; the /pay URL itself is made at send time (``_pay_url``), never stored."""
    locale = account.locale or "en_US"
    currency = invoice.currency or account.currency or "USD"
    return {"pay_link_id": link.id, "invoice_number": invoice.invoice_number, "invoice_id": str(invoice.invoice_id),
            "invoice_date": format_date(invoice.invoice_date, locale),
            "amount_due": format_amount(invoice.balance, currency, locale) if invoice.balance is not None else None,
            "currency": currency, "account_name": account.name, "locale": locale,
            "brand_name": env.settings.email.brand_name}


def _pay_url(env: TenantEnv, message: Any, context: dict[str, Any]) -> dict[str, Any]:
    link_id = context.get("pay_link_id")
    if link_id is None:
        return {}
    with session_scope(env.sessions) as session:
        link = session.get(PayLink, link_id)
    return {"pay_url": pay_url(env, link)} if link is not None and link.kb_tenant_id == env.tenant_id else {}


messages.register_context_resolver(_pay_url)


def queue_email(env: TenantEnv, *, kind: str, send_key: str, account: Account, invoice: Invoice,
                context: dict[str, Any]) -> bool:
    """Queue one payor email (at most once per ``send_key``)."""
    with session_scope(env.sessions) as session:
        queued = messages.queue_message(session, kb_tenant_id=env.tenant_id, kind=kind, send_key=send_key,
                                        recipient=account.email, kb_account_id=str(account.account_id),
                                        kb_invoice_id=str(invoice.invoice_id), context=context)
    return queued is not None


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
    reason = policy.pay_by_link_reason(env, account)
    if reason is None:
        return EventResult.skipped(f"account {account.account_id} does not pay by link")
    link, _url = paylinks.open_pay_link(env, account.account_id, invoice_id, reason)  # type: ignore[arg-type]
    queued = queue_email(env, kind="pay_link", send_key=f"{invoice_id}:pay_link:1", account=account,
                         invoice=invoice, context=email_context(env, invoice, account, link))
    return EventResult.processed(f"pay link {link.id} for invoice {invoice_id} ({reason})"
                                 + ("; pay_link email queued" if queued else "; pay_link email already queued"))


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
    reason = policy.pay_by_link_reason(env, account, after_failure=True)
    if reason is None:
        return EventResult.skipped(f"account {account.account_id} gets no link after a failed payment")
    link, _url = paylinks.open_pay_link(env, account.account_id, invoice_id, reason)  # type: ignore[arg-type]
    queued = queue_email(env, kind="payment_failed", send_key=f"{invoice_id}:payment_failed:{payment_id}",
                         account=account, invoice=invoice, context=email_context(env, invoice, account, link))
    return EventResult.processed(f"payment {payment_id} failed ({why}): pay link {link.id}"
                                 + ("; payment_failed email queued" if queued else "; email already queued"))


def invoice_settled(env: TenantEnv, notification: Notification) -> EventResult:
    invoice_id = _uuid(notification.object_id)
    if invoice_id is None:
        return EventResult.skipped(f"{notification.event_type}: the notification names no invoice")
    link = paylinks.find_for_invoice(env, invoice_id)
    if link is None:
        return EventResult.skipped(f"invoice {invoice_id} has no pay link")
    try:
        link, now = paylinks.refresh(env, link)
    except kb.NotFoundError:
        return EventResult.skipped(f"Kill Bill has no invoice {invoice_id} in this tenant")
    return EventResult.processed(f"pay link {link.id} is {link.state.value} (invoice balance {now.balance})")


def on_hyperswitch_payment(env: TenantEnv, hs_payment_id: str) -> EventResult | None:
    """The Hyperswitch webhook hook: a pay-link payment is recorded; None for any other payment."""
    if not paylinks.is_pay_link_payment(hs_payment_id):
        return None
    try:
        link: PayLink | None = paylinks.record_payment(env, hs_payment_id)
    except paylinks.RecordingInProgress as exc:
        raise RetryLater(str(exc)) from None
    if link is None:
        return EventResult.skipped(f"payment {hs_payment_id} names no pay link of this tenant")
    return EventResult.processed(f"pay link {link.id}: {link.state.value}"
                                 + (f", Kill Bill payment {link.kb_payment_id}" if link.kb_payment_id else ""))


for _event, _handler in (("INVOICE_CREATION", invoice_creation), ("INVOICE_PAYMENT_FAILED", invoice_payment_failed),
                         ("INVOICE_PAYMENT_SUCCESS", invoice_settled), ("INVOICE_ADJUSTMENT", invoice_settled)):
    register_handler(_event, _handler)
