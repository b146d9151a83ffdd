"""Payouts: ``/payouts`` (create with confirm and auto-fulfill, confirm, fulfill, retrieve, cancel, list).

A payout moves money from the merchant to a customer: a saved payment method of the customer
(``payout_method_id``), a short-lived ``payout_token`` or raw card/bank data. ``confirm=true`` sends it
to the connector; ``auto_fulfill=true`` also fulfills it in the same call, otherwise it waits in
``requires_fulfillment`` for ``POST /payouts/{id}/fulfill``.

Like payments, the merchant-supplied ``payout_id`` is the only idempotency key: a create that carries
one is retried on failures that may have been processed, and ``HE_01`` then means "read it back". The
spec's generated ``PayoutsCreateRequest`` leaves ``payout_id`` out, but the router's
``PayoutCreateRequest`` reads it (``core/payouts/validator.rs`` ``validate_create_request``: a known id
is ``DuplicatePayout``, HE_01).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from pydantic import Field, StrictInt, StringConstraints, model_validator

from ._requestor import Call, Requestor
from .common import (
    Address,
    BrowserInformation,
    CountryCode,
    CurrencyCode,
    MerchantId,
    OpenPayoutStatus,
    RequestDatetime,
    RequestModel,
    ResponseModel,
    Secret,
    Text255,
    UtcDatetime,
)
from .enums import PayoutEntityType, PayoutSendPriority, PayoutType
from .payments import MAX_AMOUNT, CustomerDetails

__all__ = [
    "AchBankTransfer",
    "BacsBankTransfer",
    "Payout",
    "PayoutAttempt",
    "PayoutCard",
    "PayoutConfirmParams",
    "PayoutCreateParams",
    "PayoutList",
    "PayoutListParams",
    "PayoutMethodData",
    "PayoutsService",
    "SepaBankTransfer",
]

MinorAmount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]


# ---------------------------------------------------------------- request models


class PayoutCard(RequestModel):
    """``CardPayout``: the card to pay out to. The number is hidden in ``repr`` and masked in audit."""

    card_number: Secret
    expiry_month: str
    expiry_year: str
    card_holder_name: str
    card_network: str | None = None


class AchBankTransfer(RequestModel):
    bank_account_number: Secret
    bank_routing_number: Secret
    bank_name: str | None = None
    bank_country_code: CountryCode | None = None
    bank_city: str | None = None
    account_holder_name: str | None = None


class BacsBankTransfer(RequestModel):
    bank_account_number: Secret
    bank_sort_code: Secret
    bank_name: str | None = None
    bank_country_code: CountryCode | None = None
    bank_city: str | None = None
    account_holder_name: str | None = None


class SepaBankTransfer(RequestModel):
    iban: Secret
    bic: str | None = None
    bank_name: str | None = None
    bank_country_code: CountryCode | None = None
    bank_city: str | None = None
    account_holder_name: str | None = None


class PayoutMethodData(RequestModel):
    """``PayoutMethodData``: exactly one of ``card`` or ``bank`` (the router's enum is externally tagged)."""

    card: PayoutCard | None = None
    bank: AchBankTransfer | BacsBankTransfer | SepaBankTransfer | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> PayoutMethodData:
        if (self.card is None) == (self.bank is None):
            raise ValueError("payout_method_data takes exactly one of card or bank")
        return self


def _has_customer(customer_id: str | None, customer: CustomerDetails | None) -> bool:
    return bool(customer_id or (customer and customer.id))


class PayoutCreateParams(RequestModel):
    """``POST /payouts/create``. ``amount`` is in minor units (see ``money.to_minor_units``).

    Give ``payout_id`` (derived from the Kill Bill transaction) so that the create can be retried
    safely. To pay out to a saved payment method: ``customer_id``, ``payout_method_id`` and
    ``confirm=True`` (the router refuses a ``payout_method_id`` without confirm, IR_06).
    """

    amount: MinorAmount
    currency: CurrencyCode
    payout_id: MerchantId | None = None
    confirm: bool | None = None
    auto_fulfill: bool | None = None
    payout_type: PayoutType | None = None
    payout_method_id: str | None = None
    payout_token: str | None = None
    payout_method_data: PayoutMethodData | None = None
    customer_id: MerchantId | None = None
    customer: CustomerDetails | None = None
    billing: Address | None = None
    return_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    description: str | None = None
    entity_type: PayoutEntityType | None = None
    recurring: bool | None = None
    metadata: dict[str, Any] | None = None
    merchant_order_reference_id: Text255 | None = None
    priority: PayoutSendPriority | None = None
    profile_id: str | None = None
    business_country: CountryCode | None = None
    business_label: str | None = None
    connector: list[str] | None = None
    session_expiry: Annotated[StrictInt, Field(ge=0)] | None = None
    browser_info: BrowserInformation | None = None

    @model_validator(mode="after")
    def _router_preconditions(self) -> PayoutCreateParams:
        # The router's own checks (core/payouts/validator.rs), so no call is spent on a known answer.
        if self.payout_method_id and not self.confirm:
            raise ValueError("payout_method_id needs confirm=true (IR_06)")
        if self.payout_method_id and self.payout_token:
            raise ValueError("give only one of payout_method_id or payout_token (IR_06)")
        if (self.payout_method_id or self.payout_token) and not _has_customer(self.customer_id, self.customer):
            raise ValueError("payout_method_id and payout_token need the customer (IR_04)")
        if self.customer_id and self.customer and self.customer.id and self.customer.id != self.customer_id:
            raise ValueError("customer_id and customer.id differ")
        return self


class PayoutConfirmParams(RequestModel):
    """``POST /payouts/{id}/confirm``: send a created payout to the connector.

    ``client_secret`` is the one the create returned (the spec requires it; the router checks it
    only for publishable-key callers). Payout method fields complete a payout created without one.
    """

    client_secret: str
    auto_fulfill: bool | None = None
    payout_type: PayoutType | None = None
    payout_method_id: str | None = None
    payout_token: str | None = None
    payout_method_data: PayoutMethodData | None = None
    customer_id: MerchantId | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None


class PayoutListParams(RequestModel):
    """Query of ``GET /payouts/list`` (``PayoutListConstraints``); newest first, ``limit`` 1–100."""

    customer_id: MerchantId | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    starting_after: str | None = None
    ending_before: str | None = None
    created: RequestDatetime | None = None

    def to_query(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.to_body().items()}


# ---------------------------------------------------------------- response models


class PayoutAttempt(ResponseModel):
    attempt_id: str
    status: OpenPayoutStatus
    amount: int
    currency: str | None = None
    connector: str | None = None
    connector_transaction_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    cancellation_reason: str | None = None


class Payout(ResponseModel):
    """``PayoutCreateResponse``: what create, confirm, fulfill, retrieve and cancel return."""

    payout_id: str
    status: OpenPayoutStatus
    amount: int
    currency: str
    merchant_id: str | None = None
    profile_id: str | None = None
    customer_id: str | None = None
    payout_type: str | None = None
    payout_method_id: str | None = None
    auto_fulfill: bool | None = None
    recurring: bool | None = None
    entity_type: str | None = None
    connector: str | None = None
    connector_transaction_id: str | None = None
    merchant_connector_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    client_secret: str | None = None
    return_url: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    merchant_order_reference_id: str | None = None
    priority: str | None = None
    created: UtcDatetime | None = None
    attempts: list[PayoutAttempt] | None = None


class PayoutList(ResponseModel):
    size: int
    data: list[Payout]
    total_count: int | None = None


# ---------------------------------------------------------------- service


def _payout_path(payout_id: str, suffix: str = "") -> str:
    return f"/payouts/{quote(payout_id, safe='')}{suffix}"


class PayoutsService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def create(self, params: PayoutCreateParams) -> Payout:
        """Create (with ``confirm``/``auto_fulfill``: also send and fulfill) a payout.

        With a ``payout_id`` the create is retried on failures that may have been processed; if such
        a retry is answered HE_01 the existing payout is read back and returned. Without one it is
        sent again only when nothing was processed.
        """
        recover = None
        if params.payout_id is not None:
            recover = self._retrieve_call(params.payout_id, force_sync=False)
        return self._requestor.request(
            Call(
                "POST",
                "/payouts/create",
                parse=Payout.model_validate,
                body=params.to_body(),
                idempotent=params.payout_id is not None,
                recover=recover,
            )
        )

    def retrieve(self, payout_id: str, *, force_sync: bool = False) -> Payout:
        """Read a payout; ``force_sync`` asks the connector first."""
        return self._requestor.request(self._retrieve_call(payout_id, force_sync=force_sync))

    def confirm(self, payout_id: str, params: PayoutConfirmParams) -> Payout:
        """Send a created payout to the connector. Never resent once it may have reached Hyperswitch."""
        return self._requestor.request(
            Call("POST", _payout_path(payout_id, "/confirm"), parse=Payout.model_validate,
                 body=params.to_body())
        )  # fmt: skip

    def fulfill(self, payout_id: str) -> Payout:
        """Move the money of a payout in ``requires_fulfillment``. Never resent once it may have
        reached Hyperswitch."""
        return self._requestor.request(self._action_call(payout_id, "/fulfill"))

    def cancel(self, payout_id: str) -> Payout:
        """Cancel a payout that has not reached a final status."""
        return self._requestor.request(self._action_call(payout_id, "/cancel"))

    def list(self, params: PayoutListParams | None = None) -> PayoutList:
        query = (params or PayoutListParams()).to_query()
        return self._requestor.request(
            Call("GET", "/payouts/list", parse=PayoutList.model_validate, query=query,
                 idempotent=True)
        )  # fmt: skip

    def _action_call(self, payout_id: str, suffix: str) -> Call[Payout]:
        # The router takes the id from the path; the spec's body (PayoutActionRequest) repeats it.
        return Call("POST", _payout_path(payout_id, suffix), parse=Payout.model_validate,
                    body={"payout_id": payout_id})  # fmt: skip

    def _retrieve_call(self, payout_id: str, *, force_sync: bool) -> Call[Payout]:
        return Call(
            "GET",
            _payout_path(payout_id),
            parse=Payout.model_validate,
            query={"force_sync": "true" if force_sync else "false"},
            idempotent=True,
        )
