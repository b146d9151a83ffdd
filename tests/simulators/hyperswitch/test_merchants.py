"""Several merchants and profiles: isolation, profile selection, the business-profile API."""

from __future__ import annotations

import requests

from bridge.simulators.hyperswitch import SimulatorState

from .conftest import MERCHANT_A, MERCHANT_B, WebhookReceiver
from .contract import HyperswitchHttp
from .helpers import APPROVE, card_payment, error_of, new_id, pay, save_card_payment, signature


def test_merchant_b_cannot_see_merchant_a_objects(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, customer_id="cus_shared_name")
    refund = hs.post("/refunds", {"payment_id": payment["payment_id"], "refund_id": new_id("ref_"),
                                  "amount": 100}).json()

    # Lookups are by (id, merchant): the other merchant's object simply does not exist (HE_02, 404).
    for path in (f"/payments/{payment['payment_id']}", f"/refunds/{refund['refund_id']}", "/customers/cus_shared_name"):
        response = hs_b.get(path)
        assert response.status_code == 404 and error_of(response)["code"] == "HE_02", path
    capture = hs_b.post(f"/payments/{payment['payment_id']}/cancel", {})
    refund_b = hs_b.post("/refunds", {"payment_id": payment["payment_id"], "amount": 100})
    assert capture.status_code == 404 and refund_b.status_code == 404
    assert hs_b.get("/payments/list").json() == {"size": 0, "data": []}


def test_the_same_payment_id_can_exist_for_two_merchants(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    body = card_payment(APPROVE, amount=100)

    first = hs.post("/payments", body)
    second = hs_b.post("/payments", {**body, "amount": 200})

    assert first.status_code == second.status_code == 200
    assert hs.get(f"/payments/{body['payment_id']}").json()["amount"] == 100
    assert hs_b.get(f"/payments/{body['payment_id']}").json()["merchant_id"] == "merchant_b"


def test_saved_methods_and_mandates_are_merchant_scoped(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    cit = hs.post("/payments", save_card_payment(new_id("cus_", 24), mandate=True)).json()

    assert hs_b.get(f"/payment_methods/{cit['payment_method_id']}").status_code == 404
    assert hs_b.get(f"/mandates/{cit['mandate_id']}").status_code == 404
    assert hs_b.post(f"/mandates/revoke/{cit['mandate_id']}").status_code == 404


def test_payment_link_retrieve_is_not_merchant_scoped(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    payment = hs.post("/payments", {"payment_id": new_id("pay_"), "amount": 100, "currency": "USD",
                                    "payment_link": True, "return_url": "https://a.example/"}).json()

    # The router looks links up by id alone (reference §5); the simulator keeps that quirk.
    other = hs_b.get(f"/payment_link/{payment['payment_link']['payment_link_id']}")

    assert other.status_code == 200 and other.json()["merchant_id"] == "merchant_a"


def test_profile_api_reads_and_updates_webhook_settings(hs: HyperswitchHttp) -> None:
    path = f"/account/{MERCHANT_A['merchant_id']}/business_profile/{MERCHANT_A['profile_id']}"

    before = hs.get(path).json()
    updated = hs.post(path, {"webhook_details": {"webhook_url": "https://bridge.example/webhooks/hyperswitch",
                                                 "payment_statuses_enabled": ["succeeded", "failed"]},
                             "return_url": "https://bridge.example/return"}).json()

    assert before["webhook_details"] is None
    assert before["payment_response_hash_key"] == MERCHANT_A["payment_response_hash_key"]
    assert updated["webhook_details"]["webhook_url"] == "https://bridge.example/webhooks/hyperswitch"
    assert updated["webhook_details"]["payment_statuses_enabled"] == ["succeeded", "failed"]
    assert updated["return_url"] == "https://bridge.example/return"
    assert hs.get(path).json() == updated


def test_profile_api_errors(hs: HyperswitchHttp) -> None:
    other_merchant = hs.get(f"/account/{MERCHANT_B['merchant_id']}/business_profile/{MERCHANT_B['profile_id']}")
    unknown_profile = hs.get(f"/account/{MERCHANT_A['merchant_id']}/business_profile/pro_unknown")
    unknown_field = hs.post(f"/account/{MERCHANT_A['merchant_id']}/business_profile/{MERCHANT_A['profile_id']}",
                            {"webhook_url": "https://x.example"}, check_request=False)

    assert other_merchant.status_code == 401 and error_of(other_merchant)["code"] == "IR_01"
    assert unknown_profile.status_code == 404 and error_of(unknown_profile)["code"] == "HE_02"
    assert unknown_field.status_code == 400 and error_of(unknown_field)["code"] == "IR_06"


def test_second_profile_selected_by_header_or_body(hs: HyperswitchHttp, state: SimulatorState,
                                                   receiver: WebhookReceiver) -> None:
    second_key = "hash_key_a2_" + "c" * 52
    state.add_profile("merchant_a", "pro_a2", payment_response_hash_key=second_key, webhook_url=receiver.url)

    by_header = hs.post("/payments", card_payment(APPROVE), headers={"X-Profile-Id": "pro_a2"}).json()
    by_body = hs.post("/payments", card_payment(APPROVE, profile_id="pro_a2")).json()
    default = pay(hs, APPROVE)

    assert by_header["profile_id"] == by_body["profile_id"] == "pro_a2"
    assert default["profile_id"] == "pro_a"
    # The second profile's webhooks are signed with its own key; the default profile has no URL.
    received = receiver.wait_for(2)
    assert state.wait_for_deliveries(5)
    assert len(receiver.received) == 2
    assert all(r.headers["X-Webhook-Signature-512"] == signature(r.body, second_key) for r in received)


def test_a_profile_of_another_merchant_is_refused(hs: HyperswitchHttp) -> None:
    by_header = hs.post("/payments", card_payment(), headers={"X-Profile-Id": MERCHANT_B["profile_id"]})
    by_body = hs.post("/payments", card_payment(profile_id=MERCHANT_B["profile_id"]))

    assert by_header.status_code == 401 and error_of(by_header)["code"] == "IR_01"
    assert by_body.status_code == 404 and error_of(by_body)["code"] == "HE_02"


def test_merchants_added_over_the_control_api(server, state: SimulatorState) -> None:
    added = requests.post(f"{server.url}/__sim/merchants", timeout=5, json={
        "merchant_id": "merchant_c", "api_key": "snd_key_c", "profile_id": "pro_c",
        "publishable_key": "pk_snd_c", "payment_response_hash_key": "hash_c"})
    client = HyperswitchHttp(server.url, "snd_key_c")

    payment = pay(client, APPROVE)
    listed = requests.get(f"{server.url}/__sim/merchants", timeout=5).json()

    assert added.status_code == 201 and payment["merchant_id"] == "merchant_c"
    assert {m["merchant_id"] for m in listed} == {"merchant_a", "merchant_b", "merchant_c"}
    missing = requests.post(f"{server.url}/__sim/merchants", json={"merchant_id": "x"}, timeout=5)
    assert missing.status_code == 400


def test_payments_overview_and_reset_over_the_control_api(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    body = card_payment(APPROVE, metadata={"kb_transaction_id": "t-1"})
    hs.post("/payments", body)
    hs.post("/payments", body)
    pay(hs_b, APPROVE)

    rows = requests.get(f"{hs.base_url}/__sim/payments", params={"merchant_id": "merchant_a"}, timeout=5).json()
    reset = requests.post(f"{hs.base_url}/__sim/reset", json={}, timeout=5)

    assert rows == [{"merchant_id": "merchant_a", "payment_id": body["payment_id"], "create_calls": 2,
                     "status": "succeeded", "amount": 6540, "amount_received": 6540,
                     "metadata": {"kb_transaction_id": "t-1"}}]
    assert reset.status_code == 200
    assert requests.get(f"{hs.base_url}/__sim/payments", timeout=5).json() == []
    assert hs.get(f"/payments/{body['payment_id']}").status_code == 404
    assert pay(hs, APPROVE)["status"] == "succeeded"  # merchants survive a plain reset


def test_refunds_overview_over_the_control_api(hs: HyperswitchHttp, hs_b: HyperswitchHttp) -> None:
    payment = pay(hs, APPROVE, amount=1000)
    first = hs.post("/refunds", {"payment_id": payment["payment_id"], "refund_id": new_id("ref_"), "amount": 400,
                                 "metadata": {"kb_transaction_id": "t-2"}}).json()
    other = pay(hs_b, APPROVE, amount=500)
    hs_b.post("/refunds", {"payment_id": other["payment_id"], "refund_id": new_id("ref_"), "amount": 500})

    rows = requests.get(f"{hs.base_url}/__sim/refunds", params={"merchant_id": "merchant_a"}, timeout=5).json()
    everyone = requests.get(f"{hs.base_url}/__sim/refunds", timeout=5).json()

    assert rows == [{"merchant_id": "merchant_a", "refund_id": first["refund_id"],
                     "payment_id": payment["payment_id"], "status": "succeeded", "amount": 400, "currency": "USD",
                     "metadata": {"kb_transaction_id": "t-2"}}]
    assert {row["merchant_id"] for row in everyone} == {"merchant_a", "merchant_b"}
