"""Refusals of the payment-method operations, and remote failures turned into the plugin's errors.

A refusal is a 4xx: Kill Bill then refuses the operation (for addPaymentMethod it creates nothing).
A Hyperswitch or Kill Bill failure the caller cannot act on is a 5xx naming the remote code:
503 when the request certainly did nothing (retry later), 502 when its outcome is unknown.
"""

from __future__ import annotations

import hyperswitch_client as hs
from bridge.plugin_api.errors import PluginApiError
from killbill_client import KillBillError

# errorType values of the refusals, so tests and operators can branch on them.
MISSING_SOURCE = "MISSING_PAYMENT_METHOD_SOURCE"
INCONSISTENT_SOURCE = "INCONSISTENT_PAYMENT_METHOD_SOURCE"
FOREIGN = "FOREIGN_PAYMENT_METHOD"
NOT_RECURRING = "PAYMENT_METHOD_NOT_RECURRING"
MANDATE_NOT_ACTIVE = "MANDATE_NOT_ACTIVE"
FORM_NOT_COMPLETED = "FORM_NOT_COMPLETED"
NOTHING_SAVED = "NOTHING_SAVED"
ALREADY_ADDED = "PAYMENT_METHOD_ALREADY_ADDED"
CONFLICT = "PAYMENT_METHOD_CONFLICT"
DELETED = "PAYMENT_METHOD_DELETED"
GONE = "PAYMENT_METHOD_GONE"
HYPERSWITCH_REFUSED = "HYPERSWITCH_REFUSED"
HYPERSWITCH_UNAVAILABLE = "HYPERSWITCH_UNAVAILABLE"
HYPERSWITCH_ERROR = "HYPERSWITCH_ERROR"
KILLBILL_UNAVAILABLE = "KILLBILL_UNAVAILABLE"


def refused(error_type: str, message: str, status: int = 400) -> PluginApiError:
    return PluginApiError(error_type, message, status)


def _code(error: hs.HyperswitchError) -> str:
    return error.code or (f"HTTP_{error.http_status}" if error.http_status else type(error).__name__)


def hyperswitch_failure(action: str, error: hs.HyperswitchError) -> PluginApiError:
    """A Hyperswitch failure the operation has no answer for: the caller sees its code."""
    message = f"Hyperswitch failed {action} [{_code(error)}]: {error.message}"
    if error.kind is hs.ErrorKind.NOT_PROCESSED:
        return PluginApiError(HYPERSWITCH_UNAVAILABLE, message, 503)
    if error.kind is hs.ErrorKind.KNOWN_OUTCOME:
        return PluginApiError(HYPERSWITCH_REFUSED, message, 409)
    return PluginApiError(HYPERSWITCH_ERROR, message, 502)


def killbill_failure(action: str, error: KillBillError) -> PluginApiError:
    # Only reads go to Kill Bill from here, so a failure never leaves anything half-done there.
    return PluginApiError(KILLBILL_UNAVAILABLE, f"Kill Bill failed {action}: {error.message}", 503)
