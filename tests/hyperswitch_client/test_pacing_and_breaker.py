"""The client's guards before sending: pacing (wait for a slot within the deadline; a 429's Retry-After
holds off every call sharing the pacer) and the circuit breaker (fail fast while the router keeps failing,
one probe when half-open). Both refuse as "not processed": nothing reached Hyperswitch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import responses

from bridge.edges.buckets import LocalBuckets, Rate
from bridge.edges.pacing import BucketPacer
from hyperswitch_client import (APIError, APITimeoutError, CircuitBreaker, CircuitOpenError, CircuitState,
                                ConnectError, ErrorKind, HyperswitchClient, NotFoundError, RateLimitError, RetryPolicy,
                                ThrottledError)
from hyperswitch_client.enums import IntentStatus

from .conftest import BASE_URL, PAYMENT_ID, FakeClock, payment_body
from .test_retries import create_params

PAYMENT_URL = f"{BASE_URL}/payments/{PAYMENT_ID}"
SERVER_ERROR = {"error": {"type": "api", "message": "Something went wrong", "code": "HE_00"}}
NOT_FOUND = {"error": {"type": "invalid_request", "message": "Payment does not exist in our records",
                       "code": "HE_02"}}
NO_RETRIES = RetryPolicy(max_retries=0, jitter=0.0)


def pacer(clock: FakeClock, per_second: float, burst: int) -> BucketPacer:
    return BucketPacer(LocalBuckets(clock=clock), "merchant", Rate(per_second, burst))


# -- pacing --------------------------------------------------------------------------------------
def test_a_burst_beyond_the_bucket_waits_for_its_slots_and_all_go(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    client = make_client(pacer=pacer(clock, per_second=2.0, burst=2))
    api.get(PAYMENT_URL, json=payment_body(status="succeeded"))
    for _ in range(5):
        assert client.payments.retrieve(PAYMENT_ID).status is IntentStatus.SUCCEEDED
    # Two at once, then one every half second: the caller waited, nothing was refused.
    assert clock.sleeps == [0.5, 0.5, 0.5] and len(api.calls) == 5


def test_no_slot_within_the_deadline_is_refused_unsent(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    client = make_client(pacer=pacer(clock, per_second=0.01, burst=1), deadline=15.0)  # a slot per 100 s
    api.post(f"{PAYMENT_URL}/capture", json=payment_body(status="succeeded"))
    client.payments.capture(PAYMENT_ID)
    with pytest.raises(ThrottledError) as caught:
        client.payments.capture(PAYMENT_ID)
    error = caught.value
    assert error.kind is ErrorKind.NOT_PROCESSED and error.code == "THROTTLED" and error.attempts == 0
    assert (error.method, error.path) == ("POST", f"/payments/{PAYMENT_ID}/capture")
    assert len(api.calls) == 1 and clock.sleeps == []  # refused at once: no point waiting past the deadline


def test_retry_after_holds_the_retry_once_and_every_call_sharing_the_pacer(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    shared = pacer(clock, per_second=100.0, burst=10)
    first, second = make_client(pacer=shared), make_client(pacer=shared)
    api.post(f"{PAYMENT_URL}/capture", status=429, headers={"Retry-After": "2"}, body=b"")
    api.post(f"{PAYMENT_URL}/capture", json=payment_body(status="succeeded"))
    assert first.payments.capture(PAYMENT_ID).status is IntentStatus.SUCCEEDED
    assert [s for s in clock.sleeps if s] == pytest.approx([2.0])  # waited in the pacer only, not twice
    api.post(f"{PAYMENT_URL}/capture", status=429, headers={"Retry-After": "30"}, body=b"")
    with pytest.raises(RateLimitError):
        first.payments.capture(PAYMENT_ID)  # 30 s is beyond the deadline: given up, unsent
    calls = len(api.calls)
    with pytest.raises(ThrottledError):
        second.payments.retrieve(PAYMENT_ID)  # Hyperswitch asked for 30 s of quiet: not even tried
    assert len(api.calls) == calls


def test_rate_limits_are_retried_until_the_deadline_not_max_retries(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    client = make_client(retry_policy=RetryPolicy(max_retries=1, jitter=0.0),
                         pacer=pacer(clock, per_second=50.0, burst=20))
    for _ in range(5):
        api.post(f"{PAYMENT_URL}/capture", status=429, headers={"Retry-After": "1"}, body=b"")
    api.post(f"{PAYMENT_URL}/capture", json=payment_body(status="succeeded"))
    assert client.payments.capture(PAYMENT_ID).status is IntentStatus.SUCCEEDED
    assert len(api.calls) == 6 and sum(clock.sleeps) == pytest.approx(5.0)


# -- the circuit breaker -------------------------------------------------------------------------
def breaker(clock: FakeClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(BASE_URL, failure_threshold=threshold, open_seconds=30.0, clock=clock)


def test_repeated_failures_open_the_circuit_and_calls_then_fail_fast_unsent(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    circuit = breaker(clock)
    client = make_client(breaker=circuit, retry_policy=NO_RETRIES)
    api.get(PAYMENT_URL, status=503, json=SERVER_ERROR)
    api.post(f"{PAYMENT_URL}/capture", body=requests.exceptions.ConnectionError("refused"))
    for _ in range(3):
        with pytest.raises((APIError, ConnectError)):
            client.payments.retrieve(PAYMENT_ID)
    assert circuit.state is CircuitState.OPEN
    sent = len(api.calls)
    with pytest.raises(CircuitOpenError) as caught:
        client.payments.capture(PAYMENT_ID)  # money-moving: refused before sending, so "not processed"
    assert caught.value.kind is ErrorKind.NOT_PROCESSED and caught.value.code == "CIRCUIT_OPEN"
    assert caught.value.attempts == 0 and len(api.calls) == sent


def test_a_retry_refused_by_the_breaker_keeps_the_unknown_outcome_of_the_attempt_sent(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    """A create answered 503 may have run: its retry refused unsent must not turn it into "not processed"."""
    circuit = breaker(clock, threshold=2)
    client = make_client(breaker=circuit)
    api.post(f"{BASE_URL}/payments", status=503, json=SERVER_ERROR)
    with pytest.raises(APIError) as caught:
        client.payments.create(create_params())
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME and caught.value.attempts == 2
    assert len(api.calls) == 2 and circuit.state is CircuitState.OPEN and clock.sleeps == [0.25]


def test_a_retry_refused_by_pacing_keeps_the_unknown_outcome_too(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    client = make_client(pacer=pacer(clock, per_second=0.05, burst=1))  # the next slot is 20 s away
    api.post(f"{PAYMENT_URL}/capture", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(APITimeoutError) as caught:
        client.payments.capture(PAYMENT_ID)
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME and len(api.calls) == 1


def test_definite_answers_prove_the_router_up(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    circuit = breaker(clock, threshold=2)
    client = make_client(breaker=circuit, retry_policy=NO_RETRIES)
    api.get(PAYMENT_URL, status=503, json=SERVER_ERROR)
    api.get(PAYMENT_URL, status=404, json=NOT_FOUND)
    api.get(PAYMENT_URL, status=503, json=SERVER_ERROR)
    api.get(PAYMENT_URL, status=429, body=b"")
    api.get(PAYMENT_URL, status=503, json=SERVER_ERROR)
    for expected in (APIError, NotFoundError, APIError, APIError):  # the last: a 429, then its retry's 503
        with pytest.raises(expected):
            client.payments.retrieve(PAYMENT_ID)
    assert len(api.calls) == 5 and circuit.state is CircuitState.CLOSED  # never two failures in a row


def test_after_open_seconds_one_probe_decides(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    circuit = breaker(clock, threshold=1)
    client = make_client(breaker=circuit, retry_policy=NO_RETRIES)
    api.get(PAYMENT_URL, status=502, json=SERVER_ERROR)
    api.get(PAYMENT_URL, status=502, json=SERVER_ERROR)
    api.get(PAYMENT_URL, json=payment_body(status="succeeded"))
    with pytest.raises(APIError):
        client.payments.retrieve(PAYMENT_ID)
    clock.now += 29.9
    with pytest.raises(CircuitOpenError):
        client.payments.retrieve(PAYMENT_ID)
    clock.now += 0.1
    with pytest.raises(APIError):
        client.payments.retrieve(PAYMENT_ID)  # the probe fails: open for another 30 s
    assert circuit.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        client.payments.retrieve(PAYMENT_ID)
    clock.now += 30
    assert client.payments.retrieve(PAYMENT_ID).status is IntentStatus.SUCCEEDED  # the probe succeeds
    assert circuit.state is CircuitState.CLOSED and len(api.calls) == 3


def test_half_open_lets_one_probe_through_at_a_time(clock: FakeClock) -> None:
    events: list[tuple[str, str, str]] = []

    class Listener:
        def state_changed(self, name: str, old: CircuitState, new: CircuitState) -> None:
            events.append((name, old.value, new.value))

        def rejected(self, name: str, state: CircuitState) -> None:
            events.append((name, "rejected", state.value))

    circuit = CircuitBreaker("hs", failure_threshold=1, open_seconds=5.0, listener=Listener(), clock=clock)
    circuit.failed(circuit.admit())
    clock.now += 5
    probe = circuit.admit()
    with pytest.raises(CircuitOpenError):
        circuit.admit()  # while the probe runs
    circuit.abandoned(probe)  # never sent (no pacing slot): proves nothing, frees the probe
    circuit.succeeded(circuit.admit())
    assert circuit.state is CircuitState.CLOSED
    assert events == [("hs", "closed", "open"), ("hs", "open", "half_open"), ("hs", "rejected", "half_open"),
                      ("hs", "half_open", "closed")]


def test_an_open_circuit_refuses_before_pacing_takes_a_slot(
        api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock) -> None:
    circuit, slots = breaker(clock, threshold=1), pacer(clock, per_second=1.0, burst=1)
    client = make_client(breaker=circuit, pacer=slots, retry_policy=NO_RETRIES)
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    with pytest.raises(APIError):
        client.payments.retrieve(PAYMENT_ID)
    for _ in range(3):
        with pytest.raises(CircuitOpenError):
            client.payments.retrieve(PAYMENT_ID)
    assert clock.sleeps == []  # failed fast: no waiting for slots it would not use
