"""Customers: ``/customers`` (create, retrieve, update, delete)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ._requestor import Call, Requestor
from .common import AddressDetails, MerchantId, RequestModel, ResponseModel, Text255, UtcDatetime

__all__ = [
    "Customer",
    "CustomerCreateParams",
    "CustomerDeleted",
    "CustomerUpdateParams",
    "CustomersService",
]


class CustomerUpdateParams(RequestModel):
    """``POST /customers/{id}``: only the fields given change."""

    name: Text255 | None = None
    email: Text255 | None = None
    phone: Text255 | None = None
    phone_country_code: Text255 | None = None
    description: Text255 | None = None
    address: AddressDetails | None = None
    metadata: dict[str, Any] | None = None


class CustomerCreateParams(CustomerUpdateParams):
    """``POST /customers``. Give ``customer_id`` (e.g. from the Kill Bill account) so the create can
    be retried; a retry answered "already exists" (IR_12) reads the customer back."""

    customer_id: MerchantId | None = None


class Customer(ResponseModel):
    customer_id: str
    created_at: UtcDatetime | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    default_payment_method_id: str | None = None


class CustomerDeleted(ResponseModel):
    """Delete redacts the customer and deletes its saved payment methods."""

    customer_id: str
    customer_deleted: bool
    address_deleted: bool | None = None
    payment_methods_deleted: bool | None = None


def _customer_path(customer_id: str) -> str:
    return f"/customers/{quote(customer_id, safe='')}"


class CustomersService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def create(self, params: CustomerCreateParams) -> Customer:
        recover = None
        if params.customer_id is not None:
            recover = self._retrieve_call(params.customer_id)
        return self._requestor.request(
            Call(
                "POST",
                "/customers",
                parse=Customer.model_validate,
                body=params.to_body(),
                idempotent=params.customer_id is not None,
                recover=recover,
            )
        )

    def retrieve(self, customer_id: str) -> Customer:
        return self._requestor.request(self._retrieve_call(customer_id))

    def update(self, customer_id: str, params: CustomerUpdateParams) -> Customer:
        # Sets the given fields to the given values: sending it twice leaves the same state.
        return self._requestor.request(
            Call(
                "POST",
                _customer_path(customer_id),
                parse=Customer.model_validate,
                body=params.to_body(),
                idempotent=True,
            )
        )

    def delete(self, customer_id: str) -> CustomerDeleted:
        # Not resent once it may have run: a second delete answers IR_11 (already redacted).
        return self._requestor.request(
            Call("DELETE", _customer_path(customer_id), parse=CustomerDeleted.model_validate)
        )

    def _retrieve_call(self, customer_id: str) -> Call[Customer]:
        return Call(
            "GET", _customer_path(customer_id), parse=Customer.model_validate, idempotent=True
        )
