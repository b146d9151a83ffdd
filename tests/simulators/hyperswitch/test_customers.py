"""Customers, saved payment methods, mandates and merchant-initiated charges over real HTTP."""

from __future__ import annotations

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .contract import HyperswitchHttp
from .helpers import ACCEPTANCE, APPROVE, DECLINE, card_payment, error_of, mit_payment, new_id, pay, save_card_payment


def create_customer(hs: HyperswitchHttp, **fields) -> dict:
    response = hs.post("/customers", {"customer_id": new_id("cus_", 24), "name": "Ada", "email": "ada@example.com",
                                      **fields})
    assert response.status_code == 200, response.text
    return response.json()


def saved_card(hs: HyperswitchHttp, customer_id: str, *, mandate: bool = False) -> dict:
    response = hs.post("/payments", save_card_payment(customer_id, mandate=mandate))
    assert response.status_code == 200, response.text
    return response.json()


def test_customer_lifecycle(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs, metadata={"kb_account_id": "a-1"})
    path = f"/customers/{customer['customer_id']}"

    assert hs.get(path).json() == customer
    updated = hs.post(path, {"email": "lovelace@example.com"}).json()
    deleted = hs.delete(path)

    assert updated["email"] == "lovelace@example.com" and updated["name"] == "Ada"
    assert deleted.json() == {"customer_id": customer["customer_id"], "customer_deleted": True,
                              "address_deleted": True, "payment_methods_deleted": True}
    again = hs.get(path)
    assert again.status_code == 400 and error_of(again)["code"] == "IR_11"


def test_duplicate_customer_id_is_ir_12(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)

    response = hs.post("/customers", {"customer_id": customer["customer_id"]})

    assert response.status_code == 400
    assert error_of(response) == {"type": "invalid_request", "code": "IR_12",
                                  "message": "Customer with the given `customer_id` already exists"}


def test_unknown_customer_is_he_02(hs: HyperswitchHttp) -> None:
    response = hs.get("/customers/cus_nobody")

    assert response.status_code == 404 and error_of(response)["code"] == "HE_02"


def test_customer_list(hs: HyperswitchHttp) -> None:
    ids = {create_customer(hs)["customer_id"] for _ in range(3)}

    listed = hs.get("/customers/list", params={"limit": "2", "offset": "1"}).json()

    assert len(listed) == 2 and {c["customer_id"] for c in listed} <= ids


def test_off_session_cit_saves_the_card(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)

    payment = saved_card(hs, customer["customer_id"])

    assert payment["status"] == "succeeded"
    assert payment["payment_method_id"].startswith("pm_") and payment["mandate_id"] is None
    assert payment["network_transaction_id"]
    methods = hs.get(f"/customers/{customer['customer_id']}/payment_methods").json()
    (method,) = methods["customer_payment_methods"]
    assert method["payment_method_id"] == payment["payment_method_id"]
    assert method["recurring_enabled"] is True and method["card"]["last4_digits"] == "4242"
    assert methods["is_guest_customer"] is False


def test_without_customer_acceptance_nothing_is_saved(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)

    payment = pay(hs, APPROVE, customer_id=customer["customer_id"], setup_future_usage="off_session")

    assert payment["payment_method_id"] is None
    assert hs.get(f"/customers/{customer['customer_id']}/payment_methods").json()["customer_payment_methods"] == []


def test_the_same_card_is_saved_once_per_customer(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)

    first = saved_card(hs, customer["customer_id"])
    second = saved_card(hs, customer["customer_id"])

    assert first["payment_method_id"] == second["payment_method_id"]


def test_a_declined_cit_saves_nothing(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)

    body = save_card_payment(customer["customer_id"], number=DECLINE)
    payment = hs.post("/payments", body).json()

    assert payment["status"] == "failed" and payment["payment_method_id"] is None


def test_mit_with_a_saved_payment_method(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    pm_id = saved_card(hs, customer["customer_id"])["payment_method_id"]

    mit = hs.post("/payments", mit_payment(customer["customer_id"], payment_method_id=pm_id, amount=1999)).json()

    assert mit["status"] == "succeeded" and mit["amount_received"] == 1999
    assert mit["payment_method_id"] == pm_id and mit["off_session"] is True
    assert mit["payment_method_data"]["card"]["last4"] == "4242"


@pytest.mark.parametrize(("outcome", "status", "error_code"), [
    ("decline", "failed", "card_declined"), ("insufficient_funds", "failed", "card_declined"),
    ("processing", "processing", None), ("approve", "succeeded", None)])
def test_mit_outcome_follows_the_payment_method_behaviour(hs: HyperswitchHttp, outcome: str, status: str,
                                                          error_code: str | None) -> None:
    customer = create_customer(hs)
    pm_id = saved_card(hs, customer["customer_id"])["payment_method_id"]
    set_behaviour = requests.post(f"{hs.base_url}/__sim/payment_methods/{pm_id}/behaviour",
                                  json={"outcome": outcome}, timeout=5)
    assert set_behaviour.status_code == 200

    mit = hs.post("/payments", mit_payment(customer["customer_id"], payment_method_id=pm_id)).json()

    assert (mit["status"], mit["error_code"]) == (status, error_code)


def test_mit_validation(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    pm_id = saved_card(hs, customer["customer_id"])["payment_method_id"]
    body = mit_payment(customer["customer_id"], payment_method_id=pm_id)

    not_off_session = hs.post("/payments", {**body, "off_session": False})
    no_customer = hs.post("/payments", {k: v for k, v in body.items() if k != "customer_id"})
    unknown_method = hs.post("/payments", mit_payment(customer["customer_id"], payment_method_id="pm_unknown"))
    other_customer = hs.post("/payments", mit_payment(create_customer(hs)["customer_id"], payment_method_id=pm_id))

    assert error_of(not_off_session) == {"type": "invalid_request", "code": "IR_16",
                                         "message": "`off_session` should be `true` for mandates"}
    assert error_of(no_customer) == {"type": "invalid_request", "code": "IR_04",
                                     "message": "Missing required param: customer_id"}
    assert unknown_method.status_code == 404 and error_of(unknown_method)["code"] == "HE_02"
    assert other_customer.status_code == 400 and error_of(other_customer)["code"] == "IR_16"


def test_mandate_setup_and_mit_with_mandate_id(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    cit = saved_card(hs, customer["customer_id"], mandate=True)
    mandate_id = cit["mandate_id"]
    assert mandate_id.startswith("man_") and cit["payment_method_id"].startswith("pm_")

    mandate = hs.get(f"/mandates/{mandate_id}").json()
    mit = hs.post("/payments", mit_payment(customer["customer_id"], mandate_id=mandate_id, amount=2500)).json()
    legacy = hs.post("/payments", {**mit_payment(customer["customer_id"], amount=2500), "mandate_id": mandate_id})

    assert mandate["status"] == "active" and mandate["payment_method_id"] == cit["payment_method_id"]
    assert mandate["customer_acceptance"]["acceptance_type"] == "online"
    assert (mit["status"], mit["mandate_id"]) == ("succeeded", mandate_id)
    assert legacy.json()["status"] == "succeeded"
    listed = hs.get(f"/customers/{customer['customer_id']}/mandates").json()
    assert [m["mandate_id"] for m in listed] == [mandate_id]


def test_mandate_amount_and_currency_are_enforced(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    mandate_id = saved_card(hs, customer["customer_id"], mandate=True)["mandate_id"]

    above = hs.post("/payments", mit_payment(customer["customer_id"], mandate_id=mandate_id, amount=10_001))
    other_currency = hs.post("/payments", {**mit_payment(customer["customer_id"], mandate_id=mandate_id),
                                           "currency": "EUR"})

    assert above.status_code == 400 and error_of(above)["code"] == "IR_16"
    assert other_currency.status_code == 400 and error_of(other_currency)["code"] == "IR_16"


def test_mandate_data_needs_off_session_usage(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    body = save_card_payment(customer["customer_id"], mandate=True)
    body["setup_future_usage"] = "on_session"

    response = hs.post("/payments", body)

    assert response.status_code == 400 and error_of(response)["code"] == "IR_16"


def test_revoked_mandate_cannot_be_charged_or_revoked_again(hs: HyperswitchHttp, state: SimulatorState) -> None:
    customer = create_customer(hs)
    mandate_id = saved_card(hs, customer["customer_id"], mandate=True)["mandate_id"]

    revoked = hs.post(f"/mandates/revoke/{mandate_id}")
    again = hs.post(f"/mandates/revoke/{mandate_id}")
    mit = hs.post("/payments", mit_payment(customer["customer_id"], mandate_id=mandate_id))

    assert revoked.json() == {"mandate_id": mandate_id, "status": "revoked", "error_code": None, "error_message": None}
    assert again.status_code == 400 and error_of(again)["code"] == "HE_03"
    assert mit.status_code == 400 and error_of(mit)["message"] == "mandate is not active"
    assert state.deliveries(event_type="mandate_revoked") == []  # API revoke sends no event


def test_mandate_behaviour_declines_the_mit(hs: HyperswitchHttp, state: SimulatorState) -> None:
    customer = create_customer(hs)
    mandate_id = saved_card(hs, customer["customer_id"], mandate=True)["mandate_id"]
    state.set_mandate_behaviour(mandate_id, "insufficient_funds")

    mit = hs.post("/payments", mit_payment(customer["customer_id"], mandate_id=mandate_id)).json()

    assert mit["status"] == "failed" and "insufficient_funds" in mit["error_message"]


def test_customer_with_an_active_mandate_cannot_be_deleted(hs: HyperswitchHttp, state: SimulatorState) -> None:
    customer = create_customer(hs)
    mandate_id = saved_card(hs, customer["customer_id"], mandate=True)["mandate_id"]
    path = f"/customers/{customer['customer_id']}"

    blocked = hs.delete(path)
    state.revoke_mandate(mandate_id)
    allowed = hs.delete(path)

    assert blocked.status_code == 400 and error_of(blocked)["code"] == "IR_10"
    assert allowed.status_code == 200
    pm_id = hs.get(f"/mandates/{mandate_id}").json()["payment_method_id"]
    assert hs.get(f"/payment_methods/{pm_id}").status_code == 404


def test_payment_method_retrieve_set_default_delete(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    pm_id = saved_card(hs, customer["customer_id"])["payment_method_id"]
    path = f"/customers/{customer['customer_id']}/payment_methods/{pm_id}/default"

    retrieved = hs.get(f"/payment_methods/{pm_id}").json()
    default = hs.post(path)
    again = hs.post(path)

    assert retrieved["customer_id"] == customer["customer_id"] and retrieved["card"]["last4_digits"] == "4242"
    assert default.json() == {"default_payment_method_id": pm_id, "customer_id": customer["customer_id"],
                              "payment_method": "card", "payment_method_type": "credit"}
    assert again.status_code == 400 and error_of(again)["code"] == "IR_16"
    assert hs.get(f"/customers/{customer['customer_id']}").json()["default_payment_method_id"] == pm_id
    listed = hs.get(f"/customers/{customer['customer_id']}/payment_methods").json()["customer_payment_methods"]
    assert listed[0]["default_payment_method_set"] is True

    deleted = hs.delete(f"/payment_methods/{pm_id}")

    assert deleted.json() == {"payment_method_id": pm_id, "deleted": True}
    assert hs.get(f"/customers/{customer['customer_id']}").json()["default_payment_method_id"] is None
    assert hs.get(f"/payment_methods/{pm_id}").status_code == 404
    mit = hs.post("/payments", mit_payment(customer["customer_id"], payment_method_id=pm_id))
    assert mit.status_code == 404


def test_payment_token_from_the_list_pays_with_the_saved_card(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    pm_id = saved_card(hs, customer["customer_id"])["payment_method_id"]
    (listed,) = hs.get(f"/customers/{customer['customer_id']}/payment_methods").json()["customer_payment_methods"]

    body = {"payment_id": new_id("pay_"), "amount": 700, "currency": "USD", "confirm": True,
            "customer_id": customer["customer_id"], "payment_token": listed["payment_token"]}
    payment = hs.post("/payments", body).json()

    assert payment["status"] == "succeeded" and payment["payment_method_id"] == pm_id


def test_payment_with_unknown_customer_creates_it(hs: HyperswitchHttp) -> None:
    customer_id = new_id("cus_", 24)

    pay(hs, APPROVE, customer={"id": customer_id, "name": "Grace", "email": "grace@example.com"})

    customer = hs.get(f"/customers/{customer_id}").json()
    assert (customer["name"], customer["email"]) == ("Grace", "grace@example.com")


def test_customer_id_must_match_customer_object(hs: HyperswitchHttp) -> None:
    response = hs.post("/payments", card_payment(customer_id="cus_one", customer={"id": "cus_two"}))

    assert response.status_code == 400 and error_of(response)["code"] == "IR_16"


def test_zero_amount_setup_mandate(hs: HyperswitchHttp) -> None:
    customer = create_customer(hs)
    body = save_card_payment(customer["customer_id"], mandate=True, amount=0)
    body["customer_acceptance"] = ACCEPTANCE

    payment = hs.post("/payments", body).json()

    assert payment["status"] == "succeeded" and payment["amount"] == 0 and payment["mandate_id"]
