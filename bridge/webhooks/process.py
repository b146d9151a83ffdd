"""The worker's side of the inbox: run the processor of an event's source, record what it did.

No transaction is held open while the processor talks to Hyperswitch or Kill Bill: the event row is read in
a short one of its own, and what processing did is written in the job's transaction, which completes the job
(so the event is processed exactly when its job is done). A failure is recorded on the event in a transaction
of its own and re-raised, so the job retries with backoff (a `RetryLater` keeps its own delay) and ends dead,
then replayable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.db.engine import session_scope
from bridge.db.webhooks import EventSource, EventState, InboundEvent
from bridge.jobs import JobContext, PermanentFailure
from bridge.tenancy.env import TenantEnv
from bridge.webhooks import hyperswitch, inbox
from bridge.webhooks.inbox import EventResult

log = logging.getLogger(__name__)

Processor = Callable[[TenantEnv, InboundEvent], EventResult]
PROCESSORS: dict[EventSource, Processor] = {EventSource.HYPERSWITCH: hyperswitch.process}


def register(source: EventSource, processor: Processor) -> None:
    PROCESSORS[source] = processor


def process_inbound_event(ctx: JobContext, payload: dict[str, Any]) -> None:
    event_id = payload["event_id"]
    with session_scope(ctx.services.sessions) as session:
        event = session.get(InboundEvent, event_id)
        if event is None:
            raise PermanentFailure(f"no inbound event {event_id}")
        session.expunge(event)
    if event.state in (EventState.PROCESSED, EventState.SKIPPED):
        return  # a duplicate job: the event was already handled
    try:
        processor = PROCESSORS.get(event.source)
        if processor is None:
            raise PermanentFailure(f"no processor for {event.source.value} events")
        result = processor(ctx.services.tenant_env(event.kb_tenant_id), event)
    except Exception as exc:
        with session_scope(ctx.services.sessions) as session:
            inbox.record_failure(session, event_id, f"{type(exc).__name__}: {exc}")
        raise
    # In the job's own transaction: the event is recorded processed exactly when its job completes.
    inbox.record(ctx.session, event_id, result, ctx.services.clock())
    log.info("%s event %s (%s): %s — %s", event.source.value, event.event_key, event.event_type,
             result.state.value, result.outcome)
