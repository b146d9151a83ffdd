"""Disputes, which only the connector opens and decides (reference/hyperswitch.md §7).

Control opens one on a captured payment and moves it to won / lost (or any other DisputeStatus); every
status change sends the ``dispute_*`` event of the same name. The API only reads them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import errors, schema
from .model import CONNECTOR, Dispute, Payment, RequestContext, iso, new_id

if TYPE_CHECKING:
    from .state import SimulatorState

DISPUTABLE = ("succeeded", "partially_captured", "partially_captured_and_capturable")
# The connector-side names for each status (Stripe's, as the router passes them through).
CONNECTOR_STATUS = {
    "dispute_opened": "needs_response", "dispute_challenged": "under_review", "dispute_won": "won",
    "dispute_lost": "lost", "dispute_accepted": "lost", "dispute_expired": "lost",
    "dispute_cancelled": "warning_closed",
}
RESPONSE_WINDOW = timedelta(days=7)


def open_dispute(state: SimulatorState, payment: Payment, *, amount: int | None = None,
                 reason: str | None = None, reason_code: str | None = None) -> dict[str, Any]:
    if payment.status not in DISPUTABLE:
        raise ValueError(f"payment {payment.payment_id} is {payment.status}; only {DISPUTABLE} can be disputed")
    disputed = payment.amount_captured if amount is None else amount
    if disputed is None or not 0 < disputed <= (payment.amount_captured or 0):
        raise ValueError("a dispute amount must be positive and at most the captured amount")
    now = state.clock()
    dispute = Dispute(dispute_id=new_id("dp"), payment_id=payment.payment_id, merchant_id=payment.merchant_id,
                      profile_id=payment.profile_id, attempt_id=payment.attempt_id, amount=disputed,
                      currency=payment.currency, created_at=now, updated_at=now,
                      connector_dispute_id=new_id("du", 24), connector_reason=reason or "fraudulent",
                      connector_reason_code=reason_code or "10.4", challenge_required_by=now + RESPONSE_WINDOW)
    state.disputes[dispute.dispute_id] = dispute
    notify(state, dispute)
    return render(dispute)


def change_status(state: SimulatorState, dispute: Dispute, status: str) -> dict[str, Any]:
    if status not in schema.DISPUTE_STATUSES:
        raise ValueError(f"unknown dispute status {status!r}; expected one of {schema.DISPUTE_STATUSES}")
    dispute.dispute_status = status
    dispute.updated_at = state.clock()
    if status in ("dispute_won", "dispute_lost", "dispute_accepted", "dispute_expired", "dispute_cancelled"):
        dispute.challenge_required_by = None
    notify(state, dispute)
    return render(dispute)


def get(state: SimulatorState, merchant_id: str, dispute_id: str) -> Dispute:
    dispute = state.disputes.get(dispute_id)
    if dispute is None or dispute.merchant_id != merchant_id:
        raise errors.dispute_not_found()
    return dispute


def retrieve(state: SimulatorState, ctx: RequestContext, dispute_id: str) -> dict[str, Any]:
    return render(get(state, ctx.merchant_id, dispute_id))


def list_disputes(state: SimulatorState, ctx: RequestContext, query: dict[str, str]) -> list[dict[str, Any]]:
    found = [d for d in state.disputes.values() if d.merchant_id == ctx.merchant_id
             and query.get("dispute_status") in (None, d.dispute_status)
             and query.get("dispute_stage") in (None, d.dispute_stage)]
    found.sort(key=lambda d: d.created_at, reverse=True)
    limit = query.get("limit")
    if limit is not None:
        if not limit.isdigit():
            raise errors.json_deserialize("invalid digit found in string")
        found = found[:int(limit)]
    return [render(d) for d in found]


def notify(state: SimulatorState, dispute: Dispute) -> None:
    profile = state.profile(dispute.merchant_id, dispute.profile_id)
    if profile is not None:
        state.emit(profile, dispute.dispute_id, dispute.dispute_status, "dispute_details", render(dispute))


def render(dispute: Dispute) -> dict[str, Any]:
    response: dict[str, Any] = dict.fromkeys(schema.DISPUTE_RESPONSE_KEYS)
    response.update({
        "dispute_id": dispute.dispute_id, "payment_id": dispute.payment_id, "attempt_id": dispute.attempt_id,
        "amount": str(dispute.amount),  # StringMinorUnit: minor units as a string
        "currency": dispute.currency, "dispute_stage": dispute.dispute_stage,
        "dispute_status": dispute.dispute_status, "connector": CONNECTOR,
        "connector_status": CONNECTOR_STATUS[dispute.dispute_status],
        "connector_dispute_id": dispute.connector_dispute_id, "connector_reason": dispute.connector_reason,
        "connector_reason_code": dispute.connector_reason_code,
        "challenge_required_by": iso(dispute.challenge_required_by),
        "connector_created_at": iso(dispute.created_at), "connector_updated_at": iso(dispute.updated_at),
        "created_at": iso(dispute.created_at), "profile_id": dispute.profile_id, "is_already_refunded": False,
    })
    return response
