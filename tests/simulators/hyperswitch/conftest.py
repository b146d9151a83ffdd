"""Fixtures: a simulator with two merchants on a loopback port, and a local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, Response, request

from bridge.simulators.hyperswitch import SimulatorState, create_app
from bridge.simulators.server import BackgroundServer

from .contract import HyperswitchHttp

MERCHANT_A = {"merchant_id": "merchant_a", "api_key": "snd_test_key_a", "profile_id": "pro_a",
              "publishable_key": "pk_snd_a", "payment_response_hash_key": "hash_key_a_" + "a" * 53}
MERCHANT_B = {"merchant_id": "merchant_b", "api_key": "snd_test_key_b", "profile_id": "pro_b",
              "publishable_key": "pk_snd_b", "payment_response_hash_key": "hash_key_b_" + "b" * 53}
FAST_RETRIES = [0.05, 0.1, 0.2]


def _real_clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="session")
def _simulator() -> Iterator[tuple[SimulatorState, BackgroundServer]]:
    # One server per worker: stopping a werkzeug server costs its 0.5 s poll interval.
    simulator = SimulatorState()
    with BackgroundServer(create_app(simulator)) as running:
        yield simulator, running
    simulator.shutdown()


@pytest.fixture
def state(_simulator: tuple[SimulatorState, BackgroundServer]) -> Iterator[SimulatorState]:
    """The simulator, emptied and seeded with merchants A and B for each test."""
    simulator, _ = _simulator
    simulator.reset(merchants=True)
    simulator.clock = _real_clock
    simulator.seed_merchant(MERCHANT_A)
    simulator.seed_merchant(MERCHANT_B)
    simulator.configure_webhooks(retry_schedule=FAST_RETRIES, timeout=2.0)
    yield simulator
    simulator.reset(merchants=True)
    simulator.wait_for_deliveries(timeout=3.0)  # let an attempt already on the wire finish


@pytest.fixture
def server(_simulator: tuple[SimulatorState, BackgroundServer], state: SimulatorState) -> BackgroundServer:
    return _simulator[1]


@pytest.fixture
def hs(server: BackgroundServer) -> HyperswitchHttp:
    return HyperswitchHttp(server.url, MERCHANT_A["api_key"])


@pytest.fixture
def hs_b(server: BackgroundServer) -> HyperswitchHttp:
    return HyperswitchHttp(server.url, MERCHANT_B["api_key"])


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    at: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Records every POST; answers with the queued statuses first, then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.statuses.extend(statuses)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.received)}")

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.json() for r in self.received]

    def app(self) -> Flask:
        app = Flask("webhook_receiver")

        @app.post("/hook")
        def hook() -> Response:
            with self.lock:
                self.received.append(Received(request.get_data(), dict(request.headers), time.monotonic()))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response("ok", status=status)

        return app


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[WebhookReceiver]:
    hooks = WebhookReceiver()
    with BackgroundServer(hooks.app()) as running:
        hooks.url = running.url + "/hook"
        yield hooks


@pytest.fixture
def receiver(_receiver_server: WebhookReceiver) -> WebhookReceiver:
    """The webhook receiver, with nothing recorded and nothing queued."""
    with _receiver_server.lock:
        _receiver_server.received.clear()
        _receiver_server.statuses.clear()
    return _receiver_server


@pytest.fixture
def webhooked(state: SimulatorState, receiver: WebhookReceiver, hs: HyperswitchHttp) -> WebhookReceiver:
    """Merchant A's profile sends its webhooks to ``receiver`` (set through the profile API)."""
    response = hs.post(f"/account/{MERCHANT_A['merchant_id']}/business_profile/{MERCHANT_A['profile_id']}",
                       {"webhook_details": {"webhook_url": receiver.url}})
    assert response.status_code == 200, response.text
    return receiver
