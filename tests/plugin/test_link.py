"""purchasePayment with hsPaymentId: record a payment the payor already made (pay-by-link), checked first."""

from __future__ import annotations

import uuid

import pytest

from bridge.payments import ids
from hyperswitch_client.payments import PaymentCreateParams, PaymentMethodData
from tests.plugin.conftest import APPROVE, ASYNC, new_account, payment_call


@pytest.fixture
def account_id(kb, tenant_id) -> str:  # type: ignore[no-untyped-def]
    return str(new_account(kb).account_id)


def paid(hs, customer_id: str, minor: int = 4200, currency: str = "USD", card: str = APPROVE) -> str:  # type: ignore[no-untyped-def]
    payment = hs.payments.create(PaymentCreateParams(
        amount=minor, currency=currency, confirm=True, customer_id=customer_id, payment_method="card",
        payment_method_data=PaymentMethodData.model_validate({"card": {
            "card_number": card, "card_exp_month": "12", "card_exp_year": "2035", "card_holder_name": "Ada",
            "card_cvc": "123"}})))
    return payment.payment_id


def link_call(account_id: str, hs_payment_id: str, amount: str = "42.00", currency: str = "USD") -> dict:
    return payment_call(account_id, amount, currency,
                        properties=[{"key": "hsPaymentId", "value": hs_payment_id, "isUpdatable": False}])


def test_a_succeeded_payment_is_recorded_without_a_new_charge(plugin, hs, hs_state, account_id) -> None:
    hs_payment_id = paid(hs, ids.customer_id(account_id))
    before = len(hs_state.payments_overview())
    info = plugin.ok("purchasePayment", **link_call(account_id, hs_payment_id))
    assert info["status"] == "PROCESSED"
    assert info["firstPaymentReferenceId"] == hs_payment_id
    assert len(hs_state.payments_overview()) == before


@pytest.mark.parametrize(("amount", "currency", "reason"), [
    ("41.99", "USD", "received 4200 minor units, not 4199"),
    ("42.00", "EUR", "it is in USD, not EUR"),
])
def test_amount_and_currency_must_match(plugin, hs, account_id, amount, currency, reason) -> None:
    hs_payment_id = paid(hs, ids.customer_id(account_id))
    info = plugin.ok("purchasePayment", **link_call(account_id, hs_payment_id, amount, currency))
    assert info["status"] == "ERROR" and info["gatewayErrorCode"] == "LINK_REFUSED"
    assert reason in info["gatewayError"]


def test_another_customers_payment_is_refused(plugin, hs, account_id) -> None:
    hs_payment_id = paid(hs, ids.customer_id(uuid.uuid4()))
    info = plugin.ok("purchasePayment", **link_call(account_id, hs_payment_id))
    assert info["status"] == "ERROR" and "another customer" in info["gatewayError"]


def test_a_payment_not_succeeded_is_refused(plugin, hs, account_id) -> None:
    hs_payment_id = paid(hs, ids.customer_id(account_id), card=ASYNC)
    info = plugin.ok("purchasePayment", **link_call(account_id, hs_payment_id))
    assert info["status"] == "ERROR" and "not succeeded" in info["gatewayError"]


def test_an_unknown_payment_is_refused(plugin, account_id) -> None:
    info = plugin.ok("purchasePayment", **link_call(account_id, "pay_doesnotexist000000000"))
    assert info["status"] == "ERROR" and "no Hyperswitch payment" in info["gatewayError"]


def test_a_payment_is_never_linked_twice(plugin, hs, account_id) -> None:
    hs_payment_id = paid(hs, ids.customer_id(account_id))
    first = plugin.ok("purchasePayment", **link_call(account_id, hs_payment_id))
    second = plugin.ok("purchasePayment", **link_call(account_id, hs_payment_id))
    assert first["status"] == "PROCESSED"
    assert second["status"] == "ERROR" and second["gatewayErrorCode"] == "ALREADY_LINKED"
    # The same Kill Bill transaction asking again gets its own result back.
    again = link_call(account_id, hs_payment_id)
    again["kbTransactionId"], again["kbPaymentId"] = first["kbTransactionPaymentId"], first["kbPaymentId"]
    assert plugin.ok("purchasePayment", **again)["status"] == "PROCESSED"
