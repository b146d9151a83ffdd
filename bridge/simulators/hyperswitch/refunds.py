"""Refunds: create, retrieve, update, list, and settlement of pending ones (reference/hyperswitch.md §3).

The outcome of a new refund is ``succeeded`` unless control set another for the payment (or for all of
the merchant's payments): ``pending`` (settled later through control) or ``failed``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import errors, payments, schema, webhooks
from .model import CONNECTOR, Refund, RequestContext, iso, new_id
from .validation import (
    check_fields,
    optional_int,
    optional_list,
    optional_merchant_reference,
    optional_object,
    optional_str,
)

if TYPE_CHECKING:
    from .state import SimulatorState

MAX_REFUND_ATTEMPTS = 10  # refund.max_attempts in the router's development config
REFUNDABLE = ("succeeded", "partially_captured")
OUTCOMES = ("succeeded", "pending", "failed")
FAILURE = ("refund_failed", "The refund was declined by the connector")
# The list filter and webhook settings use the storage names (reference §3).
STATUS_FILTER_NAMES = {"success": "succeeded", "failure": "failed", "transaction_failure": "failed",
                       "manual_review": "review", "pending": "pending"}


def create(state: SimulatorState, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    payment_id = optional_str(body, "payment_id")
    if payment_id is None:
        raise errors.json_deserialize("missing field `payment_id`")
    refund_id = optional_merchant_reference(body, "refund_id") or new_id("ref")
    amount = optional_int(body, "amount")
    payment = payments.get(state, ctx.merchant_id, payment_id)
    if payment.status not in REFUNDABLE:
        raise errors.unexpected_state("refund", "status", payment.status, ", ".join(REFUNDABLE))
    if (ctx.merchant_id, refund_id) in state.refunds:
        raise errors.duplicate_refund()
    amount = payment.amount_captured if amount is None else amount
    _check_amount(state, payment, amount)
    refund = _new_refund(state, payment, refund_id, amount, body)
    state.refunds[(ctx.merchant_id, refund_id)] = refund
    _apply_outcome(state, refund, state.refund_outcome(ctx.merchant_id, payment_id))
    return render(refund)


def _check_amount(state: SimulatorState, payment: payments.Payment, amount: int | None) -> None:
    if amount is None or amount <= 0:
        raise errors.invalid_data_format("amount", "positive integer")
    earlier = of_payment(state, payment.merchant_id, payment.payment_id)
    if len(earlier) >= MAX_REFUND_ATTEMPTS:
        raise errors.maximum_refund_count()
    refunded = sum(r.amount for r in earlier if r.status != "failed")
    if refunded + amount > (payment.amount_captured or 0):
        raise errors.refund_exceeds_captured()


def _new_refund(state: SimulatorState, payment: payments.Payment, refund_id: str, amount: int,
                body: dict[str, Any]) -> Refund:
    now = state.clock()
    return Refund(refund_id=refund_id, payment_id=payment.payment_id, merchant_id=payment.merchant_id,
                  profile_id=payment.profile_id, amount=amount, currency=payment.currency, status="pending",
                  created_at=now, updated_at=now, connector_refund_id=new_id("re", 24),
                  reason=optional_str(body, "reason"), metadata=optional_object(body, "metadata"))


def _apply_outcome(state: SimulatorState, refund: Refund, outcome: str, *, notify_merchant: bool = True) -> None:
    refund.status = outcome
    refund.updated_at = state.clock()
    if outcome == "failed":
        refund.error_code, refund.error_message = FAILURE
        refund.unified_code, refund.unified_message = payments.UNIFIED_CODE, payments.UNIFIED_MESSAGE
    if notify_merchant:
        notify(state, refund)


def get(state: SimulatorState, merchant_id: str, refund_id: str) -> Refund:
    refund = state.refunds.get((merchant_id, refund_id))
    if refund is None:
        raise errors.refund_not_found()
    return refund


def retrieve(state: SimulatorState, ctx: RequestContext, refund_id: str) -> dict[str, Any]:
    return render(get(state, ctx.merchant_id, refund_id))


def update(state: SimulatorState, ctx: RequestContext, refund_id: str, body: dict[str, Any]) -> dict[str, Any]:
    refund = get(state, ctx.merchant_id, refund_id)
    refund.reason = optional_str(body, "reason") or refund.reason
    refund.metadata = optional_object(body, "metadata") or refund.metadata
    refund.updated_at = state.clock()
    return render(refund)


def of_payment(state: SimulatorState, merchant_id: str, payment_id: str) -> list[Refund]:
    return [r for (mid, _), r in state.refunds.items() if mid == merchant_id and r.payment_id == payment_id]


def list_refunds(state: SimulatorState, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    found = [r for (mid, _), r in state.refunds.items() if mid == ctx.merchant_id and _matches(r, body)]
    found.sort(key=lambda r: r.created_at, reverse=True)
    offset, limit = optional_int(body, "offset") or 0, optional_int(body, "limit")
    page = found[offset:] if limit is None else found[offset:offset + limit]
    return {"count": len(page), "total_count": len(found), "data": [render(r) for r in page]}


def _matches(refund: Refund, body: dict[str, Any]) -> bool:
    for key in ("payment_id", "refund_id", "profile_id"):
        wanted = optional_str(body, key)
        if wanted is not None and getattr(refund, key) != wanted:
            return False
    statuses = optional_list(body, "refund_status")
    if statuses and refund.status not in {STATUS_FILTER_NAMES.get(s, s) for s in statuses}:
        return False
    currencies = optional_list(body, "currency")
    if currencies and refund.currency not in currencies:
        return False
    return _in_amount_range(refund, optional_object(body, "amount_filter")) and _in_time_range(refund, body)


def _in_amount_range(refund: Refund, amount_filter: dict[str, Any] | None) -> bool:
    if amount_filter is None:
        return True
    check_fields(amount_filter, ("start_amount", "end_amount"))
    low, high = optional_int(amount_filter, "start_amount"), optional_int(amount_filter, "end_amount")
    return (low is None or refund.amount >= low) and (high is None or refund.amount <= high)


def _in_time_range(refund: Refund, body: dict[str, Any]) -> bool:
    start, end = optional_str(body, "start_time"), optional_str(body, "end_time")
    return ((start is None or refund.created_at >= _time(start))
            and (end is None or refund.created_at <= _time(end)))


def _time(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.json_deserialize(f"invalid datetime: {raw}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def settle(state: SimulatorState, refund: Refund, status: str, *, notify_merchant: bool = True) -> dict[str, Any]:
    """The connector's final answer for a pending refund (control)."""
    if refund.status != "pending":
        raise ValueError(f"refund {refund.refund_id} is {refund.status}; only a pending refund can be settled")
    if status not in ("succeeded", "failed"):
        raise ValueError("status must be 'succeeded' or 'failed'")
    _apply_outcome(state, refund, status, notify_merchant=notify_merchant)
    return render(refund)


def notify(state: SimulatorState, refund: Refund) -> None:
    # The profile's list takes refund storage names (success, failure, …) as well as API names.
    state.emit_for_status(merchant_id=refund.merchant_id, profile_id=refund.profile_id, object_id=refund.refund_id,
                          status=refund.status, events=webhooks.REFUND_EVENTS,
                          statuses_enabled="refund_statuses_enabled", content_type="refund_details",
                          render=lambda: render(refund), names=webhooks.REFUND_STORAGE_NAMES.get(refund.status, ()))


def render(refund: Refund) -> dict[str, Any]:
    response: dict[str, Any] = dict.fromkeys(schema.REFUND_RESPONSE_KEYS)
    response.update({
        "refund_id": refund.refund_id, "payment_id": refund.payment_id, "amount": refund.amount,
        "currency": refund.currency, "status": refund.status, "reason": refund.reason,
        "metadata": refund.metadata, "error_message": refund.error_message, "error_code": refund.error_code,
        "unified_code": refund.unified_code, "unified_message": refund.unified_message,
        "created_at": iso(refund.created_at), "updated_at": iso(refund.updated_at), "connector": CONNECTOR,
        "profile_id": refund.profile_id, "connector_refund_id": refund.connector_refund_id,
    })
    return response
