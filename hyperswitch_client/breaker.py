"""A circuit breaker per Hyperswitch base URL: stop sending to a router that keeps failing.

States (the classic three):

- **closed**: calls go through; ``failure_threshold`` failures in a row open the circuit.
- **open**: every call is refused at once with ``CircuitOpenError`` (nothing is sent, so a payment
  call ends "not processed": Kill Bill CANCELED, retried on its plugin-failure schedule) until
  ``open_seconds`` have passed.
- **half-open**: one call goes through as a probe, the others are refused while it runs; its success
  closes the circuit, its failure opens it again for another ``open_seconds``.

A failure is what says the router is unwell: no connection, a connection lost, no answer in time,
or a 5xx. Any other answer (a 2xx, a 4xx refusal, a 429) proves the router up and resets the count.
One breaker is shared by every client of the same base URL in a process; ``listener`` hears about
transitions and refusals (metrics, logs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from .errors import (APIError, APITimeoutError, CircuitOpenError, ConnectError, ConnectionLostError,
                     HyperswitchError)

__all__ = ["BreakerListener", "CircuitBreaker", "CircuitState", "Ticket", "is_breaker_failure"]

# What an unwell router looks like; ``ConnectError`` also covers a refused or unreachable host.
_FAILURES = (ConnectError, ConnectionLostError, APITimeoutError, APIError)


def is_breaker_failure(error: HyperswitchError) -> bool:
    return isinstance(error, _FAILURES)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerListener(Protocol):
    def state_changed(self, name: str, old: CircuitState, new: CircuitState) -> None: ...

    def rejected(self, name: str, state: CircuitState) -> None: ...


@dataclass(frozen=True)
class Ticket:
    """Leave to send one attempt; a probe's outcome decides the half-open circuit."""

    probe: bool


class CircuitBreaker:
    def __init__(self, name: str, *, failure_threshold: int = 5, open_seconds: float = 30.0,
                 listener: BreakerListener | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if open_seconds <= 0:
            raise ValueError("open_seconds must be positive")
        self.name = name
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self._listener = listener
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state

    def admit(self) -> Ticket:
        """A ticket to send one attempt, or ``CircuitOpenError`` at once."""
        with self._lock:
            if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self.open_seconds:
                self._move(CircuitState.HALF_OPEN)
            if self._state is CircuitState.CLOSED:
                return Ticket(probe=False)
            if self._state is CircuitState.HALF_OPEN and not self._probing:
                self._probing = True
                return Ticket(probe=True)
            state, retry_in = self._state, max(0.0, self._opened_at + self.open_seconds - self._clock())
        if self._listener is not None:
            self._listener.rejected(self.name, state)
        why = "a probe is testing it" if state is CircuitState.HALF_OPEN else f"next probe in {retry_in:.0f} s"
        raise CircuitOpenError(f"Hyperswitch at {self.name} is failing; the circuit is {state.value} ({why}); "
                               "nothing was sent")

    def succeeded(self, ticket: Ticket) -> None:
        """The attempt got an answer that proves the router up."""
        with self._lock:
            if ticket.probe:
                self._probing = False
                self._move(CircuitState.CLOSED)
            elif self._state is CircuitState.CLOSED:
                self._failures = 0

    def failed(self, ticket: Ticket) -> None:
        """The attempt met an unwell router (see ``is_breaker_failure``)."""
        with self._lock:
            if ticket.probe:
                self._probing = False
                self._open()
            elif self._state is CircuitState.CLOSED:
                self._failures += 1
                if self._failures >= self.failure_threshold:
                    self._open()

    def abandoned(self, ticket: Ticket) -> None:
        """The attempt was never sent (e.g. no pacing slot in time): it proves nothing either way."""
        if ticket.probe:
            with self._lock:
                self._probing = False

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._move(CircuitState.OPEN)

    def _move(self, new: CircuitState) -> None:
        old, self._state = self._state, new
        self._failures = 0
        if old is not new and self._listener is not None:
            self._listener.state_changed(self.name, old, new)
