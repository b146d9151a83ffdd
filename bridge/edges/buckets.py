"""Token buckets: how many requests may go, per key, at a rate with a burst.

One mechanism serves both directions: pacing toward Hyperswitch (callers *wait* for their slot) and
inbound rate limits (a request with no free slot is *refused* with the time until one).

Each bucket is kept as one number, its "theoretical arrival time" (GCRA, the generic cell rate
algorithm, equivalent to a token bucket): a request reserves the slot one interval after the later of
now and the last reserved slot, and may go after waiting for how far that slot lies beyond the burst
window. A bucket whose time lies in the past is full, so such rows can be forgotten at any moment.

- ``LocalBuckets``: in the process's memory (SQLite deployments: one bucket per process).
- ``DatabaseBuckets``: a row per bucket in PostgreSQL, updated atomically by one statement on the
  database's clock, so every web and worker process of a deployment shares each bucket.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, text

__all__ = ["Buckets", "DatabaseBuckets", "LocalBuckets", "Rate", "Reservation", "bucket_key"]

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$", re.I)
# Full buckets are forgotten this often (they are equivalent to no row at all).
PRUNE_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Rate:
    """``per_second`` on average, and up to ``burst`` at once after a quiet while."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and math.isfinite(self.per_second)):
            raise ValueError("a rate must be a positive number of requests per second")
        if self.burst < 1:
            raise ValueError("a burst must allow at least one request")

    @classmethod
    def parse(cls, value: str) -> Rate:
        """``"60/minute"``: 60 at once, then one a second (also ``/second``, ``/hour``)."""
        match = _RATE.match(value)
        if match is None or int(match[1]) < 1:
            raise ValueError(f"{value!r} is not a rate like '60/minute' (per second, minute or hour)")
        count = int(match[1])
        return cls(count / _PERIODS[match[2].lower()], count)

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    @property
    def window(self) -> float:
        return self.burst * self.interval

    def __str__(self) -> str:
        return f"{self.per_second:g}/second (burst {self.burst})"


@dataclass(frozen=True)
class Reservation:
    """Granted: go after ``wait`` seconds. Refused: nothing was reserved; a slot comes in ``wait`` seconds."""

    granted: bool
    wait: float

    @property
    def retry_after(self) -> int:
        """``wait`` as an HTTP ``Retry-After`` (whole seconds, at least 1)."""
        return max(1, math.ceil(self.wait))


class Buckets(Protocol):
    def reserve(self, key: str, rate: Rate, max_wait: float = 0.0) -> Reservation: ...

    def pause(self, key: str, rate: Rate, seconds: float) -> None: ...


def bucket_key(kind: str, *parts: str) -> str:
    """A fixed-length key that does not store what it counts (client addresses, pay tokens) in clear."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"{kind}:{digest}"


class LocalBuckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._arrivals: dict[str, float] = {}
        self._pruned_at = clock()

    def reserve(self, key: str, rate: Rate, max_wait: float = 0.0) -> Reservation:
        with self._lock:
            now = self._clock()
            self._prune(now)
            backlog = max(self._arrivals.get(key, now) - now, 0.0)
            slot = now + backlog + rate.interval
            # From the backlog, not from ``slot - now``: with a burst of one, interval - window is exactly 0,
            # while subtracting a large monotonic clock reading can leave a rounding crumb above it.
            wait = backlog + rate.interval - rate.window
            if wait > max_wait:
                return Reservation(False, wait)
            self._arrivals[key] = slot
            return Reservation(True, max(0.0, wait))

    def pause(self, key: str, rate: Rate, seconds: float) -> None:
        with self._lock:
            # The next reservation's slot lands exactly ``seconds`` from now, and no earlier.
            held = self._clock() + seconds + rate.window - rate.interval
            self._arrivals[key] = max(self._arrivals.get(key, held), held)

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        for key in [key for key, arrival in self._arrivals.items() if arrival <= now]:
            del self._arrivals[key]


# The same arithmetic as LocalBuckets.reserve, in one statement so that concurrent processes serialise
# on the bucket's row: ``current`` locks it, ``granted`` writes the new slot only when the wait fits.
# A bucket created concurrently by two callers is settled by ON CONFLICT, which adds on top of the row.
_RESERVE = text("""
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::double precision AS now),
current AS (SELECT tat FROM rate_buckets WHERE key = :key FOR UPDATE),
backlog AS (SELECT clock.now, greatest(coalesce((SELECT tat FROM current), clock.now) - clock.now, 0) AS backlog
            FROM clock),
next AS (SELECT now, now + backlog + :interval AS slot, backlog + :interval - :window AS wait FROM backlog),
granted AS (
    INSERT INTO rate_buckets (key, tat)
    SELECT :key, next.slot FROM next WHERE next.wait <= :max_wait
    ON CONFLICT (key) DO UPDATE SET tat = greatest(rate_buckets.tat, excluded.tat - :interval) + :interval
    RETURNING tat)
SELECT next.now, next.slot, (SELECT tat FROM granted) AS granted_slot FROM next
""")
_PAUSE = text("""
INSERT INTO rate_buckets (key, tat)
VALUES (:key, extract(epoch FROM clock_timestamp())::double precision + :seconds + :window - :interval)
ON CONFLICT (key) DO UPDATE SET tat = greatest(rate_buckets.tat, excluded.tat)
""")
_PRUNE = text("DELETE FROM rate_buckets WHERE tat < extract(epoch FROM clock_timestamp())::double precision")


class DatabaseBuckets:
    """Buckets in the ``rate_buckets`` table (PostgreSQL), shared by every process of the deployment.

    ``engine`` should be its own small pool in autocommit mode: a statement here must never wait
    behind connections that requests hold while they, in turn, wait for a slot.
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._pruned_at = clock()
        self._prune_lock = threading.Lock()

    def reserve(self, key: str, rate: Rate, max_wait: float = 0.0) -> Reservation:
        self._maybe_prune()
        with self._engine.connect() as conn:
            now, slot, granted = conn.execute(_RESERVE, {"key": key, "interval": rate.interval,
                                                         "window": rate.window, "max_wait": max_wait}).one()
        if granted is None:
            return Reservation(False, slot - now - rate.window)
        return Reservation(True, max(0.0, granted - now - rate.window))

    def pause(self, key: str, rate: Rate, seconds: float) -> None:
        with self._engine.connect() as conn:
            conn.execute(_PAUSE, {"key": key, "seconds": seconds, "window": rate.window, "interval": rate.interval})

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._pruned_at < PRUNE_EVERY_SECONDS or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._pruned_at = now
            with self._engine.connect() as conn:
                conn.execute(_PRUNE)
        finally:
            self._prune_lock.release()
