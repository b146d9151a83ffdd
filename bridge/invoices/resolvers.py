"""Payor emails at send time: what they show is read when they go out, not when they were queued.

* The ``/pay/<token>`` link and, on reminders, the List-Unsubscribe URL: signed bearer URLs made for
  each send, never stored (the message keeps only the pay link's id and the account).
* A payment request (``pay_link``, ``payment_failed``, ``reminder``) re-reads its invoice in Kill Bill.
  Paid, voided or adjusted to zero: it is SKIPPED with the reason, and the invoice's other requests not
  sent yet are stopped (the pay link moves to PAID/VOIDED, :func:`bridge.invoices.paylinks.refresh`). Its
  pay link expired: SKIPPED. The payor no longer gets its channel (the account's custom field or the
  tenant's default changed): SKIPPED. Otherwise it shows the current balance (a partial payment since
  shows) and goes to the account's current address on its channel (email address, phone number).

A Kill Bill failure propagates: the send job retries with backoff.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import killbill_client as kb
from bridge.channels import choice
from bridge.db.invoices import Message, PayLink, PayLinkState
from bridge.invoices import messages, notices, paylinks, tokens
from bridge.invoices.email import UNSUBSCRIBABLE_KINDS
from bridge.tenancy.env import TenantEnv


def unsubscribe_url(env: TenantEnv, kb_account_id: str) -> str:
    token = tokens.signer_for(env).sign_unsubscribe(env.tenant_id, kb_account_id)
    return f"{env.public_url.rstrip('/')}/pay/unsubscribe/{token}"


def links(env: TenantEnv, message: Message, context: dict[str, Any]) -> dict[str, Any]:
    """The message's signed URLs: its ``/pay`` link and, on reminders, the unsubscribe link."""
    return _links(env, message, _pay_link(env, context))


def current_invoice(env: TenantEnv, message: Message, context: dict[str, Any]) -> dict[str, Any]:
    """A payment request's fresh balance and recipient; raises SkipMessage when it must not go out."""
    return _current_invoice(env, message, context, _pay_link(env, context))


def _pay_link(env: TenantEnv, context: dict[str, Any]) -> PayLink | None:
    link_id = context.get("pay_link_id")
    return paylinks.get(env, int(link_id)) if link_id is not None else None


def _links(env: TenantEnv, message: Message, link: PayLink | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if link is not None:
        values["pay_url"] = paylinks.pay_url(env, link)
    if message.kind in UNSUBSCRIBABLE_KINDS and message.kb_account_id:
        values["unsubscribe_url"] = unsubscribe_url(env, message.kb_account_id)
    return values


def _current_invoice(env: TenantEnv, message: Message, context: dict[str, Any],
                     link: PayLink | None) -> dict[str, Any]:
    link_id = context.get("pay_link_id")
    if message.kind not in notices.PAYMENT_REQUESTS or link_id is None:
        return {}
    if link is None:
        raise messages.SkipMessage(f"pay link {link_id} no longer exists")
    if link.state is not PayLinkState.OPEN:
        raise messages.SkipMessage(f"invoice {link.kb_invoice_id} is {link.state.value}")
    try:
        invoice = paylinks.read_invoice(env, link)
    except kb.NotFoundError:
        raise messages.SkipMessage(f"Kill Bill no longer has invoice {link.kb_invoice_id}") from None
    link, now = paylinks.refresh(env, link, invoice)
    if not now.payable:
        raise messages.SkipMessage(f"invoice {link.kb_invoice_id} is {now.state.value} "
                                   f"(balance {now.balance} {now.currency})")
    if env.now() >= link.expires_at:
        raise messages.SkipMessage(f"the pay link of invoice {link.kb_invoice_id} has expired")
    account = env.killbill.accounts.get(UUID(link.kb_account_id))
    if message.channel not in choice.for_account(env, account):
        raise messages.SkipMessage(f"the payor of account {link.kb_account_id} no longer gets {message.channel} "
                                   f"(tenant setting channels.default, account custom field {choice.OVERRIDE_FIELD})")
    return {"amount_due": notices.balance_due(invoice, account),
            messages.RECIPIENT: choice.address(message.channel, account)}


def resolve(env: TenantEnv, message: Message, context: dict[str, Any]) -> dict[str, Any]:
    """Both of the above, the pay link read once."""
    link = _pay_link(env, context)
    return {**_links(env, message, link), **_current_invoice(env, message, context, link)}


messages.register_context_resolver(resolve)
