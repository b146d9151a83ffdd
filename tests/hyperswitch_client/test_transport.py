"""Transport failures on real loopback sockets: refused, silent, reset, trickling."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time
from collections.abc import Callable

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError

from hyperswitch_client import (
    APITimeoutError,
    AuditRecord,
    ConnectError,
    ConnectionLostError,
    ErrorKind,
    HyperswitchClient,
    RetryPolicy,
)
from hyperswitch_client.payments import PaymentCreateParams
from tests.hyperswitch_client.conftest import (
    BASE_URL,
    CUSTOMER_ID,
    PAYMENT_ID,
    LoopbackServer,
    assert_request_matches_spec,
    payment_body,
)

Start = Callable[[Callable[[socket.socket], None]], LoopbackServer]
FAST_RETRIES = RetryPolicy(max_retries=1, initial_backoff=0.05, jitter=0.0, min_attempt_seconds=0.05)


def real_time_client(
    make_client: Callable[..., HyperswitchClient], url: str, **options: object
) -> HyperswitchClient:
    settings: dict[str, object] = {"base_url": url, "clock": time.monotonic, "sleep": time.sleep,
                                   "retry_policy": FAST_RETRIES}  # fmt: skip
    settings.update(options)
    return make_client(**settings)


def never_answer(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.recv(1)  # returns when the client gives up and closes


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def answer(body: dict) -> Callable[[socket.socket], None]:
    payload = json.dumps(body).encode()

    def handler(conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        conn.sendall(head + b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))

    return handler


def trickle(conn: socket.socket) -> None:
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        for _ in range(40):
            time.sleep(0.1)
            conn.sendall(b" ")
    except OSError:
        pass


def trickle_then_stall(conn: socket.socket) -> None:
    try:
        time.sleep(0.35)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        for _ in range(2):
            time.sleep(0.3)
            conn.sendall(b" ")
        conn.recv(1)  # then silence until the client gives up
    except OSError:
        pass


def validate_captured(server: LoopbackServer) -> None:
    for raw in server.requests:
        head, _, body = raw.partition(b"\r\n\r\n")
        method, target, _version = head.split(b"\r\n", 1)[0].decode().split(" ")
        assert_request_matches_spec(method, "http://loopback" + target, body or None)


def wait_for_requests(server: LoopbackServer, count: int) -> None:
    deadline = time.monotonic() + 2
    while len(server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)


# ---------------------------------------------------------------- nothing sent


def test_connection_refused_is_not_processed(
    make_client: Callable[..., HyperswitchClient], closed_port_url: str, audit_log: list[AuditRecord]
) -> None:
    client = make_client(base_url=closed_port_url)
    with pytest.raises(ConnectError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    assert caught.value.kind is ErrorKind.NOT_PROCESSED and caught.value.http_status is None
    assert caught.value.attempts == 4
    assert [(r.status, r.error_kind) for r in audit_log] == [(None, ErrorKind.NOT_PROCESSED)] * 4


def test_a_refused_capture_is_resent_because_nothing_was_sent(
    make_client: Callable[..., HyperswitchClient], closed_port_url: str, audit_log: list[AuditRecord]
) -> None:
    client = make_client(base_url=closed_port_url)
    with pytest.raises(ConnectError) as caught:
        client.payments.capture(PAYMENT_ID)
    assert caught.value.attempts == 4 and len(audit_log) == 4


def test_a_dns_failure_is_not_processed(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    failure = NameResolutionError("hyperswitch.test", None, socket.gaierror(-2, "Name or service not known"))  # type: ignore[arg-type]
    api.post(
        f"{BASE_URL}/payments/{PAYMENT_ID}/capture",
        body=requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason=failure)),
    )  # type: ignore[arg-type]
    api.post(f"{BASE_URL}/payments/{PAYMENT_ID}/capture", json=payment_body(status="succeeded"))
    assert client.payments.capture(PAYMENT_ID).status == "succeeded"
    assert len(api.calls) == 2


def test_a_connect_timeout_is_not_processed(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payments/{PAYMENT_ID}/cancel",
             body=requests.exceptions.ConnectTimeout("connect timed out"))  # fmt: skip
    with pytest.raises(ConnectError) as caught:
        client.payments.cancel(PAYMENT_ID)
    assert caught.value.kind is ErrorKind.NOT_PROCESSED and caught.value.attempts == 4


# ---------------------------------------------------------------- sent, no answer


def test_a_read_timeout_after_sending_is_unknown_and_a_capture_is_not_resent(
    make_client: Callable[..., HyperswitchClient], loopback: Start
) -> None:
    server = loopback(never_answer)
    client = real_time_client(make_client, server.url, read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        client.payments.capture(PAYMENT_ID)
    assert time.monotonic() - started < 2
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME and caught.value.attempts == 1
    wait_for_requests(server, 1)
    assert len(server.requests) == 1
    validate_captured(server)


def test_a_read_timeout_on_a_read_is_retried(
    make_client: Callable[..., HyperswitchClient], loopback: Start
) -> None:
    server = loopback(never_answer)
    client = real_time_client(make_client, server.url, read_timeout=0.2)
    with pytest.raises(APITimeoutError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    assert caught.value.attempts == 2
    wait_for_requests(server, 2)
    assert len(server.requests) == 2


def test_a_reset_after_sending_is_unknown_and_not_resent(
    make_client: Callable[..., HyperswitchClient], loopback: Start
) -> None:
    server = loopback(reset)
    client = real_time_client(make_client, server.url)
    params = PaymentCreateParams(amount=6540, currency="USD", confirm=True, customer_id=CUSTOMER_ID,
                                 off_session=True,
                                 recurring_details={"type": "payment_method_id", "data": "pm_1"})  # fmt: skip
    with pytest.raises(ConnectionLostError) as caught:
        client.payments.create(params)  # no payment_id: not idempotent
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME and caught.value.attempts == 1
    wait_for_requests(server, 1)
    assert len(server.requests) == 1
    validate_captured(server)


def test_the_deadline_cuts_a_trickling_answer(
    make_client: Callable[..., HyperswitchClient], loopback: Start
) -> None:
    server = loopback(trickle)
    client = real_time_client(make_client, server.url, deadline=0.8, read_timeout=5.0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed < 1.3
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME and caught.value.http_status == 200


def test_a_stalled_answer_never_outlives_the_deadline(
    make_client: Callable[..., HyperswitchClient], loopback: Start
) -> None:
    # Every wait is shorter than the 0.4 s read timeout; only the deadline can end this call.
    server = loopback(trickle_then_stall)
    client = real_time_client(make_client, server.url, deadline=1.0, read_timeout=0.4)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        client.payments.retrieve(PAYMENT_ID)
    assert time.monotonic() - started < 1.15


# ---------------------------------------------------------------- a real exchange


def test_a_payment_over_real_http(make_client: Callable[..., HyperswitchClient], loopback: Start) -> None:
    server = loopback(answer(payment_body(status="succeeded")))
    client = real_time_client(make_client, server.url, profile_id="pro_1")
    params = PaymentCreateParams(amount=6540, currency="USD", payment_id=PAYMENT_ID, confirm=True,
                                 customer_id=CUSTOMER_ID, off_session=True,
                                 recurring_details={"type": "payment_method_id", "data": "pm_1"})  # fmt: skip
    assert client.payments.create(params).status == "succeeded"
    wait_for_requests(server, 1)
    head = server.requests[0].split(b"\r\n\r\n")[0].lower()
    assert b"\r\napi-key: snd_test_key_9f3b2c" in head and b"\r\nx-profile-id: pro_1" in head
    validate_captured(server)
