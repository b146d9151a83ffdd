"""Fixtures for the Hyperswitch client against the Hyperswitch simulator over loopback HTTP.

``recorder`` is an ``HTTPAdapter`` that keeps every request the client sends and every answer the
simulator returns, without changing how the client reads them (the body is teed as the client reads
it). When a test ends, every request and every complete answer is validated against the real spec.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, Response, request
from requests.adapters import HTTPAdapter

from bridge.simulators.hyperswitch import SimulatorState, create_app
from bridge.simulators.server import BackgroundServer
from hyperswitch_client import HyperswitchClient, RetryPolicy
from tests.contract.spec import hyperswitch_spec

MERCHANT = {"merchant_id": "merchant_it", "api_key": "snd_it_key_3c9d1e7f0a2b4c6d",
            "profile_id": "pro_it", "publishable_key": "pk_snd_it",
            "payment_response_hash_key": "it_hash_key_" + "5e" * 26}
OTHER_MERCHANT = {"merchant_id": "merchant_other", "api_key": "snd_other_key_8a7b6c5d4e3f",
                  "profile_id": "pro_other", "publishable_key": "pk_snd_other",
                  "payment_response_hash_key": "other_hash_key_" + "a1" * 25}
# Short waits between retries so tests stay fast; the delays asked for are recorded by ``sleeps``.
FAST_POLICY = RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.05, jitter=0.01,
                          min_attempt_seconds=0.05)


def new_id(prefix: str, length: int = 30) -> str:
    """A merchant-supplied id of exactly ``length`` characters, like the bridge derives them."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length - len(prefix)))


# -- recording ---------------------------------------------------------------------------------------


@dataclass
class Exchange:
    method: str
    url: str
    request_body: bytes | None
    status: int | None = None
    content_type: str = ""
    response_body: bytes | None = None  # set once the client has read the whole body
    error: str | None = None  # the transport failure, if no answer arrived

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        if self.response_body is None or not self.content_type.startswith("application/json"):
            return None
        return json.loads(self.response_body) if self.response_body else None


class _TeeRaw:
    """Wraps ``response.raw``: what the client reads is also kept, nothing else changes."""

    def __init__(self, raw: Any, exchange: Exchange) -> None:
        self._raw = raw
        self._exchange = exchange
        self._chunks: list[bytes] = []

    def _keep(self, data: bytes, *, at_end: bool) -> bytes:
        if data:
            self._chunks.append(data)
        if at_end or not data:
            self._exchange.response_body = b"".join(self._chunks)
        return data

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return self._keep(self._raw.read1(amt, decode_content=decode_content), at_end=False)

    def read(self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any) -> bytes:
        data = self._raw.read(amt, decode_content=decode_content, **kwargs)
        return self._keep(data, at_end=amt is None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class RecordingAdapter(HTTPAdapter):
    """No retries of its own (the client's session contract), and a record of every exchange."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        exchange = Exchange(request.method or "", request.url or "", body)
        with self._lock:
            self.exchanges.append(exchange)
        try:
            response = super().send(request, *args, **kwargs)
        except Exception as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
            raise
        exchange.status = response.status_code
        exchange.content_type = response.headers.get("Content-Type", "")
        response.raw = _TeeRaw(response.raw, exchange)
        return response

    def calls(self, method: str, path_prefix: str = "") -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.method == method and e.path.startswith(path_prefix)]


def validate_exchanges(exchanges: list[Exchange]) -> int:
    """Validate every request and every complete answer against the spec; returns answers checked."""
    checked = 0
    for exchange in exchanges:
        hyperswitch_spec.validate_http_request(exchange.method, exchange.url, exchange.request_body)
        if exchange.status is None or exchange.response_body is None:
            continue  # no answer (transport failure) or the client gave up reading it
        hyperswitch_spec.validate_response(exchange.method, exchange.path, exchange.status,
                                           exchange.response_json())
        checked += 1
    return checked


@pytest.fixture
def recorder() -> Iterator[RecordingAdapter]:
    adapter = RecordingAdapter()
    yield adapter
    validate_exchanges(adapter.exchanges)


@pytest.fixture
def recorded_session(recorder: RecordingAdapter) -> Iterator[requests.Session]:
    session = requests.Session()
    session.mount("http://", recorder)
    session.mount("https://", recorder)
    yield session
    session.close()


# -- the simulator ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _hs_simulator() -> Iterator[tuple[SimulatorState, BackgroundServer]]:
    # One server per test process (xdist worker), on a free loopback port.
    state = SimulatorState()
    with BackgroundServer(create_app(state)) as server:
        yield state, server
    state.shutdown()


@pytest.fixture
def hs_state(_hs_simulator: tuple[SimulatorState, BackgroundServer]) -> Iterator[SimulatorState]:
    """The simulator, emptied and seeded with ``MERCHANT`` and ``OTHER_MERCHANT`` for each test."""
    state, _ = _hs_simulator
    state.reset(merchants=True)
    state.seed_merchant(MERCHANT)
    state.seed_merchant(OTHER_MERCHANT)
    state.configure_webhooks(retry_schedule=[0.05, 0.1, 0.2], timeout=2.0)
    yield state
    state.reset(merchants=True)
    state.wait_for_deliveries(timeout=3.0)


@pytest.fixture
def hs_url(_hs_simulator: tuple[SimulatorState, BackgroundServer], hs_state: SimulatorState) -> str:
    return _hs_simulator[1].url


@dataclass
class Sleeps:
    """The client's ``sleep``: records each wait it asks for and waits at most ``cap`` seconds."""

    cap: float = 0.05
    asked: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        time.sleep(min(seconds, self.cap))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(hs_url: str, recorded_session: requests.Session,
                sleeps: Sleeps) -> Iterator[Callable[..., HyperswitchClient]]:
    """Build a client of ``MERCHANT`` on the recorded session; options override the test defaults."""
    made: list[HyperswitchClient] = []

    def make(**options: Any) -> HyperswitchClient:
        options.setdefault("profile_id", MERCHANT["profile_id"])
        options.setdefault("retry_policy", FAST_POLICY)
        options.setdefault("session", recorded_session)
        options.setdefault("sleep", sleeps)
        options.setdefault("read_timeout", 5.0)
        options.setdefault("deadline", 10.0)
        base_url = options.pop("base_url", hs_url)
        api_key = options.pop("api_key", MERCHANT["api_key"])
        client = HyperswitchClient(base_url, api_key, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def hs_client(make_client: Callable[..., HyperswitchClient]) -> HyperswitchClient:
    return make_client()


# -- a webhook receiver ----------------------------------------------------------------------------


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]


@dataclass
class WebhookReceiver:
    """Records every POST to ``url`` as received (raw bytes and headers) and answers 200."""

    url: str = ""
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("it_webhook_receiver")

        @app.post("/hooks")
        def hook() -> Response:
            with self.lock:
                self.received.append(Delivery(request.get_data(), dict(request.headers)))
            return Response("ok", status=200)

        return app

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float = 5.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = list(self.received)
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks not received in time; got {len(got)}")
            time.sleep(0.01)


@pytest.fixture(scope="session")
def _receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    with BackgroundServer(receiver.app()) as server:
        receiver.url = server.url + "/hooks"
        yield receiver


@pytest.fixture
def receiver(_receiver: WebhookReceiver) -> WebhookReceiver:
    with _receiver.lock:
        _receiver.received.clear()
    return _receiver
