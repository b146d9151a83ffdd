"""The inbox of what the peers told us: Hyperswitch webhooks and Kill Bill push notifications.

Every inbound event is stored, raw, before it is acknowledged; a job (enqueued in the same database
transaction) processes it, with retries, and `bridge webhooks replay` runs the same code again.
Disputes and account flags are what reconciliation keeps between events.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.base import Base, created_at, intpk, updated_at


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class EventSource(enum.StrEnum):
    HYPERSWITCH = "hyperswitch"
    KILLBILL = "killbill"


class EventState(enum.StrEnum):
    RECEIVED = "received"  # stored and acknowledged; its job will process it
    PROCESSED = "processed"
    SKIPPED = "skipped"  # about nothing of Kill Bill's (recorded, with the reason)
    FAILED = "failed"  # its job failed; retried with backoff until dead, then replayable


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "kb_tenant_id", "event_key"),
        Index("ix_inbound_events_received", "source", "received_at"),
        Index("ix_inbound_events_object", "kb_tenant_id", "object_id"),
    )

    id: Mapped[intpk]
    source: Mapped[EventSource] = mapped_column(_enum(EventSource, 16))
    kb_tenant_id: Mapped[str] = mapped_column(String(36))
    # Hyperswitch: event_id (stable across its retries). Kill Bill: a digest of the body (its retries
    # resend the same body; it has no event id).
    event_key: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # exactly as received (untrusted until processed)
    state: Mapped[EventState] = mapped_column(_enum(EventState, 16), default=EventState.RECEIVED)
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(Text)  # what processing did, or why it skipped/failed
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class Dispute(Base):
    """A Hyperswitch dispute and the Kill Bill chargebacks it led to (one per :class:`DisputePart`)."""

    __tablename__ = "disputes"

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hs_dispute_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hs_payment_id: Mapped[str] = mapped_column(String(64))
    kb_payment_id: Mapped[str] = mapped_column(String(36))
    hs_status: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    # Every part's chargeback is in Kill Bill (lost), then every one reversed (won after it).
    chargeback_recorded: Mapped[bool] = mapped_column(default=False)
    chargeback_reversed: Mapped[bool] = mapped_column(default=False)
    # A run applying the dispute to Kill Bill holds it until then (a crashed run's claim expires).
    applying_until: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class DisputePart(Base):
    """One Kill Bill payment's share of a dispute: its own chargeback, under its own transaction external key.

    A Hyperswitch payment recorded in parts (a lump sum) is carried by several Kill Bill payments; the
    disputed amount is split over them once, in the order they were recorded, and kept here so a retry
    charges back exactly the same shares. A payment carried by one Kill Bill payment has one part.
    """

    __tablename__ = "dispute_parts"
    __table_args__ = (
        ForeignKeyConstraint(["kb_tenant_id", "hs_dispute_id"], ["disputes.kb_tenant_id", "disputes.hs_dispute_id"],
                             ondelete="CASCADE"),
        UniqueConstraint("kb_tenant_id", "hs_dispute_id", "kb_payment_id"),
    )

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hs_dispute_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kb_payment_id: Mapped[str] = mapped_column(String(36))
    kb_invoice_id: Mapped[str | None] = mapped_column(String(36))  # set: the invoice-aware endpoints
    amount_minor: Mapped[int]
    chargeback_key: Mapped[str] = mapped_column(String(128))  # the chargeback's transaction external key
    chargeback_recorded: Mapped[bool] = mapped_column(default=False)
    chargeback_reversed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
