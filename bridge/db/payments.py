"""Payments: Kill Bill transactions as the bridge carried them to Hyperswitch, with their history.

A transaction row is written before Hyperswitch is called and its status only moves forward
(``bridge.payments.transitions``); every change appends a history row. Customers and payment methods
map Kill Bill accounts and payment methods to Hyperswitch customers, saved payment methods and mandates.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bridge.db.base import Base, created_at, intpk, updated_at
from bridge.payments.status import PluginStatus, TransactionType

# Kill Bill amounts are BigDecimal in major units; Hyperswitch currencies have at most 4 decimals.
Money = Numeric(20, 4, asdecimal=True)


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class HsCustomer(Base):
    """A Kill Bill account's Hyperswitch customer (customer_id derived from the account id)."""

    __tablename__ = "hs_customers"

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kb_account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hs_customer_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_at]


class PaymentMethodState(enum.StrEnum):
    ACTIVE = "active"
    UNUSABLE = "unusable"  # e.g. its mandate was revoked: the invoice flow offers the payor a link
    DELETED = "deleted"


class PaymentMethod(Base):
    __tablename__ = "payment_methods"
    __table_args__ = (
        Index("ix_payment_methods_account", "kb_tenant_id", "kb_account_id"),
        # addPaymentMethod's "already added?", mandate webhooks, cards saved on pay-by-link payments (0011).
        Index("ix_payment_methods_hs_payment_method", "kb_tenant_id", "hs_payment_method_id"),
        Index("ix_payment_methods_hs_mandate", "kb_tenant_id", "hs_mandate_id"),
    )

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kb_payment_method_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kb_account_id: Mapped[str] = mapped_column(String(36))
    hs_customer_id: Mapped[str] = mapped_column(String(64))
    hs_payment_method_id: Mapped[str | None] = mapped_column(String(64))
    hs_mandate_id: Mapped[str | None] = mapped_column(String(64))
    is_default: Mapped[bool] = mapped_column(default=False)
    state: Mapped[PaymentMethodState] = mapped_column(_enum(PaymentMethodState, 16),
                                                      default=PaymentMethodState.ACTIVE)
    payment_method: Mapped[str | None] = mapped_column(String(32))  # card, bank_debit, wallet, ...
    card_network: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[str | None] = mapped_column(String(2))
    card_exp_year: Mapped[str | None] = mapped_column(String(4))
    mandate_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class Payment(Base):
    """A Kill Bill payment. Each authorize or purchase attempt (Kill Bill retries add transactions to the
    same payment) is its own Hyperswitch payment; captures, voids and refunds act on the one that succeeded."""

    __tablename__ = "payments"

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kb_payment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kb_account_id: Mapped[str] = mapped_column(String(36), index=True)
    kb_payment_method_id: Mapped[str | None] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[created_at]

    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="payment", order_by="Transaction.id", lazy="selectin",
        primaryjoin="and_(Payment.kb_tenant_id == foreign(Transaction.kb_tenant_id), "
                    "Payment.kb_payment_id == foreign(Transaction.kb_payment_id))")


class Transaction(Base):
    """One Kill Bill payment transaction (``kbTransactionPaymentId``), unique per tenant."""

    __tablename__ = "payment_transactions"
    __table_args__ = (
        UniqueConstraint("kb_tenant_id", "kb_transaction_id"),
        Index("ix_payment_transactions_payment", "kb_tenant_id", "kb_payment_id"),
        # The sweeper, tenant by tenant: its stale PENDING/UNDEFINED transactions, oldest first (0011).
        Index("ix_payment_transactions_open", "kb_tenant_id", "status", "updated_at"),
        Index("ix_payment_transactions_hs_payment", "kb_tenant_id", "hs_payment_id"),
        Index("ix_payment_transactions_hs_refund", "kb_tenant_id", "hs_refund_id"),
    )

    id: Mapped[intpk]
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    kb_account_id: Mapped[str] = mapped_column(String(36))
    kb_payment_id: Mapped[str] = mapped_column(String(36))
    kb_transaction_id: Mapped[str] = mapped_column(String(36))
    transaction_type: Mapped[TransactionType] = mapped_column(_enum(TransactionType, 16))
    amount: Mapped[Decimal | None] = mapped_column(Money)  # requested, major units (None for a void)
    processed_amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[PluginStatus] = mapped_column(_enum(PluginStatus, 16))

    hs_payment_id: Mapped[str | None] = mapped_column(String(64))
    hs_refund_id: Mapped[str | None] = mapped_column(String(64))
    hs_status: Mapped[str | None] = mapped_column(String(64))
    # A capture is not idempotent in Hyperswitch: the captured total it must reach tells whether it landed.
    hs_expected_received: Mapped[int | None]
    gateway_error_code: Mapped[str | None] = mapped_column(String(128))
    gateway_error: Mapped[str | None] = mapped_column(Text)
    second_reference_id: Mapped[str | None] = mapped_column(String(128))  # the connector's reference
    redirect_url: Mapped[str | None] = mapped_column(Text)
    # Linked existing payment (pay-by-link) rather than a charge made by this transaction.
    linked: Mapped[bool] = mapped_column(default=False)
    kb_invoice_id: Mapped[str | None] = mapped_column(String(36))  # IPCD_INVOICE_ID: an invoice payment
    # What Kill Bill was last told (a plugin answer or getPaymentInfo): whether it must be told again.
    kb_reported_status: Mapped[PluginStatus | None] = mapped_column(_enum(PluginStatus, 16))
    # While a request to Hyperswitch is in flight, concurrent calls wait instead of calling again.
    in_flight_until: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]

    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    # Loaded on access only: a joined load would make SELECT … FOR UPDATE an outer join (PostgreSQL refuses).
    payment: Mapped[Payment] = relationship(
        back_populates="transactions", lazy="select",
        primaryjoin="and_(Payment.kb_tenant_id == foreign(Transaction.kb_tenant_id), "
                    "Payment.kb_payment_id == foreign(Transaction.kb_payment_id))")
    history: Mapped[list[TransactionHistory]] = relationship(back_populates="transaction",
                                                             order_by="TransactionHistory.id")


class TransitionSource(enum.StrEnum):
    PLUGIN = "plugin"  # the plugin call itself
    REFRESH = "refresh"  # getPaymentInfo / a repeated call re-reading Hyperswitch
    WEBHOOK = "webhook"
    SWEEPER = "sweeper"
    NOTIFICATION = "notification"  # processNotification relayed by Kill Bill


class TransactionHistory(Base):
    __tablename__ = "payment_transaction_history"

    id: Mapped[intpk]
    transaction_id: Mapped[int] = mapped_column(ForeignKey("payment_transactions.id", ondelete="CASCADE"),
                                                index=True)
    from_status: Mapped[PluginStatus | None] = mapped_column(_enum(PluginStatus, 16))
    to_status: Mapped[PluginStatus] = mapped_column(_enum(PluginStatus, 16))
    hs_status: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[TransitionSource] = mapped_column(_enum(TransitionSource, 16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    transaction: Mapped[Transaction] = relationship(back_populates="history")


class LinkedPayment(Base):
    """An existing Hyperswitch payment recorded in Kill Bill: never for more than it received.

    Linked whole by one Kill Bill transaction (pay-by-link), or in parts by several (one per invoice of a
    lump sum, :mod:`bridge.invoices.lump_sums`); ``linked_minor`` is how much Kill Bill carries so far.
    """

    __tablename__ = "linked_payments"

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hs_payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kb_transaction_id: Mapped[str] = mapped_column(String(36))  # the first one
    linked_minor: Mapped[int | None]  # NULL on links made before parts existed: linked whole
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[created_at]
