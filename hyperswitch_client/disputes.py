"""Disputes: ``GET /disputes/{dispute_id}``, to re-read a dispute a webhook announced."""

from __future__ import annotations

from urllib.parse import quote

from ._requestor import Call, Requestor
from .common import OpenDisputeStage, OpenDisputeStatus, ResponseModel, UtcDatetime

__all__ = ["Dispute", "DisputesService"]


class Dispute(ResponseModel):
    """``DisputeResponse``. ``amount`` is a *string* of minor units (``StringMinorUnit``)."""

    dispute_id: str
    payment_id: str
    amount: str
    currency: str
    dispute_stage: OpenDisputeStage
    dispute_status: OpenDisputeStatus
    attempt_id: str | None = None
    connector: str | None = None
    connector_status: str | None = None
    connector_dispute_id: str | None = None
    connector_reason: str | None = None
    connector_reason_code: str | None = None
    challenge_required_by: UtcDatetime | None = None
    created_at: UtcDatetime | None = None
    profile_id: str | None = None
    is_already_refunded: bool | None = None

    @property
    def amount_minor(self) -> int:
        return int(self.amount)


class DisputesService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def retrieve(self, dispute_id: str) -> Dispute:
        return self._requestor.request(
            Call(
                "GET",
                f"/disputes/{quote(dispute_id, safe='')}",
                parse=Dispute.model_validate,
                idempotent=True,
            )
        )
