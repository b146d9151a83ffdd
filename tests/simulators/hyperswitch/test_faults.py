"""Fault injection per route: latency, 5xx, 429, lock contention, connection reset, commit-then-drop."""

from __future__ import annotations

import random
import time

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .contract import HyperswitchHttp
from .helpers import card_payment, error_of, pay


def overview(state: SimulatorState, payment_id: str) -> dict | None:
    return next((row for row in state.payments_overview() if row["payment_id"] == payment_id), None)


def test_latency_for_the_next_call_only(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payments", "latency", latency_ms=300, times=1)

    started = time.monotonic()
    pay(hs)
    slow = time.monotonic() - started
    started = time.monotonic()
    pay(hs)
    fast = time.monotonic() - started

    assert slow >= 0.3 and fast < 0.3


def test_5xx_for_the_next_n_calls(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment_id = pay(hs)["payment_id"]
    state.add_fault("GET", "/payments/{payment_id}", "error", times=2)
    state.add_fault("GET", "/refunds/{refund_id}", "error", status=503)

    statuses = [hs.get(f"/payments/{payment_id}").status_code for _ in range(3)]
    unavailable = hs.get("/refunds/ref_anything")

    assert statuses == [500, 500, 200]
    assert unavailable.status_code == 503
    assert error_of(unavailable) == {"type": "api", "code": "HE_00", "message": "Something went wrong"}


def test_injected_5xx_does_not_apply_the_request(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payments", "error", times=1)
    body = card_payment()

    failed = hs.post("/payments", body)

    assert failed.status_code == 500
    assert hs.get(f"/payments/{body['payment_id']}").status_code == 404


def test_rate_limit_with_retry_after(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payments", "rate_limit", times=1, retry_after=2)

    limited = hs.post("/payments", card_payment())
    allowed = hs.post("/payments", card_payment())

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert allowed.status_code == 200


def test_lock_contention_is_422_he_00(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment_id = pay(hs, capture_method="manual")["payment_id"]
    state.add_fault("POST", "/payments/{payment_id}/capture", "busy", times=1)

    busy = hs.post(f"/payments/{payment_id}/capture", {})
    retried = hs.post(f"/payments/{payment_id}/capture", {})

    assert busy.status_code == 422 and error_of(busy)["code"] == "HE_00"
    assert retried.json()["status"] == "succeeded"


def test_connection_reset_before_processing(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payments", "reset", times=1)
    body = card_payment()

    with pytest.raises(requests.ConnectionError):
        hs.post("/payments", body)

    assert hs.get(f"/payments/{body['payment_id']}").status_code == 404
    assert overview(state, body["payment_id"]) is None
    assert hs.post("/payments", body).status_code == 200


def test_commit_then_drop_the_response(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payments", "drop_after_commit", times=1)
    body = card_payment()

    with pytest.raises(requests.ConnectionError):
        hs.post("/payments", body)

    assert hs.get(f"/payments/{body['payment_id']}").json()["status"] == "succeeded"
    retried = hs.post("/payments", body)
    assert retried.status_code == 400 and error_of(retried)["code"] == "HE_01"
    assert overview(state, body["payment_id"])["create_calls"] == 2


def test_commit_then_hold_looks_like_a_timeout(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payments", "drop_after_commit", times=1, hold_ms=800)
    body = card_payment()

    with pytest.raises(requests.ReadTimeout):
        hs.post("/payments", body, timeout=0.3)

    assert hs.get(f"/payments/{body['payment_id']}").json()["status"] == "succeeded"


def test_probability_with_a_seeded_rng_is_reproducible(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment_id = pay(hs)["payment_id"]
    state.add_fault("GET", "/payments/{payment_id}", "error", probability=0.5, seed=7)
    rng = random.Random(7)
    expected = [500 if rng.random() < 0.5 else 200 for _ in range(20)]

    seen = [hs.get(f"/payments/{payment_id}").status_code for _ in range(20)]

    assert seen == expected and 500 in seen and 200 in seen


def test_rules_match_method_and_path_template(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment_id = pay(hs, capture_method="manual")["payment_id"]
    state.add_fault("POST", "/payments/{payment_id}/capture", "error")

    create = hs.post("/payments", card_payment())
    retrieve = hs.get(f"/payments/{payment_id}")
    capture = hs.post(f"/payments/{payment_id}/capture", {})

    assert (create.status_code, retrieve.status_code, capture.status_code) == (200, 200, 500)


def test_faults_over_the_control_api_spare_the_control_api(hs: HyperswitchHttp) -> None:
    control = f"{hs.base_url}/__sim/faults"
    added = requests.post(control, json={"method": "*", "path": "*", "kind": "error", "times": 1}, timeout=5)
    listed = requests.get(control, timeout=5)

    failed = hs.post("/payments", card_payment())
    after = requests.get(control, timeout=5).json()
    cleared = requests.delete(control, timeout=5)

    assert added.status_code == 201 and listed.status_code == 200
    assert failed.status_code == 500
    assert after[0]["fired"] == 1 and cleared.status_code == 200
    assert requests.get(control, timeout=5).json() == []


def test_invalid_fault_rules_are_refused(hs: HyperswitchHttp) -> None:
    control = f"{hs.base_url}/__sim/faults"

    unknown_kind = requests.post(control, json={"method": "GET", "path": "*", "kind": "explode"}, timeout=5)
    bad_probability = requests.post(control, json={"method": "GET", "path": "*", "kind": "error",
                                                   "probability": 2}, timeout=5)

    not_5xx = requests.post(control, json={"method": "GET", "path": "*", "kind": "error", "status": 404}, timeout=5)

    assert unknown_kind.status_code == 400 and bad_probability.status_code == 400 and not_5xx.status_code == 400
    assert requests.get(control, timeout=5).json() == []
