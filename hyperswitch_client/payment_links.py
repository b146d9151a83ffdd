"""Payment links: ``GET /payment_link/{payment_link_id}``."""

from __future__ import annotations

from urllib.parse import quote

from ._requestor import Call, Requestor
from .common import OpenPaymentLinkStatus, ResponseModel, UtcDatetime

__all__ = ["PaymentLinkDetails", "PaymentLinksService"]


class PaymentLinkDetails(ResponseModel):
    """``RetrievePaymentLinkResponse``. ``status`` only says whether the link has expired; whether
    it was paid is the payment's ``IntentStatus``."""

    payment_link_id: str
    merchant_id: str
    link_to_pay: str
    amount: int
    status: OpenPaymentLinkStatus
    created_at: UtcDatetime | None = None
    expiry: UtcDatetime | None = None
    currency: str | None = None
    description: str | None = None
    secure_link: str | None = None


class PaymentLinksService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def retrieve(self, payment_link_id: str) -> PaymentLinkDetails:
        return self._requestor.request(
            Call(
                "GET",
                f"/payment_link/{quote(payment_link_id, safe='')}",
                parse=PaymentLinkDetails.model_validate,
                idempotent=True,
            )
        )
