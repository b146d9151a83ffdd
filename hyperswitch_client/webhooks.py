"""Outgoing Hyperswitch webhooks: signature check and envelope parsing.

Hyperswitch signs the exact request body bytes with HMAC-SHA512, keyed by the business profile's
``payment_response_hash_key`` (UTF-8), and sends the lowercase hex digest in
``X-Webhook-Signature-512`` (``crates/router/src/core/webhooks/types.rs``). There is no timestamp;
retries resend the stored body, so ``event_id`` and the signature repeat: dedupe on ``event_id``.
Verify the raw bytes before parsing, and re-read the object from the API before acting on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import ValidationError

from .common import OpenEventType, OpenWebhookContentType, ResponseModel, UtcDatetime
from .disputes import Dispute
from .enums import WebhookContentType
from .mandates import Mandate
from .payments import Payment
from .payouts import Payout
from .refunds import Refund

__all__ = [
    "SIGNATURE_HEADER",
    "InvalidWebhookError",
    "WebhookContent",
    "WebhookEvent",
    "compute_signature",
    "parse_event",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Webhook-Signature-512"


class InvalidWebhookError(ValueError):
    """The webhook body is not a Hyperswitch outgoing-webhook envelope."""


def compute_signature(body: bytes, key: str) -> str:
    """Lowercase hex HMAC-SHA512 of ``body`` with ``key``, as Hyperswitch computes it."""
    if not isinstance(body, bytes):
        raise TypeError("body must be the raw bytes as received")
    if not key:
        raise ValueError("the signing key is empty")
    return hmac.new(key.encode("utf-8"), body, hashlib.sha512).hexdigest()


def verify_signature(body: bytes, signature: str | None, key: str) -> bool:
    """Whether ``signature`` (the header value) signs ``body``; constant-time comparison.

    An empty ``key`` raises ``ValueError``: a missing key is a configuration error, never a match.
    """
    expected = compute_signature(body, key)
    if not signature:
        return False
    given = signature.strip().lower().encode("ascii", errors="replace")
    return hmac.compare_digest(expected.encode("ascii"), given)


class WebhookContent(ResponseModel):
    type: OpenWebhookContentType
    object: dict[str, Any]


class WebhookEvent(ResponseModel):
    """``OutgoingWebhook``. ``content.object`` is the GET response of the object (payment, …)."""

    merchant_id: str
    event_id: str
    event_type: OpenEventType
    content: WebhookContent
    timestamp: UtcDatetime | None = None
    processor_merchant_id: str | None = None

    @property
    def payment_id(self) -> str | None:
        return self._object_str("payment_id")

    @property
    def refund_id(self) -> str | None:
        return self._object_str("refund_id")

    @property
    def dispute_id(self) -> str | None:
        return self._object_str("dispute_id")

    @property
    def mandate_id(self) -> str | None:
        return self._object_str("mandate_id")

    @property
    def payout_id(self) -> str | None:
        return self._object_str("payout_id")

    @property
    def profile_id(self) -> str | None:
        """The object's business profile, to find the tenant (mandates carry none)."""
        return self._object_str("profile_id")

    def payment(self) -> Payment:
        return self._typed_object(WebhookContentType.PAYMENT_DETAILS, Payment)

    def refund(self) -> Refund:
        return self._typed_object(WebhookContentType.REFUND_DETAILS, Refund)

    def dispute(self) -> Dispute:
        return self._typed_object(WebhookContentType.DISPUTE_DETAILS, Dispute)

    def mandate(self) -> Mandate:
        return self._typed_object(WebhookContentType.MANDATE_DETAILS, Mandate)

    def payout(self) -> Payout:
        return self._typed_object(WebhookContentType.PAYOUT_DETAILS, Payout)

    def _object_str(self, key: str) -> str | None:
        value = self.content.object.get(key)
        return value if isinstance(value, str) else None

    def _typed_object(self, expected: WebhookContentType, model: type[Any]) -> Any:
        if self.content.type != expected:
            raise InvalidWebhookError(f"content is {self.content.type!r}, not {expected.value!r}")
        try:
            return model.model_validate(self.content.object)
        except ValidationError as exc:
            raise InvalidWebhookError(f"malformed {expected.value} object: {exc}") from exc


def parse_event(body: bytes) -> WebhookEvent:
    """The typed envelope of a webhook body; raises ``InvalidWebhookError`` if it is malformed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, TypeError) as exc:
        raise InvalidWebhookError(f"webhook body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidWebhookError("webhook body is not a JSON object")
    try:
        return WebhookEvent.model_validate(data)
    except ValidationError as exc:
        raise InvalidWebhookError(f"not a Hyperswitch webhook envelope: {exc}") from exc
