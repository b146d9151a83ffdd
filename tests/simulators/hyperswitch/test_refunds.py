"""Refunds over real HTTP: full, partial, over-refund, state checks, duplicates, pending settlement, list."""

from __future__ import annotations

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .contract import HyperswitchHttp
from .helpers import APPROVE, DECLINE, error_of, new_id, pay


def refund(hs: HyperswitchHttp, payment_id: str, amount: int | None = None, **extra) -> requests.Response:
    body = {"payment_id": payment_id, "refund_id": new_id("ref_"), **extra}
    if amount is not None:
        body["amount"] = amount
    return hs.post("/refunds", body)


def test_full_refund_defaults_to_the_captured_amount(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=6540)

    response = refund(hs, payment["payment_id"], reason="customer asked")

    assert response.status_code == 200
    created = response.json()
    assert (created["status"], created["amount"], created["currency"]) == ("succeeded", 6540, "USD")
    assert created["reason"] == "customer asked" and created["connector"] == "fauxpay"
    assert hs.get(f"/refunds/{created['refund_id']}").json() == created


def test_partial_refunds_up_to_the_captured_amount_then_ir_13(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=1000)

    first = refund(hs, payment["payment_id"], 400)
    second = refund(hs, payment["payment_id"], 600)
    over = refund(hs, payment["payment_id"], 100)

    assert [first.status_code, second.status_code] == [200, 200]
    assert over.status_code == 400
    assert error_of(over) == {"type": "invalid_request", "code": "IR_13",
                              "message": "The refund amount exceeds the amount captured"}
    refunds = hs.get(f"/payments/{payment['payment_id']}").json()["refunds"]
    assert sorted(r["amount"] for r in refunds) == [400, 600]


def test_refund_limited_to_a_partial_capture(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=6000, capture_method="manual")
    hs.post(f"/payments/{payment['payment_id']}/capture", {"amount_to_capture": 2000})

    too_much = refund(hs, payment["payment_id"], 2001)
    exact = refund(hs, payment["payment_id"], 2000)

    assert error_of(too_much)["code"] == "IR_13"
    assert exact.status_code == 200 and exact.json()["status"] == "succeeded"


@pytest.mark.parametrize("capture_method", ["automatic", "manual"])
def test_refund_of_a_payment_that_has_not_succeeded_is_refused(hs: HyperswitchHttp, capture_method: str) -> None:
    number = DECLINE if capture_method == "automatic" else APPROVE
    payment = pay(hs, number, capture_method=capture_method)

    response = refund(hs, payment["payment_id"], 100)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "IR_14"
    assert error["message"] == (f"This Payment could not be refund because it has a status of {payment['status']}. "
                                "The expected state is succeeded, partially_captured")


def test_duplicate_refund_id_is_he_01(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=5000)
    refund_id = new_id("ref_")

    first = hs.post("/refunds", {"payment_id": payment["payment_id"], "refund_id": refund_id, "amount": 1000})
    again = hs.post("/refunds", {"payment_id": payment["payment_id"], "refund_id": refund_id, "amount": 1000})

    assert first.status_code == 200 and again.status_code == 400
    assert error_of(again) == {"type": "invalid_request", "code": "HE_01",
                               "message": "Duplicate refund request. Refund already attempted with the refund ID"}
    listed = hs.post("/refunds/list", {"payment_id": payment["payment_id"]}).json()
    assert listed["total_count"] == 1


@pytest.mark.parametrize("final", ["succeeded", "failed"])
def test_pending_refund_settles_through_control(hs: HyperswitchHttp, state: SimulatorState, final: str) -> None:
    payment = pay(hs, APPROVE, amount=3000)
    behaviour = requests.post(f"{hs.base_url}/__sim/refund_behaviour", timeout=5,
                              json={"outcome": "pending", "merchant_id": "merchant_a",
                                    "payment_id": payment["payment_id"]})
    assert behaviour.status_code == 200

    created = refund(hs, payment["payment_id"], 1000).json()
    assert created["status"] == "pending"
    settled = requests.post(f"{hs.base_url}/__sim/refunds/{created['refund_id']}/settle",
                            json={"status": final}, timeout=5)

    assert settled.status_code == 200
    fetched = hs.get(f"/refunds/{created['refund_id']}").json()
    assert fetched["status"] == final
    assert (fetched["error_code"] is not None) == (final == "failed")


def test_failed_refund_frees_the_amount_again(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment = pay(hs, APPROVE, amount=1000)
    state.set_refund_behaviour("failed", merchant_id="merchant_a")

    failed = refund(hs, payment["payment_id"], 1000).json()
    state.set_refund_behaviour("succeeded", merchant_id="merchant_a")
    retried = refund(hs, payment["payment_id"], 1000).json()

    assert failed["status"] == "failed" and failed["error_code"] == "refund_failed"
    assert retried["status"] == "succeeded"


def test_settling_a_refund_that_is_not_pending_is_refused(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment = pay(hs, APPROVE)
    created = refund(hs, payment["payment_id"], 500).json()

    with pytest.raises(ValueError):
        state.settle_refund(created["refund_id"], "failed")
    assert hs.get(f"/refunds/{created['refund_id']}").json()["status"] == "succeeded"


def test_refund_list_filters(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment = pay(hs, APPROVE, amount=9000)
    other = pay(hs, APPROVE, amount=9000)
    refund(hs, payment["payment_id"], 1000)
    state.set_refund_behaviour("pending", merchant_id="merchant_a", payment_id=payment["payment_id"])
    pending = refund(hs, payment["payment_id"], 2000).json()
    refund(hs, other["payment_id"], 3000)

    by_payment = hs.post("/refunds/list", {"payment_id": payment["payment_id"]}).json()
    by_status = hs.post("/refunds/list", {"refund_status": ["pending"]}).json()
    by_amount = hs.post("/refunds/list", {"amount_filter": {"start_amount": 2500}, "limit": 5}).json()

    assert by_payment["total_count"] == 2
    assert [r["refund_id"] for r in by_status["data"]] == [pending["refund_id"]]
    assert [r["amount"] for r in by_amount["data"]] == [3000]


def test_refund_errors(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=1000)

    unknown_payment = hs.post("/refunds", {"payment_id": new_id("pay_"), "amount": 100})
    unknown_refund = hs.get(f"/refunds/{new_id('ref_')}")
    unknown_field = hs.post("/refunds", {"payment_id": payment["payment_id"], "amount": 100, "currency": "USD"},
                            check_request=False)
    float_amount = hs.post("/refunds", {"payment_id": payment["payment_id"], "amount": 100.0},
                           check_request=False)

    assert unknown_payment.status_code == 404 and error_of(unknown_payment)["code"] == "HE_02"
    assert unknown_refund.status_code == 404
    assert error_of(unknown_refund)["message"] == "Refund does not exist in our records."
    assert unknown_field.status_code == 400 and error_of(unknown_field)["code"] == "IR_06"
    assert float_amount.status_code == 400 and "error_type" in error_of(float_amount)


def test_update_refund_reason_and_metadata(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE)
    created = refund(hs, payment["payment_id"], 500).json()

    updated = hs.post(f"/refunds/{created['refund_id']}", {"reason": "duplicate", "metadata": {"k": "v"}}).json()

    assert (updated["reason"], updated["metadata"], updated["amount"]) == ("duplicate", {"k": "v"}, 500)
