"""Every HTTP attempt the bridge makes to Hyperswitch, redacted by the client before it gets here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.base import Base, intpk


class HyperswitchCall(Base):
    __tablename__ = "hyperswitch_calls"
    __table_args__ = (Index("ix_hyperswitch_calls_tenant_time", "kb_tenant_id", "started_at"),)

    id: Mapped[intpk]
    kb_tenant_id: Mapped[str | None] = mapped_column(String(36))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int | None]
    latency_ms: Mapped[float] = mapped_column(Float)
    attempt: Mapped[int]
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    request_body: Mapped[dict[str, Any] | None]
    response_body: Mapped[dict[str, Any] | None]
    started_at: Mapped[datetime]
