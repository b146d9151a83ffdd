"""Refunds: ``/refunds`` (create, retrieve, list)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from pydantic import Field, StrictInt, StringConstraints

from ._requestor import Call, Requestor
from .common import (
    MerchantId,
    OpenRefundStatus,
    RequestDatetime,
    RequestModel,
    ResponseModel,
    Text255,
    UtcDatetime,
)
from .enums import RefundType, StoredRefundStatus

__all__ = ["Refund", "RefundCreateParams", "RefundList", "RefundListParams", "RefundsService"]

# The router only checks the length of a refund_id (core/utils.rs get_or_generate_id).
RefundId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RefundCreateParams(RequestModel):
    """``POST /refunds``. ``amount`` in minor units; without it the whole captured amount.

    Give ``refund_id`` (derived from the Kill Bill transaction) so that the create can be retried
    safely; without one a refund is never resent once it may have reached Hyperswitch.
    """

    payment_id: MerchantId
    refund_id: RefundId | None = None
    amount: Annotated[StrictInt, Field(gt=0)] | None = None
    reason: Text255 | None = None
    refund_type: RefundType | None = None
    metadata: dict[str, Any] | None = None


class RefundListParams(RequestModel):
    """Body of ``POST /refunds/list``.

    ``start_time``/``end_time`` form the spec's ``TimeRange``; the spec marks ``start_time`` required
    while the router accepts its absence (a flattened ``Option<TimeRange>``).
    """

    payment_id: str | None = None
    refund_id: str | None = None
    profile_id: str | None = None
    limit: Annotated[StrictInt, Field(ge=1)] | None = None
    offset: Annotated[StrictInt, Field(ge=0)] | None = None
    # Storage names (success, failure, …), like the profile's refund_statuses_enabled.
    refund_status: list[StoredRefundStatus] | None = None
    start_time: RequestDatetime | None = None
    end_time: RequestDatetime | None = None


class Refund(ResponseModel):
    """``RefundResponse``."""

    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: OpenRefundStatus
    reason: str | None = None
    metadata: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    connector: str | None = None
    connector_refund_id: str | None = None
    profile_id: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class RefundList(ResponseModel):
    data: list[Refund]
    count: int | None = None
    total_count: int | None = None


def _refund_path(refund_id: str) -> str:
    return f"/refunds/{quote(refund_id, safe='')}"


class RefundsService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def create(self, params: RefundCreateParams) -> Refund:
        """Refund a succeeded payment. With a ``refund_id``, a retry answered HE_01 reads it back."""
        recover = None
        if params.refund_id is not None:
            recover = self._retrieve_call(params.refund_id, force_sync=False)
        return self._requestor.request(
            Call(
                "POST",
                "/refunds",
                parse=Refund.model_validate,
                body=params.to_body(),
                idempotent=params.refund_id is not None,
                recover=recover,
            )
        )

    def retrieve(self, refund_id: str, *, force_sync: bool = False) -> Refund:
        return self._requestor.request(self._retrieve_call(refund_id, force_sync=force_sync))

    def list(self, params: RefundListParams | None = None) -> RefundList:
        # A read sent as POST: safe to resend.
        return self._requestor.request(
            Call(
                "POST",
                "/refunds/list",
                parse=RefundList.model_validate,
                body=(params or RefundListParams()).to_body(),
                idempotent=True,
            )
        )

    def _retrieve_call(self, refund_id: str, *, force_sync: bool) -> Call[Refund]:
        return Call(
            "GET",
            _refund_path(refund_id),
            parse=Refund.model_validate,
            query={"force_sync": "true" if force_sync else "false"},
            idempotent=True,
        )
