"""Payors with a card on file, for runs against the simulators (tests, `bridge demo`).

What a merchant's sign-up page does: a customer-initiated payment with the payor's consent that saves the
card in Hyperswitch for later off-session, merchant-initiated charges (``setup_future_usage=off_session``),
optionally under a multi-use mandate. The saved payment method and mandate are what Kill Bill's payment
method of the bridge's plugin then refers to (``hsPaymentMethodId`` / ``hsMandateId``).
"""

from __future__ import annotations

from hyperswitch_client import HyperswitchClient
from hyperswitch_client.common import CustomerAcceptance
from hyperswitch_client.payments import (
    MandateAmountData,
    MandateData,
    MultiUseMandate,
    PaymentCreateParams,
    PaymentMethodData,
)

APPROVED_CARD = "4242424242424242"
# The sign-up charge that proves the card, in minor units; the mandate allows up to MANDATE_LIMIT.
SIGN_UP_AMOUNT = 100
MANDATE_LIMIT = 10_000_000


class CardNotSaved(Exception):
    """Hyperswitch answered the sign-up payment without a saved payment method."""


def save_card(hs: HyperswitchClient, customer_id: str, number: str = APPROVED_CARD, *, mandate: bool = True,
              currency: str = "USD", holder: str = "Ada") -> tuple[str, str | None]:
    """Save a card for ``customer_id``; returns its ``payment_method_id`` and, with ``mandate``, ``mandate_id``."""
    acceptance = CustomerAcceptance(acceptance_type="offline")
    mandate_data = MandateData(customer_acceptance=acceptance, mandate_type=MultiUseMandate(
        multi_use=MandateAmountData(amount=MANDATE_LIMIT, currency=currency))) if mandate else None
    payment = hs.payments.create(PaymentCreateParams(
        amount=SIGN_UP_AMOUNT, currency=currency, confirm=True, customer_id=customer_id,
        setup_future_usage="off_session", customer_acceptance=acceptance, payment_method="card",
        mandate_data=mandate_data,
        payment_method_data=PaymentMethodData.model_validate({"card": {
            "card_number": number, "card_exp_month": "12", "card_exp_year": "2035", "card_holder_name": holder,
            "card_cvc": "123"}})))
    if not payment.payment_method_id:
        raise CardNotSaved(f"payment {payment.payment_id} is {payment.status} and saved no payment method")
    return payment.payment_method_id, payment.mandate_id
