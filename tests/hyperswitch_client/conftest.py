"""Fixtures for the Hyperswitch client: a mocked API whose every request is checked against the spec,
real example payloads, a fake clock, and loopback servers for transport failures."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses

from hyperswitch_client import AuditRecord, HyperswitchClient, RetryPolicy
from tests.contract.spec import hyperswitch_spec

BASE_URL = "https://hyperswitch.test"
API_KEY = "snd_test_key_9f3b2c"
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "examples" / "hyperswitch"

# Ids derived from Kill Bill ids are exactly 30 characters: valid for the router (1–64) and the spec
# (minLength = maxLength = 30).
PAYMENT_ID = "pay_kb3f0c9a7e5b4d2c1a0f9e8d7c"
REFUND_ID = "ref_kb3f0c9a7e5b4d2c1a0f9e8d7c"
CUSTOMER_ID = "cus_kb5a1f0e2d3c4b5a69788796a5"

def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def example_bytes(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def payment_body(**overrides: Any) -> dict[str, Any]:
    """A full PaymentsResponse built from a real spec example, with our id."""
    body = example("payment_create_minimal.response.json")
    body.update(payment_id=PAYMENT_ID, net_amount=body["amount"])
    body.update(overrides)
    return body


def refund_body(**overrides: Any) -> dict[str, Any]:
    body = example("refund_response.assembled.json")
    body.update(refund_id=REFUND_ID, payment_id=PAYMENT_ID, currency="USD")
    body.update(overrides)
    return body


def assert_request_matches_spec(method: str, url: str, body: bytes | str | None) -> None:
    hyperswitch_spec.validate_http_request(method, url, body)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """The mocked Hyperswitch; at the end every request the client sent is validated against the
    real spec. Unused registrations are allowed (retry tests register more answers than needed)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        for call in mock.calls:
            assert_request_matches_spec(call.request.method, call.request.url, call.request.body)


class FakeClock:
    """Monotonic time that only moves when the client sleeps (and when a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit_log() -> list[AuditRecord]:
    return []


@pytest.fixture
def make_client(clock: FakeClock, audit_log: list[AuditRecord]) -> Iterator[Callable[..., HyperswitchClient]]:
    """A client on the fake clock, without jitter, recording audit records."""
    created: list[HyperswitchClient] = []

    def build(**overrides: Any) -> HyperswitchClient:
        options: dict[str, Any] = {
            "deadline": 15.0,
            "audit_hook": audit_log.append,
            "retry_policy": RetryPolicy(max_retries=3, jitter=0.0),
            "clock": clock,
            "sleep": clock.sleep,
        }
        options.update(overrides)
        base_url = options.pop("base_url", BASE_URL)
        client = HyperswitchClient(base_url, API_KEY, **options)
        created.append(client)
        return client

    yield build
    for client in created:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., HyperswitchClient]) -> HyperswitchClient:
    return make_client()


# ---------------------------------------------------------------- loopback servers


@dataclass
class LoopbackServer:
    """A TCP server on 127.0.0.1 whose behaviour per connection is a function of the socket."""

    handler: Callable[[socket.socket], None]
    requests: list[bytes] = field(default_factory=list)
    _listener: socket.socket = field(init=False)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            self.requests.append(read_http_request(conn))
            self.handler(conn)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accept_thread.join(timeout=2)
        for worker in self._threads:
            worker.join(timeout=2)


def read_http_request(conn: socket.socket) -> bytes:
    """Read one HTTP request (headers + Content-Length body) from ``conn``."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def loopback() -> Iterator[Callable[[Callable[[socket.socket], None]], LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(handler: Callable[[socket.socket], None]) -> LoopbackServer:
        server = LoopbackServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL on which nothing listens: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
