"""The per-attempt audit record and the redaction applied to it.

The record is built inside the client so that nothing sensitive can reach the bridge's audit table:
headers (the api-key) are never included, and bodies are redacted here, before the hook sees them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import ErrorKind

__all__ = ["AuditHook", "AuditRecord", "REDACTED", "redact", "redact_body"]

REDACTED = "[REDACTED]"
_MAX_TEXT = 4096

# Keys whose value is a secret wherever they appear.
_SECRET_KEYS = frozenset(
    {
        "card_number",
        "card_cvc",
        "cvc",
        "cvv",
        "api_key",
        "client_secret",
        "payment_response_hash_key",
        "webhook_password",
        "secret",
        "password",
        "network_token",
        "cryptogram",
    }
)
# Every value under ``payment_method_data.card`` (request card data, masked response card data alike)
# and under a payout's ``payout_method_data`` (card or bank account to pay out to).
_CARD_CONTAINERS = (("payment_method_data", "card"), ("payout_method_data",))
# A card number written inside free text (13–19 digits, optionally grouped by spaces or dashes).
_PAN_PATTERN = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One HTTP attempt. ``status`` is None when no answer arrived."""

    method: str
    path: str
    query: Mapping[str, str] | None
    status: int | None
    latency_ms: float
    attempt: int
    started_at: datetime
    request_body: Any
    response_body: Any
    error_kind: ErrorKind | None
    error_code: str | None


AuditHook = Callable[[AuditRecord], None]


def redact(value: Any, _path: tuple[str, ...] = ()) -> Any:
    """A deep copy of a JSON value with secrets and card data masked."""
    if isinstance(value, dict):
        return {key: _redact_member(key, item, _path + (key,)) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, _path) for item in value]
    if isinstance(value, str):
        return _PAN_PATTERN.sub(REDACTED, value)
    return value


def _redact_member(key: str, value: Any, path: tuple[str, ...]) -> Any:
    if key.lower() in _SECRET_KEYS and value is not None:
        return REDACTED
    if _under_card(path):
        return _mask_all(value)
    return redact(value, path)


def _under_card(path: tuple[str, ...]) -> bool:
    return any(
        path[i : i + len(container)] == container
        for container in _CARD_CONTAINERS
        for i in range(len(path) - len(container) + 1)
    )


def _mask_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask_all(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_all(item) for item in value]
    return None if value is None else REDACTED


def redact_body(raw: bytes | None) -> Any:
    """Redacted JSON value of a body, or its redacted, truncated text if it is not JSON."""
    if not raw:
        return None
    try:
        return redact(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        text = raw[:_MAX_TEXT].decode("utf-8", errors="replace")
        return redact(text)
