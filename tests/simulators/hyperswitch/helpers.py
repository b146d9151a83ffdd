"""Request builders and small utilities shared by the simulator tests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from .contract import HyperswitchHttp

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
LOST = "4000000000009987"
STOLEN = "4000000000009979"
THREE_DS = "4000003800000446"
PROCESSING = "4000000000000077"

ACCEPTANCE = {"acceptance_type": "online", "accepted_at": "2026-01-01T00:00:00.000Z",
              "online": {"ip_address": "127.0.0.1", "user_agent": "pytest"}}


def new_id(prefix: str, length: int = 30) -> str:
    """A merchant-supplied id of exactly ``length`` characters (the spec wants 30 for payment/refund ids)."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length - len(prefix)))


def card(number: str = APPROVE, *, month: str = "12", year: str = "35") -> dict[str, Any]:
    return {"card": {"card_number": number, "card_exp_month": month, "card_exp_year": year,
                     "card_holder_name": "Ada Lovelace", "card_cvc": "123"}}


def card_payment(number: str = APPROVE, amount: int = 6540, **extra: Any) -> dict[str, Any]:
    body = {"payment_id": new_id("pay_"), "amount": amount, "currency": "USD", "confirm": True,
            "payment_method": "card", "payment_method_data": card(number)}
    body.update(extra)
    return body


def pay(hs: HyperswitchHttp, number: str = APPROVE, amount: int = 6540, **extra: Any) -> dict[str, Any]:
    response = hs.post("/payments", card_payment(number, amount, **extra))
    assert response.status_code == 200, response.text
    return response.json()


def save_card_payment(customer_id: str, *, mandate: bool = False, number: str = APPROVE,
                      amount: int = 6540) -> dict[str, Any]:
    """A customer-initiated charge that saves the card for later merchant-initiated ones."""
    body = card_payment(number, amount, customer_id=customer_id, setup_future_usage="off_session",
                        customer_acceptance=ACCEPTANCE)
    if mandate:
        body["mandate_data"] = {"customer_acceptance": ACCEPTANCE,
                                "mandate_type": {"multi_use": {"amount": 10_000, "currency": "USD"}}}
    return body


def mit_payment(customer_id: str, *, payment_method_id: str | None = None, mandate_id: str | None = None,
                amount: int = 1000) -> dict[str, Any]:
    body: dict[str, Any] = {"payment_id": new_id("pay_"), "amount": amount, "currency": "USD", "confirm": True,
                            "customer_id": customer_id, "off_session": True}
    if payment_method_id:
        body["recurring_details"] = {"type": "payment_method_id", "data": payment_method_id}
    if mandate_id:
        body["recurring_details"] = {"type": "mandate_id", "data": mandate_id}
    return body


def error_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def signature(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def eventually(check: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
