"""Push notifications: Kill Bill's ``NotificationJson`` POSTed to the tenant's callback, with its retry schedule.

``PushNotificationListener``: headers ``Content-Type: application/json; charset=UTF-8`` and
``User-Agent: KillBill/1.0``; any 2xx is delivered; otherwise attempt n+1 happens ``retries[n]`` after
the failure, and after the last one the event is dropped. A retry sends the same body.

Kill Bill posts from its external bus threads, several at once: so do ``threads`` queues here (a delivery and
its retries stay on one of them). One slow or unreachable callback then does not hold every other event back.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import requests

from bridge.simulators.killbill.clock import SimClock
from bridge.simulators.killbill.wire import dumps, format_instant
from bridge.simulators.killbill.worker import Worker

HEADERS = {"Content-Type": "application/json; charset=UTF-8", "User-Agent": "KillBill/1.0"}
BUS_THREADS = 4


@dataclass
class Delivery:
    id: int
    tenant_id: UUID
    url: str
    body: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    dropped: bool = False


def notification_body(event: dict[str, Any]) -> str:
    """Compact JSON in NotificationJson's field order; ``metaData`` is itself a JSON string."""
    return dumps({"eventType": event["eventType"], "accountId": event["accountId"],
                  "objectType": event["objectType"], "objectId": event["objectId"],
                  "metaData": event["metaData"]})


class PushNotifier:
    def __init__(self, clock: SimClock, retries: Callable[[], Sequence[timedelta]],
                 timeout: Callable[[], float], threads: int = BUS_THREADS) -> None:
        self._clock = clock
        self._retries = retries
        self._timeout = timeout
        self._workers = [Worker(f"push-{number}", clock) for number in range(threads)]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []

    def notify(self, tenant_id: UUID, url: str | None, event: dict[str, Any]) -> None:
        """Queue one event for the tenant's callback; without a callback Kill Bill sends nothing."""
        if not url:
            return
        delivery = Delivery(next(self._ids), tenant_id, url, notification_body(event))
        with self._lock:
            self._deliveries.append(delivery)
        self._worker(delivery).submit(lambda: self._attempt(delivery))

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._view(d) for d in self._deliveries]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        return all(worker.wait_idle(max(0.0, deadline - time.monotonic())) for worker in self._workers)

    def stop(self) -> None:
        for worker in self._workers:
            worker.stop()

    def _worker(self, delivery: Delivery) -> Worker:
        return self._workers[delivery.id % len(self._workers)]

    def _attempt(self, delivery: Delivery) -> None:
        started = self._clock.now()
        status, error = self._post(delivery)
        number = len(delivery.attempts)
        ok = status is not None and 200 <= status < 300
        retries = list(self._retries())
        next_at = None if ok or number >= len(retries) else self._clock.now() + retries[number]
        with self._lock:
            delivery.attempts.append({"attempt": number, "at": format_instant(started), "status": status,
                                      "error": error, "nextAttemptAt": next_at and format_instant(next_at)})
            delivery.delivered = ok
            delivery.dropped = not ok and next_at is None
        if next_at is not None:
            self._worker(delivery).submit(lambda: self._attempt(delivery), at=next_at)

    def _post(self, delivery: Delivery) -> tuple[int | None, str | None]:
        try:
            response = requests.post(delivery.url, data=delivery.body.encode("utf-8"), headers=HEADERS,
                                     timeout=self._timeout(), allow_redirects=False)
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    @staticmethod
    def _view(delivery: Delivery) -> dict[str, Any]:
        return {"id": delivery.id, "tenantId": str(delivery.tenant_id), "url": delivery.url, "body": delivery.body,
                "delivered": delivery.delivered, "dropped": delivery.dropped, "attempts": list(delivery.attempts)}
