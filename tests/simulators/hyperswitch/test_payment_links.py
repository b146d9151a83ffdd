"""Payment links: creation rules, retrieve, and completing the hosted page with plain form posts."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from bridge.simulators.hyperswitch import SimulatorState

from .conftest import MERCHANT_A
from .contract import HyperswitchHttp
from .helpers import APPROVE, DECLINE, THREE_DS, error_of, new_id

RETURN_URL = "https://billing.example/pay/return?invoice=42"
FORM = {"card_exp_month": "12", "card_exp_year": "2035", "card_holder_name": "Ada", "card_cvc": "123"}


def create_link(hs: HyperswitchHttp, **extra) -> dict:
    body = {"payment_id": new_id("pay_"), "amount": 12_345, "currency": "EUR", "payment_link": True,
            "return_url": RETURN_URL, "description": "Invoice 42", **extra}
    response = hs.post("/payments", body)
    assert response.status_code == 200, response.text
    return response.json()


def submit(link_url: str, number: str, **extra) -> requests.Response:
    return requests.post(link_url, data={**FORM, "card_number": number, **extra}, allow_redirects=False, timeout=5)


def verify_return_signature(location: str) -> dict[str, str]:
    """The router signs the return_url query (HMAC-SHA512 over the sorted params) with the hash key."""
    params = dict(parse_qsl(urlsplit(location).query))
    signature = params.pop("signature")
    assert params.pop("signature_algorithm") == "HMAC-SHA512"
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    expected = hmac.new(MERCHANT_A["payment_response_hash_key"].encode(), payload.encode(), hashlib.sha512).hexdigest()
    assert hmac.compare_digest(signature, expected)
    return params


def test_link_creation_response(hs: HyperswitchHttp) -> None:
    payment = create_link(hs)

    link = payment["payment_link"]
    assert payment["status"] == "requires_payment_method" and payment["payment_method"] is None
    assert link["link"] == f"{hs.base_url}/payment_link/merchant_a/{payment['payment_id']}?locale=en"
    assert link["payment_link_id"].startswith("plink_") and link["secure_link"] is None
    created = datetime.fromisoformat(payment["created"])
    expires = datetime.fromisoformat(payment["expires_on"])
    assert expires - created == timedelta(seconds=900)


def test_link_retrieve(hs: HyperswitchHttp) -> None:
    payment = create_link(hs, session_expiry=3600)

    retrieved = hs.get(f"/payment_link/{payment['payment_link']['payment_link_id']}").json()

    assert retrieved["status"] == "active" and retrieved["amount"] == 12_345 and retrieved["currency"] == "EUR"
    assert retrieved["link_to_pay"] == payment["payment_link"]["link"]
    assert retrieved["merchant_id"] == "merchant_a" and retrieved["description"] == "Invoice 42"
    assert retrieved["expiry"] == payment["expires_on"]


@pytest.mark.parametrize(("extra", "message"), [
    ({"confirm": True}, "cannot confirm a payment while creating a payment link"),
    ({"return_url": None}, "return_url must be sent while creating a payment link"),
    ({"session_expiry": 30}, "session_expiry should be between 60(1 min) to 7890000(3 months)."),
])
def test_link_creation_rules_are_ir_06_422(hs: HyperswitchHttp, extra: dict, message: str) -> None:
    body = {"payment_id": new_id("pay_"), "amount": 100, "currency": "EUR", "payment_link": True,
            "return_url": RETURN_URL, **extra}

    response = hs.post("/payments", {k: v for k, v in body.items() if v is not None})

    assert response.status_code == 422
    assert error_of(response) == {"type": "invalid_request", "code": "IR_06", "message": message}


def test_paying_the_hosted_page_succeeds_and_redirects_signed(hs: HyperswitchHttp) -> None:
    payment = create_link(hs)
    link_url = payment["payment_link"]["link"]

    page = requests.get(link_url, timeout=5)
    done = submit(link_url, APPROVE)

    assert page.status_code == 200 and 'name="card_number"' in page.text and "123.45 EUR" in page.text
    assert done.status_code == 303
    location = done.headers["Location"]
    assert location.startswith("https://billing.example/pay/return?invoice=42&status=succeeded")
    params = verify_return_signature(location)
    assert params["payment_intent_client_secret"] == payment["client_secret"] and params["amount"] == "12345"
    fetched = hs.get(f"/payments/{payment['payment_id']}").json()
    assert fetched["status"] == "succeeded" and fetched["amount_received"] == 12_345
    after = requests.get(link_url, timeout=5).text
    assert "This payment is succeeded." in after and 'name="card_number"' not in after


def test_hosted_page_can_save_the_card(hs: HyperswitchHttp) -> None:
    customer_id = new_id("cus_", 24)
    payment = create_link(hs, customer_id=customer_id, setup_future_usage="off_session")

    page = requests.get(payment["payment_link"]["link"], timeout=5)
    submit(payment["payment_link"]["link"], APPROVE, save_card="on")

    assert 'name="save_card"' in page.text
    fetched = hs.get(f"/payments/{payment['payment_id']}").json()
    assert fetched["payment_method_id"].startswith("pm_")
    methods = hs.get(f"/customers/{customer_id}/payment_methods").json()["customer_payment_methods"]
    assert [m["payment_method_id"] for m in methods] == [fetched["payment_method_id"]]


def test_hosted_page_without_consent_saves_nothing(hs: HyperswitchHttp) -> None:
    customer_id = new_id("cus_", 24)
    payment = create_link(hs, customer_id=customer_id, setup_future_usage="off_session")

    submit(payment["payment_link"]["link"], APPROVE)

    assert hs.get(f"/payments/{payment['payment_id']}").json()["payment_method_id"] is None


def test_declined_card_on_the_page_fails_the_payment(hs: HyperswitchHttp) -> None:
    payment = create_link(hs)

    done = submit(payment["payment_link"]["link"], DECLINE)

    assert "status=failed" in done.headers["Location"]
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "failed"


def test_invalid_card_on_the_page_re_renders_the_form(hs: HyperswitchHttp) -> None:
    payment = create_link(hs)

    done = submit(payment["payment_link"]["link"], "4242424242424241")

    assert done.status_code == 400 and 'role="alert"' in done.text
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "requires_payment_method"


def test_three_ds_card_on_the_page_goes_through_the_challenge(hs: HyperswitchHttp) -> None:
    payment = create_link(hs)

    to_challenge = submit(payment["payment_link"]["link"], THREE_DS)
    challenge_url = to_challenge.headers["Location"]
    done = requests.post(challenge_url, data={"result": "success"}, allow_redirects=False, timeout=5)

    assert to_challenge.status_code == 303 and "/payments/redirect/" in challenge_url
    assert "status=succeeded" in done.headers["Location"]
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "succeeded"


def test_expired_link_cannot_be_paid(hs: HyperswitchHttp, state: SimulatorState) -> None:
    payment = create_link(hs, session_expiry=60)
    later = datetime.now(UTC) + timedelta(seconds=120)
    state.clock = lambda: later

    retrieved = hs.get(f"/payment_link/{payment['payment_link']['payment_link_id']}").json()
    done = submit(payment["payment_link"]["link"], APPROVE)

    assert retrieved["status"] == "expired"
    assert done.status_code in (200, 400) and "expired" in done.text.lower()
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "requires_payment_method"


def test_an_open_link_payment_can_be_cancelled(hs: HyperswitchHttp) -> None:
    payment = create_link(hs)

    cancelled = hs.post(f"/payments/{payment['payment_id']}/cancel", {})
    page = requests.get(payment["payment_link"]["link"], timeout=5)

    assert cancelled.status_code == 200
    assert hs.get(f"/payments/{payment['payment_id']}").json()["status"] == "cancelled"
    assert 'name="card_number"' not in page.text


def test_unknown_link(hs: HyperswitchHttp) -> None:
    response = hs.get("/payment_link/plink_unknown")
    page = requests.get(f"{hs.base_url}/payment_link/merchant_a/pay_unknown", timeout=5)

    assert response.status_code == 404 and error_of(response)["message"] == "Payment Link does not exist in our records"
    assert page.status_code == 404
