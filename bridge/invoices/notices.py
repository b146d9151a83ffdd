"""What the invoice flow tells payors, and the send keys that make each message go out once.

Every payor message is about one Kill Bill invoice and is queued in the caller's transaction
(:func:`bridge.invoices.messages.queue_message`) under the send key ``<invoice>:<kind>:<sequence>``, once on
each channel the payor gets (:mod:`bridge.channels.choice`, chosen when the bridge first asks the payor to
pay, so an invoice's reminders follow its first message):

* ``pay_link:1`` — the invoice, with its ``/pay`` link;
* ``payment_failed:<Kill Bill payment>`` — an automatic payment failed for good: pay here or change card;
* ``reminder:<n>`` — the n-th reminder of the schedule (:mod:`bridge.invoices.reminders`);
* ``receipt:<Kill Bill payment>`` — thank you, per payment of an invoice the bridge asked the payor to pay.

The first three ask the payor to pay (``PAYMENT_REQUESTS``): once the invoice is paid, voided or adjusted
to zero, those not sent yet are skipped (:func:`stop_payment_requests`).

Two notices are about the account rather than one invoice (no ``kb_invoice_id``):

* ``<account>:account_pay_link:<link expiry>`` — "pay your open invoices": each with its balance, the total
  and the account page link (:mod:`bridge.invoices.lump_sums`), once per issued link, when an operator asks;
* ``<Hyperswitch payment>:lump_sum_receipt`` — the one receipt of a payment of several invoices at once,
  listing each invoice and the part it got (a lump sum over one invoice gets that invoice's ``receipt``).

A message's context holds what its templates show, formatted for the account's locale and the invoice's
currency; never the ``/pay`` URL (a bearer credential, made at send time by
:mod:`bridge.invoices.resolvers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bridge.channels import choice
from bridge.invoices import messages
from bridge.invoices.formatting import format_amount, format_date
from bridge.tenancy.env import TenantEnv
from killbill_client.models import Account, Invoice

PAY_LINK, PAYMENT_FAILED, REMINDER, RECEIPT = "pay_link", "payment_failed", "reminder", "receipt"
ACCOUNT_PAY_LINK, LUMP_SUM_RECEIPT = "account_pay_link", "lump_sum_receipt"
PAYMENT_REQUESTS = (PAY_LINK, PAYMENT_FAILED, REMINDER)
CHANNELS = "channels"  # the context key of the channels an invoice's messages go out on


def send_key(kb_invoice_id: Any, kind: str, sequence: Any) -> str:
    return f"{kb_invoice_id}:{kind}:{sequence}"


def _locale(account: Account) -> str:
    return account.locale or "en_US"


def _currency(invoice: Invoice, account: Account) -> str:
    return invoice.currency or account.currency or "USD"


def money(amount: Decimal | None, invoice: Invoice, account: Account) -> str | None:
    """An amount of this invoice as its payor reads it, e.g. ``$1,234.50`` or ``￥1,235``."""
    return None if amount is None else format_amount(amount, _currency(invoice, account), _locale(account))


def balance_due(invoice: Invoice, account: Account) -> str | None:
    """The invoice's current balance, formatted; None when nothing is left to pay."""
    balance = invoice.balance
    return money(balance, invoice, account) if balance is not None and balance > 0 else None


def invoice_context(env: TenantEnv, invoice: Invoice, account: Account, pay_link_id: int,
                    due: date | None = None, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What every payor message about this invoice shows (no link: see the module), and its ``channels``
    (``fields``: the account's custom fields, when read already: :func:`bridge.invoices.policy.account_fields`)."""
    locale = _locale(account)
    return {"pay_link_id": pay_link_id, "invoice_number": invoice.invoice_number,
            "invoice_id": str(invoice.invoice_id), "invoice_date": format_date(invoice.invoice_date, locale),
            "due_date": format_date(due, locale), "amount_due": balance_due(invoice, account),
            "currency": _currency(invoice, account), "account_name": account.name, "locale": locale,
            "brand_name": env.settings.email.brand_name,
            "can_save_card": env.settings.pay_by_link.offer_to_save_card,
            CHANNELS: list(choice.for_account(env, account, fields))}


def queue(session: Session, env: TenantEnv, *, kind: str, sequence: Any, account: Account, invoice: Invoice,
          context: dict[str, Any], run_at: datetime | None = None) -> bool:
    """Queue one payor message about ``invoice`` on each of its channels (at most once per kind, sequence and
    channel); True when any is new. The channels are the context's, else the account's now."""
    return _queue_on_channels(session, env, kind=kind, key=send_key(invoice.invoice_id, kind, sequence),
                              account=account, kb_invoice_id=str(invoice.invoice_id), context=context, run_at=run_at)


def _queue_on_channels(session: Session, env: TenantEnv, *, kind: str, key: str, account: Account,
                       kb_invoice_id: str | None, context: dict[str, Any], run_at: datetime | None = None) -> bool:
    context = dict(context)
    channels = context.pop(CHANNELS, None) or choice.for_account(env, account)
    queued = [messages.queue_message(
        session, kb_tenant_id=env.tenant_id, kind=kind, send_key=key, recipient=choice.address(channel, account),
        kb_account_id=str(account.account_id), kb_invoice_id=kb_invoice_id, context=context, run_at=run_at,
        channel=channel)
        for channel in channels]
    return any(message_id is not None for message_id in queued)


def queue_receipt(session: Session, env: TenantEnv, *, invoice: Invoice, account: Account, pay_link_id: int,
                  kb_payment_id: Any, amount_paid: Decimal) -> bool:
    """The receipt of one payment of the invoice (once per payment); ``invoice`` is read after the payment."""
    context = invoice_context(env, invoice, account, pay_link_id)
    context.update(amount_paid=money(amount_paid, invoice, account), remaining_due=context.pop("amount_due"))
    return queue(session, env, kind=RECEIPT, sequence=kb_payment_id, account=account, invoice=invoice,
                 context=context)


# -- about the account: several invoices --------------------------------------------------------------------
def _account_basics(env: TenantEnv, account: Account, currency: str | None) -> dict[str, Any]:
    return {"account_name": account.name, "locale": _locale(account), "brand_name": env.settings.email.brand_name,
            "currency": currency or account.currency or "USD"}


def open_invoices_context(env: TenantEnv, account: Account, invoices: list[Invoice]) -> dict[str, Any]:
    """What the account notice shows: each open invoice (oldest first) with its balance, and the total."""
    currency = account.currency or next((i.currency for i in invoices if i.currency), None)
    context = _account_basics(env, account, currency)
    total = sum((i.balance or Decimal(0) for i in invoices), Decimal(0))
    context.update(
        invoices=[{"invoice_number": i.invoice_number, "invoice_date": format_date(i.invoice_date, context["locale"]),
                   "amount_due": money(i.balance or Decimal(0), i, account)} for i in invoices],
        total_due=format_amount(total, context["currency"], context["locale"]))
    return context


def queue_account_pay_link(session: Session, env: TenantEnv, *, account: Account, account_link_id: int,
                           expires_at: datetime, invoices: list[Invoice]) -> bool:
    """"Pay your open invoices", on the account's channels, once per issued account link (its id and expiry:
    a link renewed after it ended is a new one); True when queued now, False when it already was."""
    context = {**open_invoices_context(env, account, invoices), "account_link_id": account_link_id}
    key = send_key(account.account_id, ACCOUNT_PAY_LINK, f"{account_link_id}.{int(expires_at.timestamp())}")
    return _queue_on_channels(session, env, kind=ACCOUNT_PAY_LINK, key=key, account=account, kb_invoice_id=None,
                              context=context)


@dataclass(frozen=True)
class Paid:
    """One invoice of a lump sum, read after recording, and what the payment put on it (major units)."""

    invoice: Invoice
    amount: Decimal


def queue_lump_sum_receipt(session: Session, env: TenantEnv, *, account: Account, hs_payment_id: str,
                           currency: str, parts: list[Paid], refunded: Decimal | None) -> bool:
    """The one receipt of a payment of several invoices (once per Hyperswitch payment): each invoice with the
    part paid and what it still owes, the total, and what was refunded because no invoice owed it any more."""
    context = _account_basics(env, account, currency)
    total = sum((part.amount for part in parts), Decimal(0))
    context.update(
        invoices=[{"invoice_number": p.invoice.invoice_number, "amount_paid": money(p.amount, p.invoice, account),
                   "remaining_due": balance_due(p.invoice, account)} for p in parts],
        amount_paid=format_amount(total, currency, context["locale"]),
        refunded=format_amount(refunded, currency, context["locale"]) if refunded else None)
    return _queue_on_channels(session, env, kind=LUMP_SUM_RECEIPT, key=f"{hs_payment_id}:{LUMP_SUM_RECEIPT}",
                              account=account, kb_invoice_id=None, context=context)


def stop_payment_requests(session: Session, env: TenantEnv, kb_invoice_id: Any, reason: str) -> int:
    """The invoice needs no paying any more: its requests not sent yet (reminders included) are skipped."""
    return messages.skip_pending(session, kb_tenant_id=env.tenant_id, kinds=PAYMENT_REQUESTS, reason=reason,
                                 kb_invoice_id=str(kb_invoice_id))
