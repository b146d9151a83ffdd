"""Kill Bill's payment vocabulary, and the one pure mapping from Hyperswitch outcomes to it.

The mapping is used live (the plugin's own calls) and on every refresh (getPaymentInfo, webhooks,
the sweeper), so a stored Hyperswitch status always means the same Kill Bill status. It never
guesses: a status it does not know is UNDEFINED, which Kill Bill's janitor will ask about again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hyperswitch_client.enums import IntentStatus
from killbill_client.models.base import TransactionType  # Kill Bill's own vocabulary, one definition


class PluginStatus(StrEnum):
    """``PaymentPluginStatus``: what the plugin tells Kill Bill (reference/killbill.md §A3)."""

    PROCESSED = "PROCESSED"  # known success → SUCCESS
    PENDING = "PENDING"  # Hyperswitch or the customer still working → PENDING, janitor follows up
    ERROR = "ERROR"  # known negative outcome → PAYMENT_FAILURE, retried on the retry.days schedule
    CANCELED = "CANCELED"  # certainly never reached Hyperswitch → PLUGIN_FAILURE, fast retries
    UNDEFINED = "UNDEFINED"  # outcome unknown → UNKNOWN, janitor asks getPaymentInfo again


TERMINAL_STATUSES = frozenset({PluginStatus.PROCESSED, PluginStatus.ERROR, PluginStatus.CANCELED})


def is_terminal(status: PluginStatus) -> bool:
    return status in TERMINAL_STATUSES


# Hyperswitch still working, or waiting for the customer or a reviewer.
_IN_PROGRESS = frozenset({
    IntentStatus.PROCESSING, IntentStatus.REQUIRES_CUSTOMER_ACTION, IntentStatus.REQUIRES_MERCHANT_ACTION,
    IntentStatus.REVIEW, IntentStatus.PARTIALLY_CAPTURED_AND_PROCESSING, IntentStatus.REQUIRES_CONFIRMATION,
})
# Final and negative for the attempt Kill Bill asked for.
_FAILED = frozenset({
    IntentStatus.FAILED, IntentStatus.CANCELLED, IntentStatus.CANCELLED_POST_CAPTURE, IntentStatus.EXPIRED,
    # After a confirmed off-session create, this means the attempt failed and awaits another method.
    IntentStatus.REQUIRES_PAYMENT_METHOD,
})
_AUTHORIZED = frozenset({IntentStatus.REQUIRES_CAPTURE, IntentStatus.PARTIALLY_AUTHORIZED_AND_REQUIRES_CAPTURE})
_CAPTURED = frozenset({
    IntentStatus.SUCCEEDED, IntentStatus.PARTIALLY_CAPTURED, IntentStatus.PARTIALLY_CAPTURED_AND_CAPTURABLE,
})


def _intent(status: str) -> IntentStatus | None:
    try:
        return IntentStatus(status)
    except ValueError:
        return None


def payment_status(transaction_type: TransactionType, hs_status: str) -> PluginStatus:
    """The Kill Bill status of an authorize, purchase or capture, from the payment's IntentStatus."""
    intent = _intent(hs_status)
    if intent is None or intent is IntentStatus.CONFLICTED:
        return PluginStatus.UNDEFINED
    if intent in _IN_PROGRESS:
        return PluginStatus.PENDING
    if intent in _FAILED:
        return PluginStatus.ERROR
    if transaction_type is TransactionType.AUTHORIZE:
        # An authorization is done once it can be captured (or was captured by the connector).
        return PluginStatus.PROCESSED if intent in _AUTHORIZED | _CAPTURED else PluginStatus.UNDEFINED
    if intent in _CAPTURED:
        return PluginStatus.PROCESSED
    # A purchase or capture that is merely authorized has not moved the money yet.
    return PluginStatus.PENDING if intent in _AUTHORIZED else PluginStatus.UNDEFINED


def void_status(hs_status: str) -> PluginStatus:
    intent = _intent(hs_status)
    if intent is IntentStatus.CANCELLED:
        return PluginStatus.PROCESSED
    if intent in (IntentStatus.PROCESSING,):
        return PluginStatus.PENDING
    return PluginStatus.UNDEFINED if intent is None else PluginStatus.ERROR


def refund_status(hs_status: str) -> PluginStatus:
    """Refunds: succeeded → PROCESSED, pending/review → PENDING, failed → ERROR (DESIGN rule 3)."""
    return {"succeeded": PluginStatus.PROCESSED, "pending": PluginStatus.PENDING,
            "review": PluginStatus.PENDING, "failed": PluginStatus.ERROR}.get(hs_status, PluginStatus.UNDEFINED)


@dataclass(frozen=True)
class Outcome:
    """A Kill Bill status with the gateway's own words for it."""

    status: PluginStatus
    hs_status: str | None = None
    gateway_error_code: str | None = None
    gateway_error: str | None = None
