"""Operators' view of the inbox, shared by `bridge webhooks` and ``/admin/v1/webhooks``.

Replay runs an event's processing again: an event whose job is dead, or a failed event whose job still
waits for its next attempt, has that job run now (with a fresh set of attempts), so one event never has
two jobs racing; any other event gets a new job (``bridge.webhooks.inbox.replay``). "Failed" for
``--failed`` means the event's state is failed or its job is dead.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge.db.jobs import Job, JobState
from bridge.db.webhooks import EventSource, EventState, InboundEvent
from bridge.errors import BadRequest, Conflict, NotFound
from bridge.jobs import queue
from bridge.jobs.admin import JobView
from bridge.webhooks import inbox

MAX_LIMIT = 1000


class EventView(BaseModel):
    id: int
    source: EventSource
    kb_tenant_id: str
    event_key: str = Field(description="Hyperswitch: the event_id; Kill Bill: the SHA-256 of the body")
    event_type: str
    object_type: str | None
    object_id: str | None
    state: EventState
    attempts: int = Field(description="how many times processing ran to an end (processed, skipped or failed)")
    outcome: str | None = Field(description="what processing did, or why it skipped or failed")
    job_id: int | None
    received_at: datetime
    processed_at: datetime | None


class EventDetail(EventView):
    body: str = Field(description="the body exactly as received")
    payload: Any = Field(description="the body parsed as JSON (null when it is not JSON); a Kill Bill "
                                     "notification's metaData string is decoded in place")
    job: JobView | None = Field(description="the job that processes (or processed) the event")


class ReplayResult(BaseModel):
    replayed: int
    ids: list[int]


def _view(event: InboundEvent) -> EventView:
    return EventView.model_validate({name: getattr(event, name) for name in EventView.model_fields})


def _enum(cls: type[Any], value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return cls(value)
    except ValueError:
        raise BadRequest(f"{name} must be one of {', '.join(m.value for m in cls)}") from None


def list_events(session: Session, *, source: str | None = None, state: str | None = None,
                kb_tenant_id: str | None = None, limit: int = 50) -> list[EventView]:
    """The newest events first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
    query = select(InboundEvent).order_by(InboundEvent.id.desc()).limit(limit)
    if (wanted_source := _enum(EventSource, source, "source")) is not None:
        query = query.where(InboundEvent.source == wanted_source)
    if (wanted_state := _enum(EventState, state, "state")) is not None:
        query = query.where(InboundEvent.state == wanted_state)
    if kb_tenant_id is not None:
        query = query.where(InboundEvent.kb_tenant_id == kb_tenant_id)
    return [_view(event) for event in session.scalars(query)]


def _get(session: Session, event_id: int, *, lock: bool = False) -> InboundEvent:
    event = session.get(InboundEvent, event_id, with_for_update=lock)
    if event is None:
        raise NotFound(f"no event {event_id}")
    return event


def parsed_body(event: InboundEvent) -> Any:
    try:
        payload = json.loads(event.body)
    except ValueError:
        return None
    meta = payload.get("metaData") if isinstance(payload, dict) else None
    if event.source is EventSource.KILLBILL and isinstance(meta, str):
        try:
            payload["metaData"] = json.loads(meta)
        except ValueError:
            pass
    return payload


def show_event(session: Session, event_id: int) -> EventDetail:
    event = _get(session, event_id)
    job = session.get(Job, event.job_id) if event.job_id is not None else None
    job_view = None
    if job is not None:
        job_view = JobView.model_validate({name: getattr(job, name) for name in JobView.model_fields}
                                          | {"state": job.state.value})
    return EventDetail.model_validate(_view(event).model_dump() | {
        "body": event.body, "payload": parsed_body(event), "job": job_view})


def replay_event(session: Session, event_id: int, now: datetime) -> EventView:
    """Run the event's processing again (see the module's docstring)."""
    event = _get(session, event_id, lock=True)
    job = session.get(Job, event.job_id) if event.job_id is not None else None
    if job is not None and job.state is JobState.RUNNING:
        raise Conflict(f"event {event_id} is being processed right now (job {job.id})")
    if job is not None and (job.state is JobState.DEAD
                            or (job.state is JobState.PENDING and event.state is EventState.FAILED)):
        queue.retry(session, job.id, now)  # dead, or waiting for its next attempt: run it now
        return _view(event)
    return _view(inbox.replay(session, event_id, now))


def replay_failed(session: Session, now: datetime, *, source: str | None = None) -> ReplayResult:
    """Replay every failed event and every event whose job is dead, oldest first."""
    query = (select(InboundEvent.id).outerjoin(Job, Job.id == InboundEvent.job_id)
             .where(or_(InboundEvent.state == EventState.FAILED, Job.state == JobState.DEAD))
             .order_by(InboundEvent.id))
    if (wanted := _enum(EventSource, source, "source")) is not None:
        query = query.where(InboundEvent.source == wanted)
    replayed = []
    for event_id in list(session.scalars(query)):
        try:
            replay_event(session, event_id, now)
        except Conflict:
            continue  # being processed right now
        replayed.append(event_id)
    return ReplayResult(replayed=len(replayed), ids=replayed)
