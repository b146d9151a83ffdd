"""The simulator's rate limit, like the hosted service's (reference §9): requests per second per API key,
a plain-text 429 with Retry-After above it, nothing processed; the control API and other keys unaffected."""

from __future__ import annotations

import requests

from bridge.simulators.hyperswitch import SimulatorState

from .contract import HyperswitchHttp
from .helpers import card_payment


def test_above_the_limit_calls_get_429_with_retry_after_and_are_not_processed(
        hs: HyperswitchHttp, hs_b: HyperswitchHttp, state: SimulatorState) -> None:
    state.set_rate_limit(0.5, burst=2)  # two at once, then one every two seconds
    answers = [hs.post("/payments", card_payment()) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.headers["Retry-After"] == "2" and limited.text == "Too Many Requests"
    assert len(state.payments_overview()) == 2  # the refused call created nothing
    assert hs_b.post("/payments", card_payment()).status_code == 200  # per API key
    assert state.rate_limit() == {"requests_per_second": 0.5, "burst": 2, "admitted": 3, "limited": 1}


def test_the_limit_over_the_control_api(hs: HyperswitchHttp) -> None:
    control = f"{hs.base_url}/__sim/rate_limit"
    assert requests.post(control, json={"requests_per_second": 1, "burst": 1}, timeout=5).status_code == 200
    assert [hs.get("/payments/pay_nothing").status_code for _ in range(2)] == [404, 429]
    assert requests.get(control, timeout=5).json()["limited"] == 1  # the control API itself is never limited
    assert requests.delete(control, timeout=5).json()["requests_per_second"] is None
    assert hs.get("/payments/pay_nothing").status_code == 404
    assert requests.post(control, json={"requests_per_second": 0}, timeout=5).status_code == 400


def test_clearing_faults_clears_the_limit(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.set_rate_limit(1, burst=1)
    state.clear_faults()
    assert [hs.get("/payments/pay_nothing").status_code for _ in range(3)] == [404, 404, 404]
