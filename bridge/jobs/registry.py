"""Which code runs which job kind: an explicit dict from kind to handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


class RetryLater(Exception):
    """Not done yet, through no fault of the job (e.g. the object is not known yet): try again.

    Counts as an attempt. ``delay_seconds`` overrides the backoff for this retry.
    """

    def __init__(self, reason: str, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


class PermanentFailure(Exception):
    """Retrying cannot help (bad payload, unknown kind): park the job as dead at once."""


@dataclass
class JobContext:
    """What a handler gets: the job's identity and a session whose transaction also completes the job."""

    job_id: int
    kind: str
    kb_tenant_id: str | None
    attempt: int
    session: Session
    now: datetime
    services: Any = None


Handler = Callable[[JobContext, dict[str, Any]], None]


@dataclass
class JobRegistry:
    handlers: dict[str, Handler] = field(default_factory=dict)

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self.handlers:
            raise ValueError(f"job kind {kind!r} already has a handler")
        self.handlers[kind] = handler

    def handler(self, kind: str) -> Callable[[Handler], Handler]:
        def decorate(func: Handler) -> Handler:
            self.register(kind, func)
            return func
        return decorate

    def get(self, kind: str) -> Handler:
        try:
            return self.handlers[kind]
        except KeyError:
            raise PermanentFailure(f"no handler for job kind {kind!r}") from None
