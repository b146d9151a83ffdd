"""Hyperswitch's vocabulary: the enumerations the bridge reads or sends.

Values are Hyperswitch's wire values (``crates/common_enums/src/enums.rs``), copied from the v1 OpenAPI
spec. Response fields that carry a status are *open*: a value Hyperswitch adds later parses as a plain
``str`` instead of failing the whole response, so callers must treat anything that is not a member as
"unknown" (never guess an outcome from it).
"""

from __future__ import annotations

from enum import StrEnum


class IntentStatus(StrEnum):
    """``payment.status``: the state of the payment intent."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CANCELLED_POST_CAPTURE = "cancelled_post_capture"
    PROCESSING = "processing"
    REQUIRES_CUSTOMER_ACTION = "requires_customer_action"
    REQUIRES_MERCHANT_ACTION = "requires_merchant_action"
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_CAPTURE = "requires_capture"
    PARTIALLY_CAPTURED = "partially_captured"
    PARTIALLY_CAPTURED_AND_CAPTURABLE = "partially_captured_and_capturable"
    PARTIALLY_AUTHORIZED_AND_REQUIRES_CAPTURE = "partially_authorized_and_requires_capture"
    PARTIALLY_CAPTURED_AND_PROCESSING = "partially_captured_and_processing"
    CONFLICTED = "conflicted"
    EXPIRED = "expired"
    REVIEW = "review"


# ``IntentStatus::is_in_terminal_state`` in Hyperswitch.
TERMINAL_INTENT_STATUSES: frozenset[IntentStatus] = frozenset(
    {
        IntentStatus.SUCCEEDED,
        IntentStatus.FAILED,
        IntentStatus.CANCELLED,
        IntentStatus.CANCELLED_POST_CAPTURE,
        IntentStatus.PARTIALLY_CAPTURED,
        IntentStatus.EXPIRED,
    }
)


class AttemptStatus(StrEnum):
    """``payment.attempts[].status`` (only with ``expand_attempts=true``)."""

    STARTED = "started"
    AUTHENTICATION_FAILED = "authentication_failed"
    ROUTER_DECLINED = "router_declined"
    AUTHENTICATION_PENDING = "authentication_pending"
    AUTHENTICATION_SUCCESSFUL = "authentication_successful"
    AUTHORIZED = "authorized"
    AUTHORIZATION_FAILED = "authorization_failed"
    CHARGED = "charged"
    AUTHORIZING = "authorizing"
    COD_INITIATED = "cod_initiated"
    VOIDED = "voided"
    VOIDED_POST_CHARGE = "voided_post_charge"
    VOID_INITIATED = "void_initiated"
    CAPTURE_INITIATED = "capture_initiated"
    CAPTURE_FAILED = "capture_failed"
    VOID_FAILED = "void_failed"
    AUTO_REFUNDED = "auto_refunded"
    PARTIAL_CHARGED = "partial_charged"
    PARTIALLY_AUTHORIZED = "partially_authorized"
    PARTIAL_CHARGED_AND_CHARGEABLE = "partial_charged_and_chargeable"
    UNRESOLVED = "unresolved"
    PENDING = "pending"
    FAILURE = "failure"
    PAYMENT_METHOD_AWAITED = "payment_method_awaited"
    CONFIRMATION_AWAITED = "confirmation_awaited"
    DEVICE_DATA_COLLECTION_PENDING = "device_data_collection_pending"
    INTEGRITY_FAILURE = "integrity_failure"
    EXPIRED = "expired"
    CAPTURE_REVIEW = "capture_review"


class RefundStatus(StrEnum):
    """``refund.status`` as the API returns it (storage names differ, see ``StoredRefundStatus``)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    REVIEW = "review"


TERMINAL_REFUND_STATUSES: frozenset[RefundStatus] = frozenset(
    {RefundStatus.SUCCEEDED, RefundStatus.FAILED}
)


class StoredRefundStatus(StrEnum):
    """Storage names of refund statuses, which two inputs expect instead of ``RefundStatus``:
    ``webhook_details.refund_statuses_enabled`` and the ``refund_status`` filter of ``/refunds/list``.

    The spec types both as the API enum; the router deserializes them as ``common_enums::RefundStatus``
    (the spec's own example for the profile is ``["success", "failure"]``). The API maps
    failure and transaction_failure to ``failed``, manual_review to ``review``.
    """

    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    MANUAL_REVIEW = "manual_review"
    TRANSACTION_FAILURE = "transaction_failure"


class MandateStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PENDING = "pending"
    REVOKED = "revoked"


class DisputeStatus(StrEnum):
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_EXPIRED = "dispute_expired"
    DISPUTE_ACCEPTED = "dispute_accepted"
    DISPUTE_CANCELLED = "dispute_cancelled"
    DISPUTE_CHALLENGED = "dispute_challenged"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"


class DisputeStage(StrEnum):
    PRE_DISPUTE = "pre_dispute"
    DISPUTE = "dispute"
    PRE_ARBITRATION = "pre_arbitration"
    ARBITRATION = "arbitration"
    DISPUTE_REVERSAL = "dispute_reversal"


class PaymentLinkStatus(StrEnum):
    """Depends only on time: a link never becomes "paid"; read the payment's IntentStatus."""

    ACTIVE = "active"
    EXPIRED = "expired"


class EventType(StrEnum):
    """``event_type`` of an outgoing webhook."""

    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_PROCESSING = "payment_processing"
    PAYMENT_CANCELLED = "payment_cancelled"
    PAYMENT_CANCELLED_POST_CAPTURE = "payment_cancelled_post_capture"
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_PARTIALLY_AUTHORIZED = "payment_partially_authorized"
    PAYMENT_CAPTURED = "payment_captured"
    PAYMENT_EXPIRED = "payment_expired"
    ACTION_REQUIRED = "action_required"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_EXPIRED = "dispute_expired"
    DISPUTE_ACCEPTED = "dispute_accepted"
    DISPUTE_CANCELLED = "dispute_cancelled"
    DISPUTE_CHALLENGED = "dispute_challenged"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    MANDATE_ACTIVE = "mandate_active"
    MANDATE_REVOKED = "mandate_revoked"
    PAYOUT_SUCCESS = "payout_success"
    PAYOUT_FAILED = "payout_failed"
    PAYOUT_INITIATED = "payout_initiated"
    PAYOUT_PROCESSING = "payout_processing"
    PAYOUT_CANCELLED = "payout_cancelled"
    PAYOUT_EXPIRED = "payout_expired"
    PAYOUT_REVERSED = "payout_reversed"
    INVOICE_PAID = "invoice_paid"


class WebhookContentType(StrEnum):
    """``content.type`` of an outgoing webhook: which GET response ``content.object`` is."""

    PAYMENT_DETAILS = "payment_details"
    REFUND_DETAILS = "refund_details"
    DISPUTE_DETAILS = "dispute_details"
    MANDATE_DETAILS = "mandate_details"
    PAYOUT_DETAILS = "payout_details"
    SUBSCRIPTION_DETAILS = "subscription_details"


# Closed enums for request fields: only values the spec knows may be sent.


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"
    MANUAL_MULTIPLE = "manual_multiple"
    SCHEDULED = "scheduled"
    SEQUENTIAL_AUTOMATIC = "sequential_automatic"


class FutureUsage(StrEnum):
    """``setup_future_usage``: ``off_session`` on a CIT enables later merchant-initiated charges."""

    OFF_SESSION = "off_session"
    ON_SESSION = "on_session"


class AuthenticationType(StrEnum):
    THREE_DS = "three_ds"
    NO_THREE_DS = "no_three_ds"


class PaymentType(StrEnum):
    NORMAL = "normal"
    NEW_MANDATE = "new_mandate"
    SETUP_MANDATE = "setup_mandate"
    RECURRING_MANDATE = "recurring_mandate"
    INSTALLMENT = "installment"


class MitCategory(StrEnum):
    INSTALLMENT = "installment"
    UNSCHEDULED = "unscheduled"
    RECURRING = "recurring"
    RESUBMISSION = "resubmission"


class AcceptanceType(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class RefundType(StrEnum):
    SCHEDULED = "scheduled"
    INSTANT = "instant"


class PayoutStatus(StrEnum):
    """``payout.status`` (``common_enums::PayoutStatus``)."""

    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INITIATED = "initiated"
    EXPIRED = "expired"
    REVERSED = "reversed"
    PENDING = "pending"
    INELIGIBLE = "ineligible"
    REQUIRES_CREATION = "requires_creation"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_PAYOUT_METHOD_DATA = "requires_payout_method_data"
    REQUIRES_FULFILLMENT = "requires_fulfillment"
    REQUIRES_VENDOR_ACCOUNT_CREATION = "requires_vendor_account_creation"


# Final for the payout: cancel and fulfill are refused from these (core/payouts helpers).
TERMINAL_PAYOUT_STATUSES: frozenset[PayoutStatus] = frozenset(
    {
        PayoutStatus.SUCCESS,
        PayoutStatus.FAILED,
        PayoutStatus.CANCELLED,
        PayoutStatus.INELIGIBLE,
        PayoutStatus.EXPIRED,
        PayoutStatus.REVERSED,
    }
)


class PayoutType(StrEnum):
    """Kind of payout method; needed to confirm a payout (derived from a saved method if absent)."""

    CARD = "card"
    BANK = "bank"
    WALLET = "wallet"
    BANK_REDIRECT = "bank_redirect"


class PayoutEntityType(StrEnum):
    """To whom the payout goes; the wire values are the spec's, capitalisation included."""

    INDIVIDUAL = "Individual"
    COMPANY = "Company"
    NON_PROFIT = "NonProfit"
    PUBLIC_SECTOR = "PublicSector"
    NATURAL_PERSON = "NaturalPerson"
    LOWERCASE = "lowercase"
    PERSONAL = "Personal"


class PayoutSendPriority(StrEnum):
    INSTANT = "instant"
    FAST = "fast"
    REGULAR = "regular"
    WIRE = "wire"
    CROSS_BORDER = "cross_border"
    INTERNAL = "internal"
