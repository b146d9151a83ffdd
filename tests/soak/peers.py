"""What the peers do by themselves while the load runs: the processor behind Hyperswitch settles the payments it
answered ``processing`` (and the refunds it left ``pending``) a few seconds later, and Kill Bill's janitor checks
its PENDING and UNKNOWN transactions when they fall due."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

from tests.soak.world import World

# How long an async payment or refund stays open, and how often it ends well.
SETTLE_AFTER_SECONDS = (1.0, 8.0)
SUCCEEDS = 0.8
POLL_SECONDS = 1.0
JANITOR_EVERY_SECONDS = 2.0
OPEN_PAYMENT, OPEN_REFUND = "processing", "pending"


class Peers:
    def __init__(self, world: World, *, seed: int, counts: Counter[str]) -> None:
        self.world = world
        self.counts = counts
        self._rng = random.Random(f"{seed}:settlements")
        self._due: dict[tuple[str, str, str], float] = {}  # (kind, merchant, id) → when to settle it
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None

    def start(self) -> None:
        for name, target in (("soak-processor", self._settle_when_due), ("soak-janitor", self._janitor)):
            thread = threading.Thread(target=self._guarded, args=(target,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def settle_everything(self) -> int:
        """Settle every payment and refund still open, now (after ``stop``); returns how many."""
        settled = 0
        while True:
            self._discover(time.monotonic())
            if not self._due:
                return settled
            for key in list(self._due):
                settled += self._settle(key)

    def _guarded(self, target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the scenario after the run
            self.error = exc

    def _settle_when_due(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            now = time.monotonic()
            self._discover(now)
            for key, due in list(self._due.items()):
                if due <= now:
                    self._settle(key)

    def _discover(self, now: float) -> None:
        hyperswitch = self.world.hyperswitch
        open_now = {("payment", row["merchant_id"], row["payment_id"])
                    for row in hyperswitch.control("GET", "/payments") if row["status"] == OPEN_PAYMENT}
        open_now |= {("refund", row["merchant_id"], row["refund_id"])
                     for row in hyperswitch.control("GET", "/refunds") if row["status"] == OPEN_REFUND}
        for key in open_now - set(self._due):
            self._due[key] = now + self._rng.uniform(*SETTLE_AFTER_SECONDS)

    def _settle(self, key: tuple[str, str, str]) -> int:
        kind, merchant_id, object_id = key
        del self._due[key]
        succeeded = self._rng.random() < SUCCEEDS
        if kind == "payment":
            body: dict[str, Any] = {"status": "succeeded", "merchant_id": merchant_id} if succeeded else {
                "status": "failed", "merchant_id": merchant_id, "error_code": "card_declined",
                "error_message": "Your card was declined."}
        else:
            body = {"status": "succeeded" if succeeded else "failed", "merchant_id": merchant_id}
        self.world.hyperswitch.control("POST", f"/{kind}s/{object_id}/settle", json=body)
        self.counts[f"async.{kind}s_{body['status']}"] += 1
        return 1

    def _janitor(self) -> None:
        killbill = self.world.killbill
        while not self._stop.wait(JANITOR_EVERY_SECONDS):
            report = killbill.control("POST", "/janitor/run", json={"dueOnly": True})
            self.counts["janitor.checks"] += len(report)
            self.counts["janitor.fixed"] += sum(1 for row in report if row["changed"])
