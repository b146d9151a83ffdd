"""Operators' view of the queue, shared by `bridge jobs` and ``/admin/v1/jobs``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.db.jobs import Job, JobState
from bridge.errors import BadRequest, NotFound
from bridge.jobs import queue


class JobView(BaseModel):
    id: int
    kind: str
    kb_tenant_id: str | None
    state: str
    attempts: int
    max_attempts: int
    run_at: datetime
    dedupe_key: str | None
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobDetail(JobView):
    payload: dict[str, Any]
    last_traceback: str | None


def _fields(job: Job) -> dict[str, Any]:
    return {name: getattr(job, name) for name in JobDetail.model_fields} | {"state": job.state.value}


def list_jobs(session: Session, *, state: str | None = None, kind: str | None = None,
              limit: int = 50) -> list[JobView]:
    if not 1 <= limit <= 1000:
        raise BadRequest("limit must be between 1 and 1000")
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state is not None:
        try:
            query = query.where(Job.state == JobState(state))
        except ValueError:
            raise BadRequest(f"state must be one of {', '.join(s.value for s in JobState)}") from None
    if kind is not None:
        query = query.where(Job.kind == kind)
    return [JobView.model_validate(_fields(job)) for job in session.scalars(query)]


def show_job(session: Session, job_id: int) -> JobDetail:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return JobDetail.model_validate(_fields(job))


def retry_job(session: Session, job_id: int) -> JobDetail:
    return JobDetail.model_validate(_fields(queue.retry(session, job_id)))
