"""Saved payment methods of a customer: list, retrieve, delete, set default."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ._requestor import Call, Requestor
from .common import ResponseModel, UtcDatetime

__all__ = [
    "CustomerPaymentMethod",
    "CustomerPaymentMethodList",
    "DefaultPaymentMethod",
    "PaymentMethod",
    "PaymentMethodDeleted",
    "PaymentMethodsService",
    "SavedCard",
]


class SavedCard(ResponseModel):
    """``CardDetailFromLocker``: masked card data of a saved method."""

    last4_digits: str | None = None
    expiry_month: str | None = None
    expiry_year: str | None = None
    card_holder_name: str | None = None
    card_network: str | None = None
    card_issuer: str | None = None
    card_type: str | None = None
    card_isin: str | None = None
    scheme: str | None = None
    nick_name: str | None = None


class CustomerPaymentMethod(ResponseModel):
    """One saved method. Charge it with ``recurring_details`` type ``payment_method_id``;
    ``payment_token`` is a short-lived SDK token, not for merchant-initiated charges."""

    payment_method_id: str
    customer_id: str
    payment_method: str
    payment_token: str | None = None
    payment_method_type: str | None = None
    payment_method_issuer: str | None = None
    recurring_enabled: bool | None = None
    card: SavedCard | None = None
    metadata: dict[str, Any] | None = None
    created: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None
    default_payment_method_set: bool = False
    requires_cvv: bool | None = None


class CustomerPaymentMethodList(ResponseModel):
    customer_payment_methods: list[CustomerPaymentMethod]
    is_guest_customer: bool | None = None


class PaymentMethod(ResponseModel):
    """``PaymentMethodResponse`` of ``GET /payment_methods/{id}``."""

    payment_method_id: str
    payment_method: str
    merchant_id: str | None = None
    customer_id: str | None = None
    payment_method_type: str | None = None
    card: SavedCard | None = None
    recurring_enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    created: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None


class PaymentMethodDeleted(ResponseModel):
    payment_method_id: str
    deleted: bool


class DefaultPaymentMethod(ResponseModel):
    customer_id: str
    payment_method: str
    default_payment_method_id: str | None = None
    payment_method_type: str | None = None


def _quoted(value: str) -> str:
    return quote(value, safe="")


class PaymentMethodsService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def list_for_customer(self, customer_id: str) -> CustomerPaymentMethodList:
        return self._requestor.request(
            Call(
                "GET",
                f"/customers/{_quoted(customer_id)}/payment_methods",
                parse=CustomerPaymentMethodList.model_validate,
                idempotent=True,
            )
        )

    def retrieve(self, payment_method_id: str) -> PaymentMethod:
        return self._requestor.request(
            Call(
                "GET",
                f"/payment_methods/{_quoted(payment_method_id)}",
                parse=PaymentMethod.model_validate,
                idempotent=True,
            )
        )

    def delete(self, payment_method_id: str) -> PaymentMethodDeleted:
        # Not resent once it may have run: a second delete answers HE_02.
        return self._requestor.request(
            Call(
                "DELETE",
                f"/payment_methods/{_quoted(payment_method_id)}",
                parse=PaymentMethodDeleted.model_validate,
            )
        )

    def set_default(self, customer_id: str, payment_method_id: str) -> DefaultPaymentMethod:
        """Make ``payment_method_id`` the customer's default.

        The route is ``/customers/{customer_id}/payment_methods/{id}/default`` (the router's
        ``app.rs``); the spec's path lacks the ``/customers`` prefix. A secret api-key is accepted:
        ``is_ephemeral_auth`` only switches to ephemeral-key auth for ``epk_`` keys. Not resent once
        it may have run: a second call answers 400 "already default".
        """
        path = (
            f"/customers/{_quoted(customer_id)}/payment_methods/"
            f"{_quoted(payment_method_id)}/default"
        )
        return self._requestor.request(
            Call("POST", path, parse=DefaultPaymentMethod.model_validate)
        )
