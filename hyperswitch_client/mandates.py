"""Mandates: retrieve, revoke, list a customer's."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from ._requestor import Call, Requestor
from .common import OpenMandateStatus, ResponseModel, UtcDatetime

__all__ = ["Mandate", "MandateCard", "MandateRevoked", "MandatesService"]


class MandateCard(ResponseModel):
    last4_digits: str | None = None
    card_exp_month: str | None = None
    card_exp_year: str | None = None
    card_holder_name: str | None = None
    card_network: str | None = None
    card_issuer: str | None = None
    card_type: str | None = None


class MandateAcceptance(ResponseModel):
    acceptance_type: str
    accepted_at: UtcDatetime | None = None
    online: dict[str, Any] | None = None


class Mandate(ResponseModel):
    mandate_id: str
    status: OpenMandateStatus
    payment_method_id: str
    payment_method: str
    payment_method_type: str | None = None
    card: MandateCard | None = None
    customer_acceptance: MandateAcceptance | None = None


class MandateRevoked(ResponseModel):
    mandate_id: str
    status: OpenMandateStatus
    error_code: str | None = None
    error_message: str | None = None


_MANDATE_LIST = TypeAdapter(list[Mandate])


class MandatesService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def retrieve(self, mandate_id: str) -> Mandate:
        return self._requestor.request(
            Call(
                "GET",
                f"/mandates/{quote(mandate_id, safe='')}",
                parse=Mandate.model_validate,
                idempotent=True,
            )
        )

    def revoke(self, mandate_id: str) -> MandateRevoked:
        """Revoke at the connector. Not resent once it may have run: a second revoke answers HE_03."""
        return self._requestor.request(
            Call(
                "POST",
                f"/mandates/revoke/{quote(mandate_id, safe='')}",
                parse=MandateRevoked.model_validate,
            )
        )

    def list_for_customer(self, customer_id: str) -> list[Mandate]:
        return self._requestor.request(
            Call(
                "GET",
                f"/customers/{quote(customer_id, safe='')}/mandates",
                parse=_MANDATE_LIST.validate_python,
                idempotent=True,
            )
        )
