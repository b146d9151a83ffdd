"""Errors by failure kind, and the one function that maps a Hyperswitch answer to its error.

Every failure carries a ``kind`` the plugin's Kill Bill status mapping depends on (DESIGN rule 3,
reference/killbill.md §A3/§A6):

``NOT_PROCESSED`` → Kill Bill CANCELED (PLUGIN_FAILURE, retried soon)
    Hyperswitch certainly did nothing: the connection was never made (refused, DNS, connect timeout),
    or the router rejected the request before running the operation: authentication (IR_01/15/17/18,
    IR_22), request validation (IR_02–IR_09, IR_21, IR_23, IR_24, IR_26, IR_29, IR_31–IR_36), rate limiting
    (429 from the hosting infrastructure) and lock contention (HE_00 with HTTP 422: ``ResourceBusy``,
    the per-object API lock was not acquired, so the operation never started; the docs say 429 for
    it, which the 429 rule covers). ``CurrencyConversionFailed`` is also HE_00/422; it is equally
    unprocessed, and retrying it costs at most the call's deadline. The client's own guards refuse
    before sending, so they are unprocessed too: an open circuit breaker (``CircuitOpenError``) and
    pacing with no request slot within the deadline (``ThrottledError``).

``KNOWN_OUTCOME`` → Kill Bill ERROR (or a special path, e.g. HE_01 → retrieve)
    Hyperswitch answered definitely about the operation: the object does not exist (HE_02, HE_04,
    IR_27, IR_37), already exists (HE_01, IR_38, IR_12 on ``POST /customers``), or the operation was
    refused for the object's state or the merchant's configuration (IR_10–IR_14, IR_16, IR_19, IR_20,
    IR_25, IR_28, IR_30, IR_39–IR_41, HE_03), the connector refused it with a 4xx (CE_xx), or the
    blocklist blocked the payment (HE_03 with type ``blocked``, returned with HTTP **200**). A 4xx code
    this module does not know is also a definite refusal: every 4xx the router sends is produced before
    or instead of moving money.

``UNKNOWN_OUTCOME`` → Kill Bill UNDEFINED (the janitor re-reads later)
    The request may have been processed and we cannot tell: read timeout after sending, connection
    reset after sending, any 5xx (HE_00 500, HE_02 500 "mandate update failed", IE, a 502/504 from a
    proxy …), a 3xx, or a body we cannot read (not JSON, not Hyperswitch's error shape, a 2xx that does
    not parse). Status ≥ 500 wins over the code: the same code can be a 404 or a 500.

Decisions branch on ``error.code`` (plus HTTP status and, for IR_12, the endpoint), never on message
text. The JSON-deserialize variant of IR_06 names its type key ``error_type`` instead of ``type``;
both are read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ConnectError",
    "ConnectionLostError",
    "ConnectorError",
    "DuplicateResourceError",
    "ErrorKind",
    "HyperswitchError",
    "InvalidRequestError",
    "NotFoundError",
    "OperationRefusedError",
    "PaymentBlockedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResourceBusyError",
    "CircuitOpenError",
    "ThrottledError",
    "UnreadableResponseError",
    "error_from_response",
    "parse_retry_after",
]


class ErrorKind(StrEnum):
    NOT_PROCESSED = "not_processed"
    KNOWN_OUTCOME = "known_outcome"
    UNKNOWN_OUTCOME = "unknown_outcome"


class HyperswitchError(Exception):
    """Base of every client failure. ``kind`` is fixed per subclass."""

    kind: ErrorKind = ErrorKind.UNKNOWN_OUTCOME

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        body: bytes | None = None,
        reason: str | None = None,
        extras: Mapping[str, Any] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_type = error_type
        self.code = code
        self.body = body
        self.reason = reason
        self.extras: dict[str, Any] = dict(extras or {})
        self.method = method
        self.path = path
        self.attempts = 0  # set by the requestor: HTTP attempts made for this call

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.insert(0, f"[{self.code}]")
        if self.http_status is not None:
            parts.append(f"(HTTP {self.http_status})")
        if self.method and self.path:
            parts.append(f"on {self.method} {self.path}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind.value!r}, http_status={self.http_status!r}, "
            f"code={self.code!r}, message={self.message!r})"
        )


class APIConnectionError(HyperswitchError):
    """A transport failure; see the subclasses for whether the request was sent."""


class ConnectError(APIConnectionError):
    """No connection was made (refused, DNS, connect timeout, bad URL): nothing was sent."""

    kind = ErrorKind.NOT_PROCESSED


class ConnectionLostError(APIConnectionError):
    """The connection broke after the request may have been sent (reset, aborted, truncated)."""

    kind = ErrorKind.UNKNOWN_OUTCOME


class APITimeoutError(HyperswitchError):
    """No complete answer in time after sending (read timeout or the call's deadline)."""

    kind = ErrorKind.UNKNOWN_OUTCOME


class APIError(HyperswitchError):
    """HTTP 5xx: Hyperswitch (or a proxy in front of it) failed; the operation may have run."""

    kind = ErrorKind.UNKNOWN_OUTCOME


class UnreadableResponseError(HyperswitchError):
    """An answer we cannot interpret (garbled body, unexpected shape or status)."""

    kind = ErrorKind.UNKNOWN_OUTCOME


class InvalidRequestError(HyperswitchError):
    """The router rejected the request's form before running the operation."""

    kind = ErrorKind.NOT_PROCESSED


class AuthenticationError(HyperswitchError):
    """Missing or invalid api-key (HTTP 401)."""

    kind = ErrorKind.NOT_PROCESSED


class PermissionDeniedError(HyperswitchError):
    """The key may not access this resource (HTTP 403, IR_22)."""

    kind = ErrorKind.NOT_PROCESSED


class RateLimitError(HyperswitchError):
    """HTTP 429. ``retry_after`` is the server's requested wait in seconds, if it sent one."""

    kind = ErrorKind.NOT_PROCESSED

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ResourceBusyError(HyperswitchError):
    """HE_00 with HTTP 422: another operation holds the object's API lock."""

    kind = ErrorKind.NOT_PROCESSED


class CircuitOpenError(HyperswitchError):
    """Refused before sending: Hyperswitch at this base URL kept failing, so its circuit breaker is open."""

    kind = ErrorKind.NOT_PROCESSED

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "CIRCUIT_OPEN")
        super().__init__(message, **kwargs)


class ThrottledError(HyperswitchError):
    """Refused before sending: the client's pacing had no request slot free within the call's deadline."""

    kind = ErrorKind.NOT_PROCESSED

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "THROTTLED")
        super().__init__(message, **kwargs)


class NotFoundError(HyperswitchError):
    """The object does not exist for this merchant (HE_02, HE_04, IR_27, IR_37)."""

    kind = ErrorKind.KNOWN_OUTCOME


class DuplicateResourceError(HyperswitchError):
    """An object with this merchant-supplied id already exists (HE_01, IR_38, IR_12 for customers)."""

    kind = ErrorKind.KNOWN_OUTCOME


class OperationRefusedError(HyperswitchError):
    """Hyperswitch refused the operation for the object's state, amounts or configuration."""

    kind = ErrorKind.KNOWN_OUTCOME


class ConnectorError(HyperswitchError):
    """The connector refused the operation with a 4xx (CE_xx); ``extras['connector']`` names it."""

    kind = ErrorKind.KNOWN_OUTCOME


class PaymentBlockedError(OperationRefusedError):
    """The blocklist blocked the payment (type ``blocked``, HE_03, returned with HTTP 200)."""


_AUTH_CODES = frozenset({"IR_01", "IR_15", "IR_17", "IR_18"})
_FORBIDDEN_CODES = frozenset({"IR_22"})
_NOT_FOUND_CODES = frozenset({"HE_02", "HE_04", "IR_27", "IR_37"})
_DUPLICATE_CODES = frozenset({"HE_01", "IR_38"})
_INVALID_REQUEST_CODES = frozenset(
    {
        "IR_02", "IR_03", "IR_04", "IR_05", "IR_06", "IR_07", "IR_08", "IR_09", "IR_21",
        "IR_23", "IR_24", "IR_26", "IR_29", "IR_31", "IR_32", "IR_33", "IR_34", "IR_35", "IR_36",
    }
)  # fmt: skip
# IR_12 means "maximum refund attempts reached" except on customer create, where it means
# "customer_id already exists" (core/customers.rs).
_CUSTOMER_CREATE = ("POST", "/customers")


def error_from_response(
    status: int,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
    path: str | None = None,
) -> HyperswitchError:
    """The error for a Hyperswitch answer that is not a success.

    Called for every non-2xx answer and for a 2xx whose body is an ``{"error": …}`` envelope.
    """
    envelope = _error_envelope(body)
    fields = _error_fields(envelope, status, body, method, path)
    if status == 429:
        retry_after = parse_retry_after((headers or {}).get("Retry-After"))
        return RateLimitError(_message(envelope, "rate limited"), retry_after=retry_after, **fields)
    if status == 422 and fields["code"] == "HE_00":
        return ResourceBusyError(_message(envelope, "resource busy"), **fields)
    if status >= 500:
        return APIError(_message(envelope, "server error"), **fields)
    if envelope is None:
        return UnreadableResponseError("unexpected answer from Hyperswitch", **fields)
    if 200 <= status < 300:
        return PaymentBlockedError(_message(envelope, "payment blocked"), **fields)
    if not 400 <= status < 500:
        return UnreadableResponseError(_message(envelope, "unexpected status"), **fields)
    cls = _class_for_code(fields["code"], method, path)
    return cls(_message(envelope, "request failed"), **fields)


def _class_for_code(code: str, method: str | None, path: str | None) -> type[HyperswitchError]:
    if code in _AUTH_CODES:
        return AuthenticationError
    if code in _FORBIDDEN_CODES:
        return PermissionDeniedError
    if code in _NOT_FOUND_CODES:
        return NotFoundError
    if code in _DUPLICATE_CODES:
        return DuplicateResourceError
    if code == "IR_12" and (method, path) == _CUSTOMER_CREATE:
        return DuplicateResourceError
    if code in _INVALID_REQUEST_CODES:
        return InvalidRequestError
    if code.startswith("CE_"):
        return ConnectorError
    return OperationRefusedError


def _error_envelope(body: bytes) -> dict[str, Any] | None:
    """The ``error`` object if ``body`` is Hyperswitch's error shape, else None."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return None
    return error


def _error_fields(
    envelope: dict[str, Any] | None, status: int, body: bytes, method: str | None, path: str | None
) -> dict[str, Any]:
    envelope = envelope or {}
    known = {"type", "error_type", "code", "message", "reason"}
    reason = envelope.get("reason")
    return {
        "http_status": status,
        # IR_06 from the JSON-body parser says "error_type"; every other error says "type".
        "error_type": envelope.get("type", envelope.get("error_type")),
        "code": envelope.get("code"),
        "body": body,
        "reason": reason if isinstance(reason, str) else None,
        "extras": {k: v for k, v in envelope.items() if k not in known},
        "method": method,
        "path": path,
    }


def _message(envelope: dict[str, Any] | None, fallback: str) -> str:
    message = (envelope or {}).get("message")
    return message if isinstance(message, str) and message else fallback


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, delta)
