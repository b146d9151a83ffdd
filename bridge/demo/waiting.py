"""Waiting for a state someone else reaches (Kill Bill's bus, a webhook, the worker, a person in a browser)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.demo.console import Console

POLL_SECONDS = 0.1


class StepFailed(Exception):
    """A step did not reach its expected state; the message says what was seen instead."""


@dataclass(frozen=True)
class Seen:
    """One look at the state being waited for: whether it is reached, and what it is, in a few words."""

    reached: bool
    state: str


Probe = Callable[[], Seen]


def wait_for(console: Console, what: str, probe: Probe, timeout: float | None, *,
             poll_seconds: float = POLL_SECONDS) -> str:
    """Look until ``probe`` says the state is reached (returns its description), or fail after ``timeout``
    seconds (None: wait until interrupted). A probe raises :class:`StepFailed` for an outcome that can no
    longer change into the expected one."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        seen = probe()
        if seen.reached:
            return seen.state
        if deadline is not None and time.monotonic() >= deadline:
            raise StepFailed(f"{what}: still {seen.state} after {timeout:g} s")
        console.tick(f"waiting for {what}")
        time.sleep(poll_seconds)
