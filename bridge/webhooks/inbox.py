"""Store first, acknowledge, process later: the inbox every inbound event goes through.

An event row and the job that processes it are written in one transaction; a duplicate (same source,
tenant and key) is acknowledged and changes nothing. Replay enqueues the same processing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db.webhooks import EventSource, EventState, InboundEvent
from bridge.errors import Conflict, NotFound
from bridge.jobs import enqueue

PROCESS_JOB = "inbound_event.process"
# Enough attempts to outlast a plugin answer still on its way, and Kill Bill being down for hours.
PROCESS_MAX_ATTEMPTS = 15


@dataclass(frozen=True)
class Stored:
    event_id: int
    duplicate: bool


@dataclass(frozen=True)
class EventResult:
    """What processing did: ``processed``, or ``skipped`` with the reason."""

    state: EventState
    outcome: str

    @classmethod
    def processed(cls, outcome: str) -> "EventResult":
        return cls(EventState.PROCESSED, outcome)

    @classmethod
    def skipped(cls, reason: str) -> "EventResult":
        return cls(EventState.SKIPPED, reason)


def store(session: Session, *, source: EventSource, kb_tenant_id: str, event_key: str, event_type: str,
          object_type: str | None, object_id: str | None, body: str, now: datetime) -> Stored:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(InboundEvent).values(
        source=source, kb_tenant_id=kb_tenant_id, event_key=event_key[:128], event_type=event_type[:64],
        object_type=object_type, object_id=(object_id or "")[:64] or None, body=body, state=EventState.RECEIVED,
        attempts=0, received_at=now,
    ).on_conflict_do_nothing(index_elements=["source", "kb_tenant_id", "event_key"]).returning(InboundEvent.id)
    created = session.execute(statement).scalar_one_or_none()
    if created is None:
        existing = session.scalars(select(InboundEvent.id).where(
            InboundEvent.source == source, InboundEvent.kb_tenant_id == kb_tenant_id,
            InboundEvent.event_key == event_key[:128])).one()
        return Stored(existing, duplicate=True)
    job_id = _schedule(session, created, kb_tenant_id, run="first", now=now)
    # A plain UPDATE: the new row is not loaded into the session just to set one column.
    session.execute(update(InboundEvent).where(InboundEvent.id == created).values(job_id=job_id))
    return Stored(created, duplicate=False)


def _schedule(session: Session, event_id: int, kb_tenant_id: str, *, run: str, now: datetime) -> int:
    return enqueue(session, PROCESS_JOB, {"event_id": event_id}, kb_tenant_id=kb_tenant_id,
                   dedupe_key=f"inbound:{event_id}:{run}", run_at=now, max_attempts=PROCESS_MAX_ATTEMPTS)


def replay(session: Session, event_id: int, now: datetime) -> InboundEvent:
    """Process a stored event again (after a fix, or to re-check): the normal path, run again."""
    event = session.get(InboundEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound(f"no event {event_id}")
    if event.state is EventState.RECEIVED and event.job_id is not None:
        raise Conflict(f"event {event_id} is waiting for its job {event.job_id}; nothing to replay yet")
    event.state, event.outcome, event.processed_at = EventState.RECEIVED, None, None
    event.job_id = _schedule(session, event_id, event.kb_tenant_id, run=f"replay-{now.timestamp():.6f}", now=now)
    return event


def record(session: Session, event_id: int, result: EventResult, now: datetime) -> None:
    session.execute(update(InboundEvent).where(InboundEvent.id == event_id).values(
        state=result.state, outcome=result.outcome[:2000], processed_at=now, attempts=InboundEvent.attempts + 1))


def record_failure(session: Session, event_id: int, error: str) -> None:
    event = session.get(InboundEvent, event_id)
    if event is not None:
        event.state, event.outcome = EventState.FAILED, error[:2000]
        event.attempts += 1
