"""Disputes opened and decided through control, read through the API, announced by webhooks."""

from __future__ import annotations

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .conftest import WebhookReceiver
from .contract import HyperswitchHttp, validate_webhook
from .helpers import APPROVE, DECLINE, error_of, pay


def open_dispute(hs: HyperswitchHttp, payment_id: str, **body) -> dict:
    response = requests.post(f"{hs.base_url}/__sim/payments/{payment_id}/disputes", json=body, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("decision", "status", "connector_status"),
                         [("win", "dispute_won", "won"), ("lose", "dispute_lost", "lost")])
def test_dispute_opened_then_decided(hs: HyperswitchHttp, state: SimulatorState, webhooked: WebhookReceiver,
                                     decision: str, status: str, connector_status: str) -> None:
    payment = pay(hs, APPROVE, amount=4200)
    opened = open_dispute(hs, payment["payment_id"], reason="fraudulent")
    dispute_id = opened["dispute_id"]

    fetched = hs.get(f"/disputes/{dispute_id}").json()
    decided = requests.post(f"{hs.base_url}/__sim/disputes/{dispute_id}/{decision}", timeout=5).json()

    assert fetched == opened
    assert (fetched["dispute_status"], fetched["dispute_stage"]) == ("dispute_opened", "dispute")
    assert fetched["amount"] == "4200" and fetched["currency"] == "USD"  # StringMinorUnit
    assert fetched["payment_id"] == payment["payment_id"] and fetched["challenge_required_by"]
    assert (decided["dispute_status"], decided["connector_status"]) == (status, connector_status)
    assert hs.get(f"/disputes/{dispute_id}").json()["dispute_status"] == status
    assert state.wait_for_deliveries(5)
    events = [e for e in webhooked.events() if e["content"]["type"] == "dispute_details"]
    assert [e["event_type"] for e in events] == ["dispute_opened", status]
    assert events[-1]["content"]["object"] == hs.get(f"/disputes/{dispute_id}").json()
    for event in events:
        validate_webhook(event)


def test_any_dispute_status_through_control(hs: HyperswitchHttp, state: SimulatorState) -> None:
    dispute_id = state.open_dispute(pay(hs, APPROVE)["payment_id"])["dispute_id"]

    changed = requests.post(f"{hs.base_url}/__sim/disputes/{dispute_id}/status",
                            json={"status": "dispute_challenged"}, timeout=5)
    refused = requests.post(f"{hs.base_url}/__sim/disputes/{dispute_id}/status",
                            json={"status": "dispute_maybe"}, timeout=5)

    assert changed.json()["dispute_status"] == "dispute_challenged"
    assert refused.status_code == 400


def test_partial_dispute_amount_and_list(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment_id = pay(hs, APPROVE, amount=5000)["payment_id"]
    partial = state.open_dispute(payment_id, amount=1500)
    state.lose_dispute(state.open_dispute(pay(hs, APPROVE)["payment_id"])["dispute_id"])

    opened = hs.get("/disputes/list", params={"dispute_status": "dispute_opened"}).json()

    assert partial["amount"] == "1500"
    assert [d["dispute_id"] for d in opened] == [partial["dispute_id"]]
    assert len(hs.get("/disputes/list").json()) == 2


def test_only_captured_payments_can_be_disputed(hs: HyperswitchHttp) -> None:
    declined = pay(hs, DECLINE)["payment_id"]

    response = requests.post(f"{hs.base_url}/__sim/payments/{declined}/disputes", json={}, timeout=5)

    assert response.status_code == 400


def test_unknown_dispute_is_he_04(hs: HyperswitchHttp) -> None:
    response = hs.get("/disputes/dp_unknown")

    assert response.status_code == 404
    assert error_of(response) == {"type": "invalid_request", "code": "HE_04",
                                  "message": "Dispute does not exist in our records"}
