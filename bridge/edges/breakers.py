"""Circuit breakers toward Hyperswitch, one per base URL in the process, visible in metrics and logs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bridge.web.metrics import HS_CIRCUIT_REJECTIONS, HS_CIRCUIT_STATE, HS_CIRCUIT_TRANSITIONS
from hyperswitch_client import CircuitBreaker, CircuitState

log = logging.getLogger(__name__)

STATE_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}
# An open circuit refuses every call; one log line per base URL and interval says how many were refused.
_REJECTION_LOG_SECONDS = 10.0


class BreakerEvents:
    """``hyperswitch_client.BreakerListener``: Prometheus metrics and log lines."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._unlogged: dict[str, int] = {}
        self._logged_at: dict[str, float] = {}

    def state_changed(self, name: str, old: CircuitState, new: CircuitState) -> None:
        HS_CIRCUIT_STATE.labels(name).set(STATE_VALUES[new])
        HS_CIRCUIT_TRANSITIONS.labels(name, old.value, new.value).inc()
        if new is CircuitState.OPEN:
            log.warning("Hyperswitch at %s keeps failing: circuit %s → open; calls are refused unsent",
                        name, old.value)
        else:
            log.info("Hyperswitch at %s: circuit %s → %s", name, old.value, new.value)

    def rejected(self, name: str, state: CircuitState) -> None:
        HS_CIRCUIT_REJECTIONS.labels(name, state.value).inc()
        now = self._clock()
        with self._lock:
            count = self._unlogged.get(name, 0) + 1
            if now - self._logged_at.get(name, float("-inf")) < _REJECTION_LOG_SECONDS:
                self._unlogged[name] = count
                return
            self._unlogged[name], self._logged_at[name] = 0, now
        log.warning("Hyperswitch at %s: circuit %s, refused %d call(s) unsent", name, state.value, count)


class Breakers:
    """The process's breaker per Hyperswitch base URL (tenants on one router share its health)."""

    def __init__(self, failure_threshold: int, open_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self._clock = clock
        self._events = BreakerEvents(clock)
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def for_url(self, base_url: str) -> CircuitBreaker:
        name = base_url.rstrip("/")
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(name, failure_threshold=self.failure_threshold,
                                         open_seconds=self.open_seconds, listener=self._events, clock=self._clock)
                self._breakers[name] = breaker
                HS_CIRCUIT_STATE.labels(name).set(STATE_VALUES[CircuitState.CLOSED])
            return breaker
