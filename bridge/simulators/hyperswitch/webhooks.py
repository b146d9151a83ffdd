"""Outgoing webhooks: the ``OutgoingWebhook`` envelope, its signature, and delivery with retries.

Behaviour of the real router (reference §6, ``crates/router/src/core/webhooks/``): the body is serialized
once and resent unchanged on every retry (same ``event_id``, same signature); the signature is the
lowercase hex HMAC-SHA512 of the body bytes keyed with the profile's ``payment_response_hash_key``, in
``X-Webhook-Signature-512``; any 2xx counts as delivered; at most one event per (object, event type);
no ordering guarantee. The real retry schedule is ``REAL_RETRY_SCHEDULE`` (about 24 h); the simulator's
is configurable so tests run in seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import requests

from .model import iso, new_id

# Delays before each retry, seconds (OutgoingWebhookRetryProcessTrackerMapping::default): 16 retries.
REAL_RETRY_SCHEDULE: tuple[float, ...] = (60.0,) + (300.0,) * 2 + (600.0,) * 5 + (3600.0,) * 5 + (21600.0,) * 3

# Which status produces which event (common_enums/src/transformers.rs); absent statuses send none.
PAYMENT_EVENTS: dict[str, str] = {
    "succeeded": "payment_succeeded",
    "failed": "payment_failed",
    "processing": "payment_processing",
    "partially_captured_and_processing": "payment_processing",
    "requires_customer_action": "action_required",
    "requires_merchant_action": "action_required",
    "conflicted": "action_required",
    "review": "action_required",
    "cancelled": "payment_cancelled",
    "cancelled_post_capture": "payment_cancelled_post_capture",
    "expired": "payment_expired",
    "requires_capture": "payment_authorized",
    "partially_captured": "payment_captured",
    "partially_captured_and_capturable": "payment_captured",
    "partially_authorized_and_requires_capture": "payment_partially_authorized",
}
REFUND_EVENTS: dict[str, str] = {"succeeded": "refund_succeeded", "failed": "refund_failed"}
# PayoutStatus → EventType (common_enums transformers); the requires_* and ineligible statuses send none.
PAYOUT_EVENTS: dict[str, str] = {
    "success": "payout_success",
    "failed": "payout_failed",
    "cancelled": "payout_cancelled",
    "initiated": "payout_initiated",
    "pending": "payout_processing",
    "expired": "payout_expired",
    "reversed": "payout_reversed",
}
# webhook_details.refund_statuses_enabled takes the storage names (reference §3).
REFUND_STORAGE_NAMES: dict[str, tuple[str, ...]] = {
    "succeeded": ("success",), "failed": ("failure", "transaction_failure"),
}

HEADERS = {"Content-Type": "application/json", "User-Agent": "Hyperswitch-Backend-Server", "Via": "HyperSwitch"}


def sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode("utf-8"), body, hashlib.sha512).hexdigest()


def envelope(merchant_id: str, event_type: str, content_type: str, obj: dict[str, Any],
             moment: datetime) -> tuple[str, bytes]:
    """Serialize an ``OutgoingWebhook`` once; returns its event_id and the exact body bytes."""
    event_id = new_id("evt")
    payload = {
        "merchant_id": merchant_id,
        "event_id": event_id,
        "event_type": event_type,
        "content": {"type": content_type, "object": obj},
        "timestamp": iso(moment),
        "processor_merchant_id": merchant_id,
    }
    return event_id, json.dumps(payload, separators=(",", ":")).encode("utf-8")


@dataclass
class WebhookConfig:
    """Delivery behaviour; all durations in seconds."""

    retry_schedule: tuple[float, ...] = (0.2, 0.5, 1.0)
    timeout: float = 5.0
    delay: float = 0.0          # before the first attempt of every event
    duplicates: int = 0         # extra copies of every event (same body, same event_id)
    reorder_window: float = 0.0  # > 0: events within the window go out newest first
    enabled: bool = True        # the router's [webhooks] outgoing_enabled

    def updated(self, **changes: Any) -> WebhookConfig:
        if "retry_schedule" in changes:
            changes["retry_schedule"] = tuple(float(s) for s in changes["retry_schedule"])
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown webhook settings: {sorted(unknown)}")
        return replace(self, **changes)


@dataclass
class Attempt:
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass
class Delivery:
    delivery_id: int
    event_id: str
    event_type: str
    merchant_id: str
    profile_id: str
    object_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    copy: int = 0
    state: str = "pending"  # pending | delivered | failed | cancelled
    attempts: list[Attempt] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id, "event_id": self.event_id, "event_type": self.event_type,
            "merchant_id": self.merchant_id, "profile_id": self.profile_id, "object_id": self.object_id,
            "url": self.url, "copy": self.copy, "state": self.state,
            "body": self.body.decode("utf-8"), "headers": dict(self.headers),
            "attempts": [asdict(attempt) for attempt in self.attempts],
        }


class WebhookDispatcher:
    """Sends deliveries from background threads and keeps a record of every attempt."""

    def __init__(self, clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._config = WebhookConfig()
        self._deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._batch: list[Delivery] = []
        self._batch_timer: threading.Timer | None = None
        self._active = 0
        self._idle = threading.Condition(self._lock)

    @property
    def config(self) -> WebhookConfig:
        return self._config

    def configure(self, **changes: Any) -> WebhookConfig:
        with self._lock:
            self._config = self._config.updated(**changes)
            return self._config

    def submit(self, *, event_id: str, event_type: str, merchant_id: str, profile_id: str,
               object_id: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            config = self._config
            if not config.enabled:
                return
            copies = [Delivery(next(self._ids), event_id, event_type, merchant_id, profile_id, object_id,
                               url, body, dict(headers), copy=index)
                      for index in range(1 + config.duplicates)]
            self._deliveries.extend(copies)
            if config.reorder_window > 0:
                self._batch.extend(copies)
                if self._batch_timer is None:
                    self._batch_timer = threading.Timer(config.reorder_window, self._flush_batch)
                    self._batch_timer.daemon = True
                    self._batch_timer.start()
                return
        for delivery in copies:
            self._start(delivery, after=None)

    def _flush_batch(self) -> None:
        with self._lock:
            batch, self._batch, self._batch_timer = self._batch, [], None
        previous: threading.Event | None = None
        # Newest first, each first attempt after the previous one's, so the receiver sees the reversal.
        for delivery in reversed(batch):
            previous = self._start(delivery, after=previous)

    def _start(self, delivery: Delivery, after: threading.Event | None) -> threading.Event:
        first_done = threading.Event()
        with self._lock:
            self._active += 1
        thread = threading.Thread(target=self._run, args=(delivery, self._config, self._stop, after, first_done),
                                  daemon=True, name=f"webhook-{delivery.delivery_id}")
        thread.start()
        return first_done

    def _run(self, delivery: Delivery, config: WebhookConfig, stop: threading.Event,
             after: threading.Event | None, first_done: threading.Event) -> None:
        try:
            # The delay runs from submission, before waiting for the newer event of a reordered batch: each
            # event is late by the delay, not by the sum of the delays of those sent before it.
            if stop.is_set() or (config.delay and stop.wait(config.delay)):
                return self._finish(delivery, "cancelled")
            if after is not None:
                after.wait()
            if stop.is_set():
                return self._finish(delivery, "cancelled")
            delivered = self._attempt(delivery, config)
            first_done.set()
            for pause in config.retry_schedule:
                if delivered:
                    break
                if stop.wait(pause):
                    return self._finish(delivery, "cancelled")
                delivered = self._attempt(delivery, config)
            self._finish(delivery, "delivered" if delivered else "failed")
        finally:
            first_done.set()
            with self._lock:
                self._active -= 1
                self._idle.notify_all()

    def _attempt(self, delivery: Delivery, config: WebhookConfig) -> bool:
        started = time.monotonic()
        at = iso(self._clock())
        status, error = None, None
        try:
            response = requests.post(delivery.url, data=delivery.body, headers=delivery.headers,
                                     timeout=config.timeout, allow_redirects=False)
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        duration = int((time.monotonic() - started) * 1000)
        with self._lock:
            delivery.attempts.append(Attempt(at, status, error, duration))
        return status is not None and 200 <= status < 300

    def _finish(self, delivery: Delivery, state: str) -> None:
        with self._lock:
            delivery.state = state

    def deliveries(self, *, merchant_id: str | None = None, event_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_dict() for d in self._deliveries
                    if (merchant_id is None or d.merchant_id == merchant_id)
                    and (event_type is None or d.event_type == event_type)]

    def wait_idle(self, timeout: float) -> bool:
        """Block until no delivery is pending or in flight (for tests and demos)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._active or self._batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
            return True

    def reset(self) -> None:
        """Cancel everything in flight and forget the record; settings go back to their defaults."""
        with self._lock:
            self._stop.set()
            self._stop = threading.Event()
            if self._batch_timer is not None:
                self._batch_timer.cancel()
            self._batch, self._batch_timer = [], None
            self._deliveries = []
            self._config = WebhookConfig()
