"""Kill Bill failures by kind, so callers branch on a class and never on message text.

HTTP errors carry Kill Bill's ``BillingExceptionJson`` fields (``className``, ``code``, ``message``,
``causeClassName``, ``causeMessage``). Payment calls answer 402/422/502/503/504 with a ``Location`` of
the payment they touched (``JaxRsResourceBase#createPaymentResponse``); those become
:class:`PaymentTransactionError` subclasses that keep the payment id.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import requests

from killbill_client import json_codec

_PAYMENT_LOCATION = re.compile(r"/1\.0/kb/(?:payments|invoicePayments)/([0-9a-fA-F-]{36})")

PAYMENT_PLUGIN_TIMEOUT_CODE = 7100


class KillBillError(Exception):
    """Base of every error raised by the client."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class KillBillConnectionError(KillBillError):
    """No HTTP answer. ``request_sent`` is False only when the request certainly never left (connect failure)."""

    def __init__(self, message: str, *, request_sent: bool, method: str | None = None,
                 url: str | None = None) -> None:
        super().__init__(message, method=method, url=url)
        self.request_sent = request_sent


class KillBillTimeoutError(KillBillConnectionError):
    """The request was sent but no answer came in time: its outcome is unknown."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message, request_sent=True, method=method, url=url)


class KillBillAPIError(KillBillError):
    """Kill Bill answered with an error status."""

    def __init__(self, status: int, body: Any, *, text: str = "", method: str | None = None,
                 url: str | None = None, location: str | None = None) -> None:
        fields = body if isinstance(body, dict) else {}
        self.status = status
        self.body = body
        self.text = text
        self.class_name: str | None = fields.get("className")
        self.code: int | None = fields.get("code")
        self.cause_class_name: str | None = fields.get("causeClassName")
        self.cause_message: str | None = fields.get("causeMessage")
        self.location = location
        detail = fields.get("message") or text.strip()[:200] or f"HTTP {status}"
        super().__init__(f"HTTP {status}: {detail}", method=method, url=url)
        self.message = fields.get("message") or detail


class BadRequestError(KillBillAPIError):
    """400: invalid input, a refused state transition or a plugin exception."""


class UnauthorizedError(KillBillAPIError):
    """401: bad basic-auth credentials or tenant api key/secret."""


class NotFoundError(KillBillAPIError):
    """404: the object does not exist in this tenant (or, for notifyStateChanged, is not PENDING)."""


class ConflictError(KillBillAPIError):
    """409: the object already exists (tenant api key, account external key)."""


class ServerError(KillBillAPIError):
    """5xx without a payment outcome attached."""


class PaymentTransactionError(KillBillAPIError):
    """A payment call whose transaction did not end in SUCCESS/PENDING; ``payment_id`` names the payment."""

    @property
    def payment_id(self) -> UUID | None:
        match = _PAYMENT_LOCATION.search(self.location or "")
        return UUID(match.group(1)) if match else None


class PaymentDeclinedError(PaymentTransactionError):
    """402: the gateway declined (transaction PAYMENT_FAILURE)."""


class PaymentAbortedError(PaymentTransactionError):
    """422: a control plugin aborted the call before the payment plugin ran."""


class PaymentPluginFailureError(PaymentTransactionError, ServerError):
    """502: the plugin says the request never reached the gateway (PLUGIN_FAILURE)."""


class PaymentUnknownError(PaymentTransactionError, ServerError):
    """503: outcome unknown (UNKNOWN); Kill Bill's janitor follows it up."""


class PaymentPluginTimeoutError(PaymentTransactionError, ServerError):
    """504: the plugin did not answer within ``org.killbill.payment.plugin.timeout`` (UNKNOWN)."""


class CreatedButUnreadableError(KillBillError):
    """The write succeeded (201) but reading its ``Location`` failed: do not repeat the write."""

    def __init__(self, location: str, cause: KillBillError) -> None:
        super().__init__(f"created {location} but could not read it back: {cause}", method="GET", url=location)
        self.location = location
        self.__cause__ = cause

    @property
    def resource_id(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


_PAYMENT_STATUS_ERRORS: dict[int, type[PaymentTransactionError]] = {
    402: PaymentDeclinedError,
    422: PaymentAbortedError,
    502: PaymentPluginFailureError,
    503: PaymentUnknownError,
    504: PaymentPluginTimeoutError,
}

_STATUS_ERRORS: dict[int, type[KillBillAPIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
}


def _parse_body(response: requests.Response) -> Any:
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        return json_codec.loads(response.content)
    except ValueError:
        return None


def _is_payment_outcome(status: int, body: Any, location: str | None) -> bool:
    """A payment outcome carries the payment's Location, or (504) the plugin-timeout error code."""
    if status == 402 or status == 422:
        return True
    if location and _PAYMENT_LOCATION.search(location):
        return True
    return status == 504 and isinstance(body, dict) and body.get("code") == PAYMENT_PLUGIN_TIMEOUT_CODE


def error_class_for(status: int, body: Any, location: str | None) -> type[KillBillAPIError]:
    """The one place that sorts an HTTP error into its kind."""
    if status in _PAYMENT_STATUS_ERRORS and _is_payment_outcome(status, body, location):
        return _PAYMENT_STATUS_ERRORS[status]
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    return ServerError if status >= 500 else KillBillAPIError


def error_from_response(method: str, url: str, response: requests.Response) -> KillBillAPIError:
    body = _parse_body(response)
    location = response.headers.get("Location")
    cls = error_class_for(response.status_code, body, location)
    return cls(response.status_code, body, text=response.text, method=method, url=url, location=location)
