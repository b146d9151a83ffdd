"""Durable jobs: enqueue in the caller's transaction (outbox), run in `bridge worker` with retries."""

from bridge.jobs.queue import enqueue
from bridge.jobs.registry import JobContext, JobRegistry, PermanentFailure, RetryLater

__all__ = ["enqueue", "JobContext", "JobRegistry", "PermanentFailure", "RetryLater"]
