"""Signed tokens in payor links: ``/pay/<token>`` (expiring, bound to the Kill Bill tenant and the pay link)
and ``/pay/unsubscribe/<token>`` (bound to the tenant and the Kill Bill account; it never expires, since
a mailbox may use a List-Unsubscribe URL long after the email arrived, and it only ever stops reminders).

The signing secret derives from the master key ring (HMAC-SHA256 of a fixed label keyed with each master
key), so no new secret needs managing. Tokens are signed with the newest key and verified with any key of
the ring: after a rotation, links already emailed stay valid until the old key leaves the ring.

A token carries ``{"t": tenant, "l": pay link id, "e": expiry (epoch seconds)}``. Verifying tells apart a
token that is not ours (tampered, or signed with a key no longer in the ring: :class:`InvalidToken`) from
one that was ours but has expired (:class:`ExpiredToken`, which still names the link).

The web process and the worker find the secrets of their runtime through :func:`bind` (called when the
app is created); a process that has not bound a runtime derives them from its loaded settings, which the
web and worker processes of one deployment share.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

_LABEL = b"bridge/pay-link-token/v1"
_SALT = "pay-link"
_UNSUBSCRIBE_SALT = "reminder-unsubscribe"
_ACCOUNT_SALT = "account-pay-link"  # a distinct kind: an invoice token never opens an account page, nor back


class InvalidToken(Exception):
    """Not a token of ours: tampered, truncated, or signed with a key not in the ring."""


class ExpiredToken(Exception):
    """A genuine token whose validity ended."""

    def __init__(self, claims: Any) -> None:
        super().__init__("the link has expired")
        self.claims = claims


@dataclass(frozen=True)
class PayClaims:
    kb_tenant_id: str
    pay_link_id: int
    expires_at: datetime


def derive_secrets(master_keys: list[str]) -> list[bytes]:
    """One signing secret per master key, oldest first (itsdangerous signs with the last)."""
    return [hmac.new(key.encode(), _LABEL, hashlib.sha256).digest() for key in reversed(master_keys)]


def master_keys_of(settings: Any) -> list[str]:
    """The ring as the runtime builds it: the configured keys (newest first), else the development key file."""
    keys = [k.get_secret_value() for k in settings.master_keys]
    if keys:
        return keys
    return [settings.master_key_file.read_text().strip()]


@dataclass(frozen=True)
class AccountPayClaims:
    """An account page token: every open invoice of the account behind ``account_link_id``."""

    kb_tenant_id: str
    account_link_id: int
    expires_at: datetime


@dataclass(frozen=True)
class UnsubscribeClaims:
    kb_tenant_id: str
    kb_account_id: str


class TokenSigner:
    def __init__(self, master_keys: list[str]) -> None:
        if not master_keys:
            raise ValueError("at least one master key is needed to sign pay links")
        secrets = derive_secrets(master_keys)
        self._serializer = URLSafeTimedSerializer(secrets, salt=_SALT)
        self._unsubscribe = URLSafeSerializer(secrets, salt=_UNSUBSCRIBE_SALT)
        self._account = URLSafeTimedSerializer(secrets, salt=_ACCOUNT_SALT)

    def sign_unsubscribe(self, kb_tenant_id: str, kb_account_id: str) -> str:
        return self._unsubscribe.dumps({"t": kb_tenant_id, "a": kb_account_id})

    def verify_unsubscribe(self, token: str) -> UnsubscribeClaims:
        """The claims of a genuine unsubscribe token; raises InvalidToken."""
        if not token or len(token) > 512:
            raise InvalidToken("not an unsubscribe token")
        try:
            data = self._unsubscribe.loads(token)
            return UnsubscribeClaims(str(data["t"]), str(data["a"]))
        except (BadSignature, KeyError, TypeError):
            raise InvalidToken("not an unsubscribe token") from None

    def sign(self, kb_tenant_id: str, pay_link_id: int, expires_at: datetime) -> str:
        return self._serializer.dumps({"t": kb_tenant_id, "l": pay_link_id, "e": int(_utc(expires_at).timestamp())})

    def verify(self, token: str, now: datetime) -> PayClaims:
        """The claims of a valid token; raises InvalidToken or ExpiredToken."""
        tenant, link_id, expires_at = _verify(self._serializer, token, now, "not a pay link token")
        return PayClaims(tenant, link_id, expires_at)

    def sign_account(self, kb_tenant_id: str, account_link_id: int, expires_at: datetime) -> str:
        return self._account.dumps({"t": kb_tenant_id, "a": account_link_id,
                                    "e": int(_utc(expires_at).timestamp())})

    def verify_account(self, token: str, now: datetime) -> AccountPayClaims:
        """The claims of a valid account page token; raises InvalidToken or ExpiredToken."""
        tenant, link_id, expires_at = _verify(self._account, token, now, "not an account pay link token", key="a")
        return AccountPayClaims(tenant, link_id, expires_at)


def _verify(serializer: URLSafeTimedSerializer, token: str, now: datetime, invalid: str,
            key: str = "l") -> tuple[str, int, datetime]:
    """Tenant, link id and end of validity of a genuine token of this serializer's kind."""
    if not token or len(token) > 512:
        raise InvalidToken(invalid)
    try:
        data = serializer.loads(token)
    except BadSignature:
        raise InvalidToken(invalid) from None
    try:
        claims = str(data["t"]), int(data[key]), datetime.fromtimestamp(int(data["e"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        raise InvalidToken(invalid) from None
    if _utc(now) >= claims[2]:
        raise ExpiredToken(claims)
    return claims


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_bound: "weakref.WeakKeyDictionary[Any, TokenSigner]" = weakref.WeakKeyDictionary()
_fallback: list[TokenSigner] = []
_lock = threading.Lock()


def bind(runtime: Any) -> TokenSigner:
    """Use this runtime's master keys for tokens made or read with its sessions (see the module)."""
    signer = TokenSigner(master_keys_of(runtime.settings))
    with _lock:
        _bound[runtime.sessions] = signer
    return signer


def for_runtime(runtime: Any) -> TokenSigner:
    with _lock:
        signer = _bound.get(runtime.sessions)
    return signer if signer is not None else bind(runtime)


def signer_for(env: Any) -> TokenSigner:
    """The signer of the runtime that built ``env`` (a TenantEnv)."""
    with _lock:
        signer = _bound.get(env.sessions)
        if signer is not None:
            return signer
        if not _fallback:
            from bridge.settings import load_settings

            _fallback.append(TokenSigner(master_keys_of(load_settings())))
        return _fallback[0]
