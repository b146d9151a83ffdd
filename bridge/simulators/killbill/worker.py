"""A background thread running tasks in due order on the simulator clock (Kill Bill's bus and queues)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from bridge.simulators.killbill.clock import SimClock

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.02


class Worker:
    """Tasks run one at a time, earliest due first; a clock jump makes later tasks due at once."""

    def __init__(self, name: str, clock: SimClock) -> None:
        self._name = name
        self._clock = clock
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._running = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, task: Callable[[], None], at: datetime | None = None) -> None:
        with self._cv:
            heapq.heappush(self._heap, (at or self._clock.now(), next(self._seq), task))
            self._ensure_thread()
            self._cv.notify_all()

    def pending(self) -> int:
        with self._cv:
            return len(self._heap) + self._running

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is due or running (tasks scheduled later do not count)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._running or (self._heap and self._heap[0][0] <= self._clock.now()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(min(remaining, _POLL_SECONDS))
        return True

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"kb-sim-{self._name}", daemon=True)
            self._thread.start()

    def _next_due(self) -> Callable[[], None] | None:
        with self._cv:
            while not self._stopped:
                if self._heap and self._heap[0][0] <= self._clock.now():
                    self._running += 1
                    return heapq.heappop(self._heap)[2]
                self._cv.wait(_POLL_SECONDS)
            return None

    def _loop(self) -> None:
        while (task := self._next_due()) is not None:
            try:
                task()
            except Exception:  # a failing task must not stop the queue
                log.exception("simulator %s task failed", self._name)
            finally:
                with self._cv:
                    self._running -= 1
                    self._cv.notify_all()
