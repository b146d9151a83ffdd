"""Payouts over real HTTP: saved payment methods, tokens, card and bank data, statuses, settlement,
confirm/fulfill/cancel, duplicates, list, faults and signed payout webhooks. Every request and response is
checked against the spec by ``HyperswitchHttp``."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .conftest import MERCHANT_A, WebhookReceiver
from .contract import HyperswitchHttp, validate_webhook
from .helpers import (
    DECLINE,
    PROCESSING,
    error_of,
    eventually,
    new_id,
    save_card_payment,
    signature,
)

PROFILE_PATH = f"/account/{MERCHANT_A['merchant_id']}/business_profile/{MERCHANT_A['profile_id']}"
CARD = {"card_number": "4242424242424242", "expiry_month": "12", "expiry_year": "2035",
        "card_holder_name": "Ada Lovelace"}


def customer_with_saved_card(hs: HyperswitchHttp) -> tuple[str, str]:
    customer_id = new_id("cus_", 24)
    response = hs.post("/payments", save_card_payment(customer_id))
    assert response.status_code == 200, response.text
    return customer_id, response.json()["payment_method_id"]


def to_saved_method(customer_id: str, pm_id: str, amount: int = 2500, **extra: Any) -> dict[str, Any]:
    body = {"payout_id": new_id("po_"), "amount": amount, "currency": "USD", "confirm": True,
            "auto_fulfill": True, "customer_id": customer_id, "payout_method_id": pm_id, "payout_type": "card"}
    body.update(extra)
    return body


def to_card(number: str = "4242424242424242", **extra: Any) -> dict[str, Any]:
    body = {"payout_id": new_id("po_"), "amount": 1200, "currency": "EUR", "confirm": True, "auto_fulfill": True,
            "payout_type": "card", "payout_method_data": {"card": {**CARD, "card_number": number}}}
    body.update(extra)
    return body


def create(hs: HyperswitchHttp, body: dict[str, Any]) -> dict[str, Any]:
    response = hs.post("/payouts/create", body)
    assert response.status_code == 200, response.text
    return response.json()


def created_calls(state: SimulatorState, payout_id: str) -> int:
    return next((row["create_calls"] for row in state.payouts_overview() if row["payout_id"] == payout_id), 0)


# -- create ---------------------------------------------------------------------------------------

def test_payout_to_a_saved_payment_method_succeeds(hs: HyperswitchHttp) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    body = to_saved_method(customer_id, pm_id, description="credit", metadata={"kb": "1"},
                           merchant_order_reference_id="kb-payment-1")

    payout = create(hs, body)

    assert (payout["payout_id"], payout["status"], payout["amount"], payout["currency"]) == (
        body["payout_id"], "success", 2500, "USD")
    assert (payout["customer_id"], payout["payout_method_id"], payout["payout_type"]) == (customer_id, pm_id, "card")
    assert payout["customer"]["id"] == customer_id
    assert payout["payout_method_data"]["card"]["last4"] == "4242"
    assert payout["connector"] and payout["connector_transaction_id"] and payout["merchant_connector_id"]
    assert (payout["description"], payout["metadata"], payout["merchant_order_reference_id"]) == (
        "credit", {"kb": "1"}, "kb-payment-1")
    assert re.fullmatch(rf"payout_{body['payout_id']}_secret_[A-Za-z0-9]{{20}}", payout["client_secret"])
    assert (payout["auto_fulfill"], payout["entity_type"], payout["recurring"]) == (True, "Individual", False)
    assert payout["profile_id"] == MERCHANT_A["profile_id"]
    assert hs.get(f"/payouts/{body['payout_id']}").json() == payout


def test_without_payout_id_the_router_makes_one(hs: HyperswitchHttp) -> None:
    body = to_card()
    del body["payout_id"]

    payout = create(hs, body)

    assert re.fullmatch(r"payout_[A-Za-z0-9]{20}", payout["payout_id"])


@pytest.mark.parametrize(("number", "status", "error_code"), [
    ("4242424242424242", "success", None),
    (DECLINE, "failed", "payout_declined"),
    (PROCESSING, "pending", None),
])  # fmt: skip
def test_card_data_outcomes(hs: HyperswitchHttp, number: str, status: str, error_code: str | None) -> None:
    payout = create(hs, to_card(number))

    assert (payout["status"], payout["error_code"]) == (status, error_code)
    assert payout["customer_id"] is None and payout["payout_method_id"] is None
    assert payout["payout_method_data"]["card"]["last4"] == number[-4:]
    if error_code:
        assert payout["error_message"] and payout["unified_code"]


def test_a_pending_payout_is_settled_through_control(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payout = create(hs, to_card(PROCESSING))

    settled = state.settle_payout(payout["payout_id"], "success")

    assert settled["status"] == "success"
    assert hs.get(f"/payouts/{payout['payout_id']}").json()["status"] == "success"
    with pytest.raises(ValueError, match="only"):
        state.settle_payout(payout["payout_id"], "failed")


def test_settlement_can_fail_with_the_connectors_words(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payout = create(hs, to_card(PROCESSING))

    state.settle_payout(payout["payout_id"], "failed", error_code="AC04", error_message="Closed account")

    failed = hs.get(f"/payouts/{payout['payout_id']}").json()
    assert (failed["status"], failed["error_code"], failed["error_message"]) == ("failed", "AC04", "Closed account")


def test_behaviour_per_payment_method_wins_over_the_merchants(hs: HyperswitchHttp, state: SimulatorState) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    other_customer, other_pm = customer_with_saved_card(hs)
    state.set_payout_behaviour("pending", merchant_id=MERCHANT_A["merchant_id"])
    state.set_payout_behaviour("failed", merchant_id=MERCHANT_A["merchant_id"], payment_method_id=pm_id)

    failed = create(hs, to_saved_method(customer_id, pm_id))
    pending = create(hs, to_saved_method(other_customer, other_pm))
    by_card = create(hs, to_card())

    assert (failed["status"], pending["status"], by_card["status"]) == ("failed", "pending", "pending")
    with pytest.raises(ValueError, match="outcome"):
        state.set_payout_behaviour("paid", merchant_id=MERCHANT_A["merchant_id"])


def test_an_ineligible_payout_method_is_refused_at_confirm(hs: HyperswitchHttp, state: SimulatorState) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    state.set_payout_behaviour("ineligible", merchant_id=MERCHANT_A["merchant_id"], payment_method_id=pm_id)

    payout = create(hs, to_saved_method(customer_id, pm_id))

    assert (payout["status"], payout["error_code"]) == ("ineligible", "payout_ineligible")
    assert payout["connector_transaction_id"] is None


def test_payout_token_from_the_customers_list(hs: HyperswitchHttp) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    (listed,) = hs.get(f"/customers/{customer_id}/payment_methods").json()["customer_payment_methods"]
    body = to_saved_method(customer_id, pm_id)
    del body["payout_method_id"]
    body["payout_token"] = listed["payment_token"]

    payout = create(hs, body)

    assert payout["status"] == "success" and payout["payout_method_id"] == pm_id


@pytest.mark.parametrize(("bank", "shown"), [
    ({"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}, {"iban": "DE8937**********013000"}),
    ({"bank_account_number": "000123456789", "bank_routing_number": "110000000"},
     {"bank_account_number": "00********89", "bank_routing_number": "11*****00"}),
    ({"bank_account_number": "55779911", "bank_sort_code": "200000"},
     {"bank_account_number": "55****11", "bank_sort_code": "20****00"}),
])  # fmt: skip
def test_payout_to_a_bank_account_shows_it_masked(hs: HyperswitchHttp, bank: dict[str, str],
                                                  shown: dict[str, str]) -> None:
    body = to_card()
    body.update(payout_type="bank", payout_method_data={"bank": bank}, customer_id=new_id("cus_", 24))

    payout = create(hs, body)

    assert payout["status"] == "success" and payout["payout_type"] == "bank"
    masked = payout["payout_method_data"]["bank"]
    assert {key: masked[key] for key in shown} == shown
    assert not any(bank[key] in str(payout) for key in shown)


# -- refusals ---------------------------------------------------------------------------------------

def test_duplicate_payout_id_is_he_01_and_changes_nothing(hs: HyperswitchHttp, state: SimulatorState) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    body = to_saved_method(customer_id, pm_id)
    first = create(hs, body)

    again = hs.post("/payouts/create", {**body, "amount": 9999})

    assert again.status_code == 400
    assert error_of(again) == {"type": "invalid_request", "code": "HE_01", "message":
                               f"The payout with the specified payout_id '{body['payout_id']}' already exists "
                               "in our records"}
    assert hs.get(f"/payouts/{body['payout_id']}").json() == first
    assert created_calls(state, body["payout_id"]) == 2


def test_refusals_follow_the_routers_validation(hs: HyperswitchHttp) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    other_customer, other_pm = customer_with_saved_card(hs)

    def refused(body: dict[str, Any], *, check: bool = True) -> tuple[int, str, str]:
        response = hs.post("/payouts/create", body, check_request=check)
        error = error_of(response)
        return response.status_code, error["code"], error["message"]

    assert refused(to_saved_method(customer_id, pm_id, confirm=False)) == (
        422, "IR_06", "Confirm must be true for recurring payouts")
    assert refused(to_saved_method(customer_id, pm_id, payout_token="tok_1")) == (
        422, "IR_06", "Only one of payout_method_id or payout_token should be provided.")
    no_customer = to_saved_method(customer_id, pm_id)
    del no_customer["customer_id"]
    assert refused(no_customer) == (
        400, "IR_04", "Missing required param: customer_id when payment_method_id is passed")
    assert refused(to_saved_method(customer_id, other_pm)) == (
        422, "IR_06", "Payment method does not belong to this customer_id")
    assert refused(to_saved_method(other_customer, "pm_unknown")) == (
        404, "HE_02", "Payment method does not exist in our records")
    missing_currency = to_card()
    del missing_currency["currency"]
    assert refused(missing_currency, check=False) == (400, "IR_04", "Missing required param: currency")
    no_method = to_card()
    del no_method["payout_method_data"]
    assert refused(no_method) == (400, "IR_04", "Missing required param: payout_method_data")
    assert refused(to_card(merchant_id="merchant_b"), check=False)[:2] == (422, "IR_05")


def test_unknown_fields_and_bad_values_are_ir_06_deserialize_errors(hs: HyperswitchHttp) -> None:
    for body in ({**to_card(), "surprise": 1}, {**to_card(), "amount": "12.00"}, {**to_card(), "payout_type": "cash"},
                 {**to_card(), "payout_id": "not a valid id!"},
                 {**to_card(), "payout_method_data": {"card": {**CARD, "cvc": "123"}}}):
        response = hs.post("/payouts/create", body, check_request=False)
        assert response.status_code == 400, body
        assert error_of(response)["error_type"] == "invalid_request" and error_of(response)["code"] == "IR_06"


def test_payouts_are_scoped_to_the_merchant(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    payout = create(hs, to_card())

    for response in (hs_b.get(f"/payouts/{payout['payout_id']}"),
                     hs_b.post(f"/payouts/{payout['payout_id']}/cancel", {"payout_id": payout["payout_id"]})):
        assert response.status_code == 404
        assert error_of(response) == {"type": "invalid_request", "code": "HE_02",
                                      "message": "Payout does not exist in our records"}
    assert hs_b.get("/payouts/list").json()["data"] == []


# -- confirm, fulfill, cancel ---------------------------------------------------------------------------

def test_create_confirm_fulfill_step_by_step(hs: HyperswitchHttp) -> None:
    customer_id, _ = customer_with_saved_card(hs)
    body = to_card(confirm=False, auto_fulfill=False, customer_id=customer_id)
    del body["payout_method_data"], body["payout_type"]

    created = create(hs, body)
    confirmed = hs.post(f"/payouts/{body['payout_id']}/confirm",
                        {"client_secret": created["client_secret"], "payout_method_data": {"card": CARD}}).json()
    fulfilled = hs.post(f"/payouts/{body['payout_id']}/fulfill", {"payout_id": body["payout_id"]}).json()
    again = hs.post(f"/payouts/{body['payout_id']}/fulfill", {"payout_id": body["payout_id"]})

    assert [created["status"], confirmed["status"], fulfilled["status"]] == [
        "requires_payout_method_data", "requires_fulfillment", "success"]
    assert created["connector"] is None and confirmed["connector"]
    assert confirmed["payout_type"] == "card"
    assert again.status_code == 422 and error_of(again)["message"] == (
        f"Payout {body['payout_id']} cannot be fulfilled for status success")


def test_confirm_of_a_created_payout_with_its_method(hs: HyperswitchHttp) -> None:
    body = to_card(confirm=False)

    created = create(hs, body)
    confirmed = hs.post(f"/payouts/{body['payout_id']}/confirm", {"client_secret": created["client_secret"]}).json()
    refused = hs.post(f"/payouts/{body['payout_id']}/confirm", {"client_secret": created["client_secret"]})

    assert (created["status"], confirmed["status"]) == ("requires_confirmation", "success")
    assert refused.status_code == 422 and error_of(refused)["code"] == "IR_06"


@pytest.mark.parametrize("step", ["created", "requires_fulfillment", "pending"])
def test_cancel_before_the_money_moved(hs: HyperswitchHttp, step: str) -> None:
    body = {"created": to_card(confirm=False), "requires_fulfillment": to_card(auto_fulfill=False),
            "pending": to_card(PROCESSING)}[step]
    create(hs, body)

    cancelled = hs.post(f"/payouts/{body['payout_id']}/cancel", {"payout_id": body["payout_id"]})

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_final_payout_cannot_be_cancelled(hs: HyperswitchHttp) -> None:
    body = to_card()
    create(hs, body)

    refused = hs.post(f"/payouts/{body['payout_id']}/cancel", {"payout_id": body["payout_id"]})

    assert refused.status_code == 422
    assert error_of(refused) == {"type": "invalid_request", "code": "IR_06",
                                 "message": f"Payout {body['payout_id']} cannot be cancelled for status success"}
    assert hs.get(f"/payouts/{body['payout_id']}").json()["status"] == "success"


# -- list ----------------------------------------------------------------------------------------------

def test_list_newest_first_by_customer_with_cursor_and_limit(hs: HyperswitchHttp) -> None:
    customer_id, pm_id = customer_with_saved_card(hs)
    ids = [create(hs, to_saved_method(customer_id, pm_id))["payout_id"] for _ in range(3)]
    create(hs, to_card())

    everything = hs.get("/payouts/list").json()
    mine = hs.get("/payouts/list", params={"customer_id": customer_id}).json()
    first = hs.get("/payouts/list", params={"customer_id": customer_id, "limit": "2"}).json()
    after = hs.get("/payouts/list", params={"customer_id": customer_id, "starting_after": first["data"][-1]["payout_id"]}).json()

    assert everything["size"] == 4
    assert [p["payout_id"] for p in mine["data"]] == ids[::-1] and mine["total_count"] == 3
    assert [p["payout_id"] for p in first["data"] + after["data"]] == ids[::-1]


def test_list_refuses_a_bad_limit_and_unknown_parameters(hs: HyperswitchHttp) -> None:
    too_many = hs.get("/payouts/list", params={"limit": "101"})
    unknown = hs.get("/payouts/list", params={"status": "success"}, check_request=False)

    assert too_many.status_code == 422 and error_of(too_many)["message"] == "limit should be in between 1 and 100"
    assert unknown.status_code == 400 and error_of(unknown)["code"] == "IR_06"


# -- faults ------------------------------------------------------------------------------------------------

def test_commit_then_drop_creates_the_payout_once(hs: HyperswitchHttp, state: SimulatorState) -> None:
    state.add_fault("POST", "/payouts/create", "drop_after_commit", times=1)
    body = to_card()

    with pytest.raises(requests.ConnectionError):
        hs.post("/payouts/create", body)

    assert hs.get(f"/payouts/{body['payout_id']}").json()["status"] == "success"
    retried = hs.post("/payouts/create", body)
    assert retried.status_code == 400 and error_of(retried)["code"] == "HE_01"
    assert created_calls(state, body["payout_id"]) == 2


def test_control_over_http(hs: HyperswitchHttp, server: Any) -> None:
    merchant = MERCHANT_A["merchant_id"]
    assert requests.post(f"{server.url}/__sim/payout_behaviour",
                         json={"outcome": "pending", "merchant_id": merchant}, timeout=5).status_code == 200
    payout = create(hs, to_card())
    assert payout["status"] == "pending"

    settled = requests.post(f"{server.url}/__sim/payouts/{payout['payout_id']}/settle", json={"status": "success"},
                            timeout=5)
    overview = requests.get(f"{server.url}/__sim/payouts", params={"merchant_id": merchant}, timeout=5).json()
    unknown = requests.post(f"{server.url}/__sim/payouts/po_none/settle", json={"status": "success"}, timeout=5)

    assert settled.status_code == 200 and settled.json()["status"] == "success"
    assert overview == [{"merchant_id": merchant, "payout_id": payout["payout_id"], "create_calls": 1,
                         "status": "success", "amount": 1200}]
    assert unknown.status_code == 404


# -- webhooks ------------------------------------------------------------------------------------------------

def payout_events(receiver: WebhookReceiver, payout_id: str) -> list[str]:
    return [e["event_type"] for e in receiver.events() if e["content"]["object"].get("payout_id") == payout_id]


def test_a_payout_sends_a_signed_payout_success(hs: HyperswitchHttp, webhooked: WebhookReceiver) -> None:
    payout = create(hs, to_card())

    (received,) = webhooked.wait_for(1)

    assert received.headers["X-Webhook-Signature-512"] == signature(received.body,
                                                                   MERCHANT_A["payment_response_hash_key"])
    event = received.json()
    assert (event["event_type"], event["content"]["type"]) == ("payout_success", "payout_details")
    assert event["content"]["object"] == hs.get(f"/payouts/{payout['payout_id']}").json()
    validate_webhook(event)


def test_events_follow_the_payout_statuses(hs: HyperswitchHttp, state: SimulatorState,
                                           webhooked: WebhookReceiver) -> None:
    pending = create(hs, to_card(PROCESSING))["payout_id"]
    declined = create(hs, to_card(DECLINE))["payout_id"]
    waiting = create(hs, to_card(confirm=False))["payout_id"]
    hs.post(f"/payouts/{waiting}/cancel", {"payout_id": waiting})
    eventually(lambda: len(webhooked.events()) >= 3)
    state.settle_payout(pending, "success")
    eventually(lambda: len(webhooked.events()) >= 4)

    assert payout_events(webhooked, pending) == ["payout_processing", "payout_success"]
    assert payout_events(webhooked, declined) == ["payout_failed"]
    assert payout_events(webhooked, waiting) == ["payout_cancelled"]
    for event in webhooked.events():
        validate_webhook(event)


def test_payout_statuses_enabled_filters_the_events(hs: HyperswitchHttp, state: SimulatorState,
                                                    webhooked: WebhookReceiver) -> None:
    assert hs.post(PROFILE_PATH, {"webhook_details": {"webhook_url": webhooked.url,
                                                      "payout_statuses_enabled": ["success"]}}).status_code == 200
    pending = create(hs, to_card(PROCESSING))["payout_id"]
    create(hs, to_card(DECLINE))
    state.settle_payout(pending, "success")

    webhooked.wait_for(1)
    state.wait_for_deliveries(3.0)
    assert [e["event_type"] for e in webhooked.events()] == ["payout_success"]
