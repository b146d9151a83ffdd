"""The ``X-Bridge-Signature`` header between the Java forwarding plugin and the sidecar.

``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``; several ``v1=`` values may be
sent while a secret rotates. Verification is constant-time and refuses timestamps outside the window.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

HEADER = "X-Bridge-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request is not signed by a party holding the shared secret (or is stale)."""


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secrets: str | Iterable[str], timestamp: int | None = None) -> str:
    """The header value signing ``body`` with each of ``secrets`` (one ``v1=`` each)."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    return ",".join([f"t={ts}"] + [f"v1={_mac(key, ts, body)}" for key in keys])


def verify(header: str | None, body: bytes, secrets: Iterable[str], *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> int:
    """Check ``header`` against any of ``secrets``; return the signed timestamp or raise SignatureError."""
    if not header:
        raise SignatureError(f"missing {HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError(f"malformed {HEADER} header: expected t=<unix seconds>,v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"{HEADER} timestamp outside the {tolerance} s window")
    expected = [_mac(secret, timestamp, body) for secret in secrets if secret]
    if not any(hmac.compare_digest(e, s) for e in expected for s in signatures):
        raise SignatureError(f"{HEADER} does not match")
    return timestamp
