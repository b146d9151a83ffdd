"""The simulator's clock: wall time plus a settable offset, so schedules can be jumped over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SimClock:
    """UTC, timezone-aware. Time keeps running after :meth:`set` / :meth:`advance`."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware instant")
        with self._lock:
            self._offset = instant - datetime.now(UTC)
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()

    def reset(self) -> datetime:
        with self._lock:
            self._offset = timedelta(0)
        return self.now()
