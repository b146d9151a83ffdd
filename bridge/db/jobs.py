"""Durable jobs: the outbox of work the worker runs, with leases, retries and dead-parking."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.base import Base, created_at, intpk, updated_at


class JobState(enum.StrEnum):
    PENDING = "pending"  # waiting for run_at
    RUNNING = "running"  # leased by a worker until locked_until
    DONE = "done"
    DEAD = "dead"  # out of attempts, or a permanent failure: replay with `bridge jobs retry`


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "run_at"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(64))
    kb_tenant_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Enqueueing the same key twice yields one job.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)

    state: Mapped[JobState] = mapped_column(
        Enum(JobState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    run_at: Mapped[datetime]

    # The lease: a token per claim, so a worker whose lease expired cannot finish someone else's run.
    lease_token: Mapped[str | None] = mapped_column(String(36))
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]

    last_error: Mapped[str | None] = mapped_column(Text)
    last_traceback: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
