"""The durable job queue in tests: a worker with short backoffs, and running it until nothing is due."""

from __future__ import annotations

import time
from typing import Any

from bridge.jobs.catalog import build_registry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import Worker, WorkerConfig


def fast_worker(runtime: Any, *, max_attempts: int = 20, **options: Any) -> Worker:
    """The production registry, polling and retrying in hundredths of a second."""
    policy = RetryPolicy(max_attempts=max_attempts, base_seconds=0.01, max_seconds=0.05)
    return Worker(runtime.sessions, build_registry(),
                  WorkerConfig(poll_seconds=0.01, lease_seconds=30, policy=policy), services=runtime, **options)


def drain(worker: Worker, kb_state: Any = None, *, rounds: int = 100, strict: bool = False) -> None:
    """Run due jobs, letting the Kill Bill simulator deliver what they cause (when given), until nothing
    is due, waiting out short backoffs. ``strict``: fail when jobs keep coming after ``rounds``."""

    def settle() -> None:
        if kb_state is not None:
            assert kb_state.wait_idle(timeout=30)

    for _ in range(rounds):
        settle()
        if not worker.run_once():
            time.sleep(0.06)
            settle()
            if not worker.run_once():
                return
    if strict:
        raise AssertionError("jobs kept coming")
