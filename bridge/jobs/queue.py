"""The jobs table as a queue: enqueue (outbox), claim with a lease, finish, fail with backoff, retry.

Claims take ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never wait on each other;
on SQLite (one writer at a time) the same guarded UPDATE makes the claim atomic. A job whose worker
died is claimable again once its lease expires; every write after a claim is guarded by the lease
token, so a worker that lost its lease cannot overwrite the new owner's outcome.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db.base import utcnow
from bridge.db.jobs import Job, JobState
from bridge.errors import Conflict, NotFound

# Columns of the error kept on the job row, truncated so one noisy failure cannot bloat the table.
_MAX_ERROR_CHARS = 2000
_MAX_TRACEBACK_CHARS = 20_000


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 12
    base_seconds: float = 5.0
    max_seconds: float = 3600.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def enqueue(session: Session, kind: str, payload: dict[str, Any] | None = None, *,
            kb_tenant_id: str | None = None, dedupe_key: str | None = None,
            run_at: datetime | None = None, max_attempts: int = 12) -> int:
    """Add a job in the caller's transaction; with ``dedupe_key``, a second enqueue returns the first job."""
    values = dict(kind=kind, payload=payload or {}, kb_tenant_id=kb_tenant_id, dedupe_key=dedupe_key,
                  state=JobState.PENDING, attempts=0, max_attempts=max_attempts, run_at=run_at or utcnow(),
                  created_at=utcnow(), updated_at=utcnow())
    if dedupe_key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job.id
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(Job.id))
    created = session.execute(statement).scalar_one_or_none()
    if created is not None:
        return int(created)
    return session.scalars(select(Job.id).where(Job.dedupe_key == dedupe_key)).one()


@dataclass(frozen=True)
class Claim:
    job_id: int
    kind: str
    kb_tenant_id: str | None
    payload: dict[str, Any]
    attempt: int  # 1 for the first run
    max_attempts: int
    lease_token: str


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(and_(Job.state == JobState.PENDING, Job.run_at <= now),
               and_(Job.state == JobState.RUNNING, Job.locked_until < now))


def _oldest(*conditions: Any):  # type: ignore[no-untyped-def]
    return (select(Job.id).where(*conditions).order_by(Job.run_at, Job.id).limit(1)
            .with_for_update(skip_locked=True))


# The next job, first among those whose worker died (lease expired), else among the due ones: two lookups that
# each read ix_jobs_claim (state, run_at) in order and stop at the first row. One query OR-ing both had to sort
# every due job on each claim, so a backlog slowed every claim down (30,000 due jobs: 30-50 ms a claim).
_NEXT = (_oldest(Job.state == JobState.RUNNING, Job.locked_until < bindparam("now")),
         _oldest(Job.state == JobState.PENDING, Job.run_at <= bindparam("now")))


def _next_due(session: Session, now: datetime) -> int | None:
    for query in _NEXT:
        found = session.execute(query, {"now": now}).scalar_one_or_none()
        if found is not None:
            return int(found)
    return None


def claim(session: Session, worker_id: str, lease_seconds: float, now: datetime | None = None) -> Claim | None:
    """Lease the next due job to ``worker_id``; None when nothing is due. Commits nothing itself."""
    now = now or utcnow()
    candidate = _next_due(session, now)
    if candidate is None:
        return None
    token = str(uuid.uuid4())
    claimed = session.execute(
        update(Job).where(Job.id == candidate, _claimable(now))
        .values(state=JobState.RUNNING, lease_token=token, locked_by=worker_id,
                locked_until=now + timedelta(seconds=lease_seconds), attempts=Job.attempts + 1, updated_at=now)
        .returning(Job.kind, Job.kb_tenant_id, Job.payload, Job.attempts, Job.max_attempts)).one_or_none()
    if claimed is None:  # another worker took it between our read and write (SQLite only)
        return None
    return Claim(candidate, claimed.kind, claimed.kb_tenant_id, claimed.payload, claimed.attempts,
                 claimed.max_attempts, token)


def _owned(claim: Claim):  # type: ignore[no-untyped-def]
    return and_(Job.id == claim.job_id, Job.lease_token == claim.lease_token, Job.state == JobState.RUNNING)


def complete(session: Session, claim: Claim, now: datetime | None = None) -> bool:
    """Mark done; False when the lease was lost (the caller must roll back the job's work)."""
    now = now or utcnow()
    result = session.execute(update(Job).where(_owned(claim)).values(
        state=JobState.DONE, finished_at=now, lease_token=None, locked_until=None, updated_at=now,
        last_error=None, last_traceback=None))
    return result.rowcount == 1


def fail(session: Session, claim: Claim, error: str, traceback_text: str | None, *, policy: RetryPolicy,
         permanent: bool = False, delay_seconds: float | None = None, now: datetime | None = None) -> JobState | None:
    """Record a failed run: back to pending after a backoff, or dead when out of attempts."""
    now = now or utcnow()
    dead = permanent or claim.attempt >= claim.max_attempts
    delay = delay_seconds if delay_seconds is not None else policy.delay(claim.attempt)
    state = JobState.DEAD if dead else JobState.PENDING
    result = session.execute(update(Job).where(_owned(claim)).values(
        state=state, run_at=now if dead else now + timedelta(seconds=delay),
        finished_at=now if dead else None, lease_token=None, locked_until=None, locked_by=None,
        last_error=error[:_MAX_ERROR_CHARS],
        last_traceback=traceback_text[-_MAX_TRACEBACK_CHARS:] if traceback_text else None, updated_at=now))
    return state if result.rowcount == 1 else None


def release(session: Session, claim: Claim, now: datetime | None = None) -> bool:
    """Give a job back untouched (graceful shutdown): its attempt does not count."""
    now = now or utcnow()
    result = session.execute(update(Job).where(_owned(claim)).values(
        state=JobState.PENDING, run_at=now, attempts=Job.attempts - 1, lease_token=None,
        locked_by=None, locked_until=None, updated_at=now))
    return result.rowcount == 1


def extend_lease(session: Session, claim: Claim, lease_seconds: float, now: datetime | None = None) -> bool:
    now = now or utcnow()
    result = session.execute(update(Job).where(_owned(claim)).values(
        locked_until=now + timedelta(seconds=lease_seconds), updated_at=now))
    return result.rowcount == 1


def retry(session: Session, job_id: int, now: datetime | None = None) -> Job:
    """Replay a dead (or waiting) job now, with a fresh set of attempts."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.state in (JobState.RUNNING, JobState.DONE):
        raise Conflict(f"job {job_id} is {job.state.value}; only dead or pending jobs can be retried")
    now = now or utcnow()
    job.state, job.attempts, job.run_at, job.finished_at, job.updated_at = JobState.PENDING, 0, now, None, now
    session.flush()
    return job


@dataclass(frozen=True)
class QueueStats:
    by_state: dict[str, int]
    oldest_due_seconds: float  # how long the most overdue pending job has waited; 0 when none


def stats(session: Session, now: datetime | None = None) -> QueueStats:
    now = now or utcnow()
    counts = {state.value: 0 for state in JobState}
    for state, count in session.execute(select(Job.state, func.count()).group_by(Job.state)):
        counts[JobState(state).value] = count
    oldest = session.scalar(select(func.min(Job.run_at)).where(Job.state == JobState.PENDING, Job.run_at <= now))
    lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return QueueStats(counts, lag)
