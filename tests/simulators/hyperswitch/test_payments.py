"""Payments over real HTTP: outcomes by test card, settlement, 3DS, capture, cancel, retrieve, list."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .contract import HyperswitchHttp
from .helpers import (
    APPROVE,
    DECLINE,
    INSUFFICIENT_FUNDS,
    LOST,
    PROCESSING,
    STOLEN,
    THREE_DS,
    card,
    card_payment,
    error_of,
    new_id,
    pay,
)


def test_approved_card_succeeds_with_the_amount_received(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=6540)

    assert payment["status"] == "succeeded"
    assert (payment["amount"], payment["amount_received"], payment["amount_capturable"]) == (6540, 6540, 0)
    assert payment["payment_method_data"]["card"]["last4"] == "4242"
    assert payment["payment_method_data"]["card"]["card_network"] == "Visa"
    assert payment["connector"] == "fauxpay" and payment["connector_transaction_id"]
    assert payment["error_code"] is None and payment["attempt_count"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payment["created"])


@pytest.mark.parametrize(("number", "message"), [
    (DECLINE, "message - Your card was declined., decline_code - generic_decline"),
    ("5105105105105100", "message - Your card was declined., decline_code - generic_decline"),
    (INSUFFICIENT_FUNDS, "message - Your card has insufficient funds., decline_code - insufficient_funds"),
    (LOST, "message - Your card was declined., decline_code - lost_card"),
    (STOLEN, "message - Your card was declined., decline_code - stolen_card"),
])
def test_declined_card_is_http_200_failed_with_the_connector_error(hs: HyperswitchHttp, number: str,
                                                                     message: str) -> None:
    payment = pay(hs, number)

    assert payment["status"] == "failed"
    assert payment["error_code"] == "card_declined"
    assert payment["error_message"] == message
    assert (payment["unified_code"], payment["unified_message"]) == ("UE_9000", "Something went wrong")
    assert payment["amount_received"] is None and payment["amount_capturable"] == 0


@pytest.mark.parametrize(("settled_as", "expected_received"), [("succeeded", 3000), ("failed", None)])
def test_processing_payment_settles_through_control(hs: HyperswitchHttp, state: SimulatorState,
                                                    settled_as: str, expected_received: int | None) -> None:
    payment = pay(hs, PROCESSING, amount=3000)
    assert payment["status"] == "processing"
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "processing"

    settled = requests.post(f"{hs.base_url}/__sim/payments/{payment['payment_id']}/settle",
                            json={"status": settled_as}, timeout=5)

    assert settled.status_code == 200
    fetched = hs.get(f"/payments/{payment['payment_id']}", params={"force_sync": "true"}).json()
    assert fetched["status"] == settled_as
    assert fetched["amount_received"] == expected_received


def test_processing_manual_capture_settles_to_requires_capture(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment = pay(hs, PROCESSING, capture_method="manual")

    state.settle_payment(payment["payment_id"], "succeeded")

    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "requires_capture"


def test_settling_a_final_payment_is_refused(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE)

    response = requests.post(f"{hs.base_url}/__sim/payments/{payment['payment_id']}/settle",
                             json={"status": "failed"}, timeout=5)

    assert response.status_code == 400
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "succeeded"


def test_three_ds_card_redirects_to_a_page_that_completes_the_payment(hs: HyperswitchHttp) -> None:
    payment = pay(hs, THREE_DS, return_url="https://shop.example/return")
    assert payment["status"] == "requires_customer_action"
    redirect_url = payment["next_action"]["redirect_to_url"]
    assert payment["next_action"]["type"] == "redirect_to_url"
    assert redirect_url.startswith(hs.base_url + "/payments/redirect/" + payment["payment_id"])

    page = requests.get(redirect_url, timeout=5)
    assert page.status_code == 200 and 'value="success"' in page.text
    done = requests.post(redirect_url, data={"result": "success"}, allow_redirects=False, timeout=5)

    assert done.status_code == 303
    assert done.headers["Location"].startswith("https://shop.example/return?status=succeeded")
    fetched = hs.get(f"/payments/{payment['payment_id']}").json()
    assert fetched["status"] == "succeeded" and fetched["next_action"] is None


def test_failed_three_ds_challenge_fails_the_payment(hs: HyperswitchHttp) -> None:
    payment = pay(hs, THREE_DS, return_url="https://shop.example/return")

    done = requests.post(payment["next_action"]["redirect_to_url"], data={"result": "failure"},
                         allow_redirects=False, timeout=5)

    assert "status=failed" in done.headers["Location"]
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "failed"


def test_manual_capture_full_amount(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=6000, capture_method="manual")
    assert payment["status"] == "requires_capture"
    assert (payment["amount_capturable"], payment["amount_received"]) == (6000, None)

    captured = hs.post(f"/payments/{payment['payment_id']}/capture", {"amount_to_capture": 6000}).json()

    assert captured["status"] == "succeeded"
    assert (captured["amount_received"], captured["amount_capturable"]) == (6000, 0)


def test_partial_capture_ends_partially_captured(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=6000, capture_method="manual")

    captured = hs.post(f"/payments/{payment['payment_id']}/capture", {"amount_to_capture": 2000}).json()

    assert captured["status"] == "partially_captured"
    assert (captured["amount_received"], captured["amount_capturable"]) == (2000, 0)


def test_manual_multiple_captures_until_the_amount_is_taken(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=6000, capture_method="manual_multiple")
    path = f"/payments/{payment['payment_id']}/capture"

    first = hs.post(path, {"amount_to_capture": 2500}).json()
    assert first["status"] == "partially_captured_and_capturable"
    assert (first["amount_received"], first["amount_capturable"]) == (2500, 3500)
    second = hs.post(path, {"amount_to_capture": 3500}).json()

    assert second["status"] == "succeeded"
    assert (second["amount_received"], second["amount_capturable"]) == (6000, 0)


def test_capture_errors(hs: HyperswitchHttp) -> None:
    succeeded = pay(hs, APPROVE)
    authorized = pay(hs, APPROVE, amount=1000, capture_method="manual")

    wrong_state = hs.post(f"/payments/{succeeded['payment_id']}/capture", {})
    too_much = hs.post(f"/payments/{authorized['payment_id']}/capture", {"amount_to_capture": 1001})

    assert wrong_state.status_code == 400 and error_of(wrong_state)["code"] == "IR_14"
    assert "payment.status of succeeded" in error_of(wrong_state)["message"]
    assert too_much.status_code == 422 and error_of(too_much)["code"] == "IR_06"
    assert hs.get(f"/payments/{authorized['payment_id']}").json()["status"] == "requires_capture"


def test_cancel_an_authorization(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, capture_method="manual")

    cancelled = hs.post(f"/payments/{payment['payment_id']}/cancel", {"cancellation_reason": "requested_by_customer"})

    assert cancelled.status_code == 200
    fetched = hs.get(f"/payments/{payment['payment_id']}").json()
    assert fetched["status"] == "cancelled" and fetched["cancellation_reason"] == "requested_by_customer"
    assert fetched["amount_capturable"] == 0


def test_cancel_a_succeeded_payment_is_refused(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE)

    response = hs.post(f"/payments/{payment['payment_id']}/cancel", {})

    assert response.status_code == 400
    assert error_of(response) == {"type": "invalid_request", "code": "IR_16",
                                  "message": "You cannot cancel this payment because it has status succeeded"}


def test_create_without_confirm_then_confirm(hs: HyperswitchHttp) -> None:
    created = hs.post("/payments", {"payment_id": new_id("pay_"), "amount": 1500, "currency": "EUR"}).json()
    assert created["status"] == "requires_payment_method"
    assert created["payment_method"] is None and created["connector"] is None

    confirmed = hs.post(f"/payments/{created['payment_id']}/confirm",
                        {"payment_method": "card", "payment_method_data": card(APPROVE)})

    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"


def test_card_given_at_create_is_used_by_the_later_confirm(hs: HyperswitchHttp) -> None:
    body = {**card_payment(DECLINE), "confirm": False}
    created = hs.post("/payments", body).json()
    assert created["status"] == "requires_confirmation" and created["connector"] is None

    confirmed = hs.post(f"/payments/{created['payment_id']}/confirm", {}).json()
    again = hs.post(f"/payments/{created['payment_id']}/confirm", {})

    assert confirmed["status"] == "failed" and confirmed["error_code"] == "card_declined"
    assert again.status_code == 400 and error_of(again)["code"] == "IR_16"


def test_retrieve_with_expanded_attempts(hs: HyperswitchHttp) -> None:
    payment = pay(hs, DECLINE)

    fetched = hs.get(f"/payments/{payment['payment_id']}", params={"expand_attempts": "true"}).json()

    (attempt,) = fetched["attempts"]
    assert attempt["status"] == "failure" and attempt["error_code"] == "card_declined"
    assert attempt["attempt_id"].startswith(payment["payment_id"])


def test_list_filters_by_customer_and_limits(hs: HyperswitchHttp) -> None:
    ids = [pay(hs, APPROVE, customer_id="cus_list")["payment_id"] for _ in range(3)]
    pay(hs, APPROVE, customer_id="cus_other")

    page = hs.get("/payments/list", params={"customer_id": "cus_list", "limit": "2"}).json()
    everything = hs.get("/payments/list", params={"customer_id": "cus_list"}).json()

    assert page["size"] == 2 and [p["payment_id"] for p in page["data"]] == ids[::-1][:2]
    assert {p["payment_id"] for p in everything["data"]} == set(ids)
    too_big = hs.get("/payments/list", params={"limit": "101"})
    assert too_big.status_code == 422 and error_of(too_big)["code"] == "IR_06"


def test_duplicate_payment_id_is_he_01_and_changes_nothing(hs: HyperswitchHttp, state: SimulatorState) -> None:
    body = card_payment(APPROVE, amount=1000)
    first = hs.post("/payments", body)

    again = hs.post("/payments", {**body, "amount": 2000})

    assert first.status_code == 200 and again.status_code == 400
    assert error_of(again) == {"type": "invalid_request", "code": "HE_01",
                               "message": "The payment with the specified payment_id already exists in our records",
                               "reason": f"{body['payment_id']} already exists"}
    assert hs.get(f"/payments/{body['payment_id']}").json()["amount"] == 1000
    (row,) = [r for r in state.payments_overview() if r["payment_id"] == body["payment_id"]]
    assert row["create_calls"] == 2 and row["status"] == "succeeded"


def test_concurrent_creates_with_one_payment_id_make_one_payment(hs: HyperswitchHttp,
                                                                 state: SimulatorState) -> None:
    body = card_payment(APPROVE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(lambda _: hs.post("/payments", body).status_code, range(8)))

    assert statuses == [200] + [400] * 7
    (row,) = [r for r in state.payments_overview() if r["payment_id"] == body["payment_id"]]
    assert row["create_calls"] == 8


def test_generated_payment_id_shape(hs: HyperswitchHttp) -> None:
    body = card_payment(APPROVE)
    del body["payment_id"]

    payment = hs.post("/payments", body).json()

    assert re.fullmatch(r"pay_[A-Za-z0-9]{20}", payment["payment_id"])
    assert payment["client_secret"].startswith(payment["payment_id"] + "_secret_")


def test_unknown_field_is_ir_06_with_the_error_type_quirk(hs: HyperswitchHttp) -> None:
    response = hs.post("/payments", {**card_payment(), "amount_in_dollars": 65.4}, check_request=False)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "IR_06" and error["error_type"] == "invalid_request" and "type" not in error
    assert error["message"].startswith("Json deserialize error: unknown field `amount_in_dollars`")


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"amount": 10.5, "currency": "USD"}',
                                 b'{"amount": "1000", "currency": "USD"}', b'{"amount": 100, "currency": "XXX"}',
                                 b'{"amount": 100, "currency": "USD", "payment_id": "has spaces!"}'])
def test_unreadable_bodies_are_ir_06(hs: HyperswitchHttp, raw: bytes) -> None:
    response = hs.request("POST", "/payments", data=raw, headers={"Content-Type": "application/json"},
                          check_request=False)

    assert response.status_code == 400
    assert error_of(response)["code"] == "IR_06" and "error_type" in error_of(response)


def test_json_content_type_is_required(hs: HyperswitchHttp) -> None:
    response = hs.request("POST", "/payments", data=b'{"amount": 100, "currency": "USD"}',
                          headers={"Content-Type": "text/plain"}, check_request=False)

    assert response.status_code == 400 and error_of(response)["code"] == "IR_06"


@pytest.mark.parametrize("api_key", [None, "snd_wrong"])
def test_missing_or_wrong_api_key_is_ir_01(server, api_key: str | None) -> None:
    client = HyperswitchHttp(server.url, api_key)

    response = client.post("/payments", card_payment())

    assert response.status_code == 401
    assert error_of(response) == {"type": "invalid_request", "code": "IR_01",
                                  "message": "API key not provided or invalid API key used"}


def test_unknown_payment_is_he_02(hs: HyperswitchHttp) -> None:
    response = hs.get(f"/payments/{new_id('pay_')}")

    assert response.status_code == 404
    assert error_of(response) == {"type": "invalid_request", "code": "HE_02",
                                  "message": "Payment does not exist in our records"}


def test_unrecognized_url_and_wrong_method(server) -> None:
    headers = {"api-key": "snd_test_key_a"}

    unknown = requests.get(server.url + "/no/such/route", headers=headers, timeout=5)
    wrong = requests.delete(server.url + "/payments", headers=headers, timeout=5)

    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "IR_02"
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "IR_03"


def test_amount_limits(hs: HyperswitchHttp) -> None:
    too_big = hs.post("/payments", card_payment(amount=1_000_000_000))
    capture_above_amount = hs.post("/payments", {**card_payment(amount=100), "amount_to_capture": 101})

    assert too_big.status_code == 400 and error_of(too_big)["code"] == "IR_16"
    assert capture_above_amount.status_code == 400 and error_of(capture_above_amount)["code"] == "IR_05"


def test_invalid_card_details(hs: HyperswitchHttp) -> None:
    short = hs.post("/payments", {**card_payment(), "payment_method_data": card("4242")})
    month = hs.post("/payments", {**card_payment(), "payment_method_data": card(APPROVE, month="13")})
    missing_method = hs.post("/payments", {k: v for k, v in card_payment().items() if k != "payment_method"})

    assert short.status_code == 400
    assert error_of(short)["message"] == "Json deserialize error: invalid card number length"
    assert month.status_code == 400 and error_of(month) == {"type": "invalid_request", "code": "IR_16",
                                                            "message": "Invalid Expiry Month"}
    assert error_of(missing_method) == {"type": "invalid_request", "code": "IR_04",
                                        "message": "Missing required param: payment_method"}


def test_metadata_and_description_come_back(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, metadata={"kb_transaction_id": "t-1"}, description="Invoice 7",
                  merchant_order_reference_id="inv-7")

    fetched = hs.get(f"/payments/{payment['payment_id']}").json()

    assert fetched["metadata"] == {"kb_transaction_id": "t-1"}
    assert (fetched["description"], fetched["merchant_order_reference_id"]) == ("Invoice 7", "inv-7")


def test_zero_decimal_currency_keeps_integer_minor_units(hs: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=1500, currency="JPY")

    assert payment["amount"] == 1500 and isinstance(payment["amount_received"], int)
