"""The invoice payment flow: pay-by-link records for Kill Bill invoices, and every message sent to payors.

A ``PayLink`` is the bridge's side of one invoice that a payor pays by hand: the ``/pay/<token>`` page
(the token is signed and names the link), the Hyperswitch payment link currently offered for it, and
whether it was recorded in Kill Bill. A ``Message`` is one notification to a payor on one channel (email,
SMS, WhatsApp); its ``send_key`` (invoice, kind, sequence) and channel make sending at most once. A
``ReminderOptOut`` is a payor's "no more reminders" (List-Unsubscribe), per Kill Bill account.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.base import Base, created_at, intpk, updated_at


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class PayLinkState(enum.StrEnum):
    OPEN = "open"  # the payor may pay
    PAID = "paid"  # the balance was paid (through the link or otherwise)
    VOIDED = "voided"  # the invoice was voided or adjusted to zero
    EXPIRED = "expired"  # the link's validity ended (the invoice itself may still be open)


class PayLink(Base):
    __tablename__ = "pay_links"
    __table_args__ = (UniqueConstraint("kb_tenant_id", "kb_invoice_id"),
                      Index("ix_pay_links_account", "kb_tenant_id", "kb_account_id"))

    id: Mapped[intpk]
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    kb_account_id: Mapped[str] = mapped_column(String(36))
    kb_invoice_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[PayLinkState] = mapped_column(_enum(PayLinkState, 16), default=PayLinkState.OPEN)
    reason: Mapped[str | None] = mapped_column(String(64))  # why pay-by-link: manual_pay, no_mandate, failed_payment
    expires_at: Mapped[datetime]
    # The Hyperswitch payment link offered now (reused while active), and what it was created for.
    hs_payment_id: Mapped[str | None] = mapped_column(String(64))
    hs_link_url: Mapped[str | None] = mapped_column(Text)
    hs_link_expires_at: Mapped[datetime | None]
    amount_minor: Mapped[int | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    # Once the payment is recorded against the invoice in Kill Bill (exactly once).
    kb_payment_id: Mapped[str | None] = mapped_column(String(36))
    paid_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # its job retries; dead after the attempt limit
    SKIPPED = "skipped"  # not sent, on purpose (no address, invoice paid meanwhile), with the reason


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("kb_tenant_id", "channel", "send_key"),
                      Index("ix_messages_invoice", "kb_tenant_id", "kb_invoice_id"))

    id: Mapped[intpk]
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    kb_account_id: Mapped[str | None] = mapped_column(String(36))
    kb_invoice_id: Mapped[str | None] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(16), default="email")  # email, sms, whatsapp (bridge.channels)
    kind: Mapped[str] = mapped_column(String(32))  # pay_link, reminder, receipt, payment_failed
    send_key: Mapped[str] = mapped_column(String(200))  # e.g. "<invoice>:reminder:2": sent at most once
    recipient: Mapped[str | None] = mapped_column(String(320))  # an email address or an E.164 number
    subject: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus, 16), default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))  # Message-ID header, or the provider's sid
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the template needs, no secrets
    sent_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class ReminderOptOut(Base):
    """The payor of this account asked for no more payment reminders (transactional emails still go out)."""

    __tablename__ = "reminder_opt_outs"

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kb_account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # one_click (RFC 8058: the mailbox's POST) or page
    created_at: Mapped[created_at]


# -- several invoices at once, part payments (bridge.invoices.lump_sums) -------------------------------------
class AccountPayLink(Base):
    """The account's ``/pay/account/<token>`` page: every open invoice of a Kill Bill account, paid together.

    Its row is also the account's lock while a payor starts a payment (no two live links for one invoice).
    """

    __tablename__ = "account_pay_links"
    __table_args__ = (UniqueConstraint("kb_tenant_id", "kb_account_id"),)

    id: Mapped[intpk]
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    kb_account_id: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[datetime]  # tokens issued now are valid until then
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class LumpSumState(enum.StrEnum):
    OPEN = "open"  # its Hyperswitch payment link is offered (or being paid, or paid and not recorded yet)
    RECORDED = "recorded"  # allocated to the invoices in Kill Bill; the excess, if any, refunded
    CANCELLED = "cancelled"  # replaced, failed or expired before anyone paid it


class LumpSum(Base):
    """One Hyperswitch payment toward chosen invoices of one account: several whole balances, or part of one.

    Each chosen invoice is an :class:`Allocation`; recording pays each in Kill Bill as its own invoice
    payment linked to this one Hyperswitch payment (the plugin's ``hsPaymentId`` with ``hsPaymentPart``).
    """

    __tablename__ = "lump_sums"
    __table_args__ = (UniqueConstraint("kb_tenant_id", "hs_payment_id"),
                      Index("ix_lump_sums_account", "kb_tenant_id", "kb_account_id", "state"))

    id: Mapped[intpk]
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    kb_account_id: Mapped[str] = mapped_column(String(36))
    part: Mapped[bool] = mapped_column(default=False)  # part of one invoice's balance
    state: Mapped[LumpSumState] = mapped_column(_enum(LumpSumState, 16), default=LumpSumState.OPEN)
    hs_payment_id: Mapped[str] = mapped_column(String(64))
    hs_link_url: Mapped[str] = mapped_column(Text)
    hs_link_expires_at: Mapped[datetime]
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # A recorder's claim (exactly once across the return page, the webhook and crashed processes).
    recording_since: Mapped[datetime | None]
    # What Hyperswitch received beyond what the invoices still owed at recording time, refunded.
    excess_minor: Mapped[int | None]
    hs_refund_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class Allocation(Base):
    """One invoice of a lump sum: what the payor chose to pay on it, and what Kill Bill recorded."""

    __tablename__ = "lump_sum_allocations"
    __table_args__ = (UniqueConstraint("lump_sum_id", "kb_invoice_id"),
                      Index("ix_lump_sum_allocations_invoice", "kb_tenant_id", "kb_invoice_id"))

    id: Mapped[intpk]
    lump_sum_id: Mapped[int] = mapped_column(ForeignKey("lump_sums.id", ondelete="CASCADE"))
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    kb_invoice_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int]  # oldest invoice first
    amount_minor: Mapped[int]  # chosen: the balance shown, or the part typed
    recorded_minor: Mapped[int | None]  # set once settled: what Kill Bill carries (0: paid meanwhile)
    kb_payment_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[created_at]
