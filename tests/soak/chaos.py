"""Faults during the load, all seeded: the Hyperswitch simulator's fault rules (by probability) and disordered
webhooks, SIGKILLs of the bridge's web and worker processes at random moments (each restarted at once, as an
orchestrator would), and Kill Bill failing some notifyStateChanged calls."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.soak.world import READ_TIMEOUT_SECONDS, WEBHOOK_RETRIES, World

# Longer than the bridge's Hyperswitch read timeout: the bridge gives up, Hyperswitch goes on.
HOLD_MS = int(READ_TIMEOUT_SECONDS * 1000) + 1000
# Webhooks during the chaos: each one late, sent twice (same event id), and newest first within a window.
DISORDERED_WEBHOOKS = {"delay": 0.3, "duplicates": 1, "reorder_window": 0.5}
CALM_WEBHOOKS = {"delay": 0.0, "duplicates": 0, "reorder_window": 0.0, "retry_schedule": WEBHOOK_RETRIES}


@dataclass(frozen=True)
class Fault:
    """One fault rule: ``label`` names it in the counts (two labels may share a simulator ``kind``)."""

    label: str
    method: str
    path: str
    kind: str
    probability: float
    options: tuple[tuple[str, Any], ...] = ()


def _creates(path: str) -> list[Fault]:
    return [
        Fault("drop_after_commit", "POST", path, "drop_after_commit", 0.03),
        Fault("timeout_after_commit", "POST", path, "drop_after_commit", 0.01, (("hold_ms", HOLD_MS),)),
        Fault("timeout_then_commit", "POST", path, "latency", 0.01, (("latency_ms", HOLD_MS),)),
        Fault("error_500", "POST", path, "error", 0.03, (("status", 500),)),
        Fault("error_503", "POST", path, "error", 0.01, (("status", 503),)),
        Fault("rate_limit_429", "POST", path, "rate_limit", 0.005, (("retry_after", 1),)),
        Fault("connection_reset", "POST", path, "reset", 0.02),
    ]


def _reads(path: str) -> list[Fault]:
    return [
        Fault("error_500", "GET", path, "error", 0.03, (("status", 500),)),
        Fault("connection_reset", "GET", path, "reset", 0.02),
        Fault("timeout_then_commit", "GET", path, "latency", 0.005, (("latency_ms", HOLD_MS),)),
        Fault("rate_limit_429", "GET", path, "rate_limit", 0.002, (("retry_after", 1),)),
    ]


FAULTS = (*_creates("/payments"), *_creates("/refunds"), *_reads("/payments/{payment_id}"),
          *_reads("/refunds/{refund_id}"))


class Chaos:
    """``start`` installs the faults and starts the killer and the notify failer; ``stop`` (idempotent) ends it
    all and records what fired in ``counts``."""

    def __init__(self, world: World, *, seed: int, kill_every: float, notify_every: float, fault_scale: float,
                 counts: Counter[str]) -> None:
        self.world = world
        self.seed = seed
        self.kill_every = kill_every
        self.notify_every = notify_every
        self.fault_scale = fault_scale
        self.counts = counts
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._labels: dict[int, str] = {}
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self.began = self.ended = 0.0
        self.error: BaseException | None = None

    def start(self) -> None:
        hyperswitch = self.world.hyperswitch
        for number, fault in enumerate(FAULTS):
            rule = hyperswitch.control("POST", "/faults", json={
                "method": fault.method, "path": fault.path, "kind": fault.kind,
                "probability": min(1.0, fault.probability * self.fault_scale), "seed": self.seed * 1000 + number,
                **dict(fault.options)})
            self._labels[rule["rule_id"]] = fault.label
        hyperswitch.control("POST", "/webhooks/config", json=DISORDERED_WEBHOOKS)
        self.began = time.monotonic()
        for name, target in (("soak-killer", self._kill), ("soak-notify-failer", self._fail_notifications)):
            thread = threading.Thread(target=self._guarded, args=(target,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._lock:  # a second caller waits until the first has finished stopping
            if not self._stopped:
                self._stopped = True
                self._end()

    def _end(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.ended = time.monotonic()
        hyperswitch = self.world.hyperswitch
        for rule in hyperswitch.control("GET", "/faults"):
            self.counts[f"faults.{self._labels.get(rule['rule_id'], rule['kind'])}"] += rule["fired"]
        hyperswitch.control("DELETE", "/faults")
        hyperswitch.control("POST", "/webhooks/config", json=CALM_WEBHOOKS)
        for service in self.world.sidecar.services.values():  # a restart cut short still leaves it running
            if not service.alive():
                self.world.sidecar.restart(service.name)
        self.counts["chaos.seconds"] = round(self.ended - self.began)

    def stop_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self._guarded, args=(self.stop,))
        timer.daemon = True
        timer.start()
        return timer

    def _guarded(self, target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the scenario after the run
            self.error = exc

    def _kill(self) -> None:
        """SIGKILL one process at a random moment, start it again, repeat: every process once per round, in a
        random order."""
        rng = random.Random(f"{self.seed}:kills")
        order: list[str] = []
        while not self._stop.wait(rng.expovariate(1 / self.kill_every)):
            if not order:
                order = list(self.world.sidecar.services)
                rng.shuffle(order)
            name = order.pop()
            began = time.monotonic()
            self.world.sidecar.restart(name)
            self.counts[f"kills.{name}"] += 1
            if name == "web":  # how long Kill Bill found nobody listening (or not yet ready)
                self.counts["kills.web_down_seconds"] += round(time.monotonic() - began)

    def _fail_notifications(self) -> None:
        """Now and then, the next one to three notifyStateChanged calls fail (500 or 503)."""
        rng = random.Random(f"{self.seed}:notify")
        killbill = self.world.killbill
        while not self._stop.wait(rng.expovariate(1 / self.notify_every)):
            if killbill.control("GET", "/notify-state-changed/fail-next")["remaining"]:
                continue
            count = rng.randint(1, 3)
            killbill.control("POST", "/notify-state-changed/fail-next",
                             json={"count": count, "status": rng.choice((500, 503))})
            self.counts["notify_failures.injected"] += count
