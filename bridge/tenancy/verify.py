"""`bridge tenants verify`: check a tenant's credentials against the live services, one line per check.

Each check says what it proved. A check that depends on an earlier one that failed is reported as
skipped rather than failing for the same reason twice.

The Kill Bill push callback (``<BRIDGE_PUBLIC_URL>/webhooks/killbill/<token>``) is checked read-only,
or (re)registered on request, when the bridge knows its public URL (BRIDGE_PUBLIC_URL): without it the
bridge cannot say where Kill Bill must post, so there is no callback check, and registering fails
with that reason. Kill Bill keeps one callback per tenant: registering replaces the one it had.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

import hyperswitch_client as hs
import killbill_client as kb
from bridge.db.tenancy import Tenant
from bridge.logs import register_secret
from bridge.tenancy.crypto import Keyring
from bridge.tenancy.service import TenantCredentials, callback_token, new_callback_token
from hyperswitch_client.profiles import Profile

VERIFY_TIMEOUT_SECONDS = 10.0


class Check(BaseModel):
    name: str
    status: Literal["pass", "fail", "skip"]
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "fail"


class VerifyReport(BaseModel):
    kb_tenant_id: str
    ok: bool
    checks: list[Check]


def _passed(name: str, detail: str) -> Check:
    return Check(name=name, status="pass", detail=detail)


def _failed(name: str, detail: str) -> Check:
    return Check(name=name, status="fail", detail=detail)


def _hyperswitch_checks(creds: TenantCredentials) -> list[Check]:
    name = "hyperswitch api key and profile"
    # No X-Profile-Id header: the router answers 401 for a profile the merchant does not own, which would
    # read as a wrong key. The profile is named in the path instead, where an unknown one is "not found".
    client = hs.HyperswitchClient(creds.hs_base_url, creds.hs_api_key, deadline=VERIFY_TIMEOUT_SECONDS)
    try:
        profile = client.profiles.retrieve(creds.hs_merchant_id, creds.hs_profile_id)
    except hs.AuthenticationError:
        return [_failed(name, f"{creds.hs_base_url} refused the API key for merchant {creds.hs_merchant_id}"),
                Check(name="hyperswitch webhook secret", status="skip", detail="needs the profile")]
    except hs.HyperswitchError as exc:
        reason = f"{exc.code}: {exc.message}" if exc.code else str(exc)
        return [_failed(name, f"profile {creds.hs_profile_id} of {creds.hs_merchant_id}: {reason}"),
                Check(name="hyperswitch webhook secret", status="skip", detail="needs the profile")]
    finally:
        client.close()
    checks = [_passed(name, f"{creds.hs_base_url} accepted the key; profile {profile.profile_id} "
                            f"of merchant {profile.merchant_id} found")]
    checks.append(_webhook_secret_check(creds, profile))
    return checks


def _webhook_secret_check(creds: TenantCredentials, profile: Profile) -> Check:
    name = "hyperswitch webhook secret"
    key = profile.payment_response_hash_key
    if not key:
        return Check(name=name, status="skip", detail="the profile does not show its payment_response_hash_key")
    if hmac.compare_digest(key.encode(), creds.hs_webhook_secret.encode()):
        return _passed(name, "matches the profile's payment_response_hash_key")
    return _failed(name, "differs from the profile's payment_response_hash_key: webhooks would be refused")


def _killbill_client(creds: TenantCredentials) -> kb.KillBillClient:
    return kb.KillBillClient(creds.killbill_url, username=creds.kb_username, password=creds.kb_password,
                             api_key=creds.kb_api_key, api_secret=creds.kb_api_secret,
                             timeout=VERIFY_TIMEOUT_SECONDS)


def _killbill_checks(creds: TenantCredentials) -> list[Check]:
    client = _killbill_client(creds)
    try:
        return _killbill_tenant(client, creds)
    finally:
        client.close()


def _killbill_tenant(client: kb.KillBillClient, creds: TenantCredentials) -> list[Check]:
    name, secret_name = "kill bill user and tenant", "kill bill api secret"
    try:
        tenant = client.tenants.get_by_api_key(creds.kb_api_key)
    except kb.UnauthorizedError:
        return [_failed(name, f"{creds.killbill_url} refused user {creds.kb_username!r}"),
                Check(name=secret_name, status="skip", detail="needs the tenant")]
    except kb.NotFoundError:
        return [_failed(name, f"no Kill Bill tenant has API key {creds.kb_api_key!r}"),
                Check(name=secret_name, status="skip", detail="needs the tenant")]
    except kb.KillBillError as exc:
        return [_failed(name, f"{creds.killbill_url}: {exc}"),
                Check(name=secret_name, status="skip", detail="needs the tenant")]
    if str(tenant.tenant_id) != creds.kb_tenant_id:
        return [_failed(name, f"API key {creds.kb_api_key!r} belongs to tenant {tenant.tenant_id}, "
                              f"not {creds.kb_tenant_id}"),
                Check(name=secret_name, status="skip", detail="needs the tenant")]
    checks = [_passed(name, f"user {creds.kb_username!r} accepted; API key {creds.kb_api_key!r} "
                            f"is tenant {creds.kb_tenant_id}")]
    try:
        client.accounts.list(limit=1)
    except kb.UnauthorizedError:
        checks.append(_failed(secret_name, "Kill Bill refused the tenant's API key and secret"))
    except kb.KillBillError as exc:
        checks.append(_failed(secret_name, f"a tenant-scoped call failed: {exc}"))
    else:
        checks.append(_passed(secret_name, "a tenant-scoped call succeeded"))
    return checks


# -- the Kill Bill push callback ----------------------------------------------------------------------
CALLBACK_CHECK = "kill bill push callback"
CALLBACK_PATH = "/webhooks/killbill/"


@dataclass(frozen=True)
class CallbackTarget:
    """The URL Kill Bill must post this tenant's notifications to, or why there is none."""

    tenant_id: str
    url: str | None
    problem: str | None = None


class CallbackOutcome(BaseModel):
    """What `tenants add` did about the push callback (the mapping is stored whatever this says)."""

    status: Literal["registered", "failed", "skipped"]
    detail: str


def public_url(settings: Any) -> str | None:
    """BRIDGE_PUBLIC_URL when set (the default base, http://host:port, is no address to give Kill Bill)."""
    return str(settings.public_url).rstrip("/") if settings.public_url is not None else None


def callback_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{CALLBACK_PATH}{token}"


def masked_callback_url(url: str) -> str:
    """The URL with its token masked (the token lets anyone post notifications for the tenant)."""
    base, found, token = url.rpartition(CALLBACK_PATH)
    if not found:
        return _foreign(url)
    return f"{base}{CALLBACK_PATH}****{token[-4:]}" if len(token) > 8 else f"{base}{CALLBACK_PATH}****"


def _foreign(url: str) -> str:
    """Someone else's callback: where it goes, not its path (which may hold that receiver's secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.scheme and parts.netloc else "(an unreadable URL)"


def retry_hint(tenant_id: str, verb: str = "register") -> str:
    return (f"to {verb} it: bridge tenants verify {tenant_id} --register-callback "
            f"(or POST /admin/v1/tenants/{tenant_id}/verify?register_callback=true)")


def callback_target(tenant: Tenant, keyring: Keyring, public_url: str | None, *,
                    registering: bool) -> CallbackTarget | None:
    """Where Kill Bill must post for ``tenant``; None when there is nothing to check (no public URL).

    Registering gives a tenant without a callback token a new one (the caller's transaction stores it).
    """
    tenant_id = tenant.kb_tenant_id
    if not public_url:
        if not registering:
            return None
        return CallbackTarget(tenant_id, None, "BRIDGE_PUBLIC_URL is not set, so the bridge cannot tell Kill Bill "
                                               "where to post; set it to the address Kill Bill reaches the "
                                               "bridge at")
    token = callback_token(tenant, keyring)
    if token is None:
        if not registering:
            return CallbackTarget(tenant_id, None, f"the tenant has no callback token yet; {retry_hint(tenant_id)}")
        token = new_callback_token(tenant, keyring)
    register_secret(token)
    return CallbackTarget(tenant_id, callback_url(public_url, token))


def _callback_failed(creds: TenantCredentials, action: str, exc: kb.KillBillError) -> Check:
    if isinstance(exc, kb.UnauthorizedError):
        return _failed(CALLBACK_CHECK, f"{action}: Kill Bill refused the tenant's credentials")
    return _failed(CALLBACK_CHECK, f"{action}: {creds.killbill_url}: {exc}")


def check_callback(creds: TenantCredentials, target: CallbackTarget) -> Check:
    """Read-only: is the callback Kill Bill has for the tenant the bridge's?"""
    if target.url is None:
        return _failed(CALLBACK_CHECK, target.problem or "no callback URL")
    client = _killbill_client(creds)
    try:
        current = client.tenants.get_push_callback()
    except kb.KillBillError as exc:
        return _callback_failed(creds, "reading the callback", exc)
    finally:
        client.close()
    if current == target.url:
        return _passed(CALLBACK_CHECK, f"Kill Bill posts the tenant's notifications to {masked_callback_url(current)}")
    if not current:
        return _failed(CALLBACK_CHECK, f"Kill Bill has no push callback for the tenant: the bridge gets no "
                                       f"notifications; {retry_hint(target.tenant_id)}")
    if current.rpartition(CALLBACK_PATH)[2] == target.url.rpartition(CALLBACK_PATH)[2]:
        return _failed(CALLBACK_CHECK, f"Kill Bill posts to {masked_callback_url(current)}, not "
                                       f"{masked_callback_url(target.url)} (BRIDGE_PUBLIC_URL changed?); "
                                       f"{retry_hint(target.tenant_id)}")
    return _failed(CALLBACK_CHECK, f"Kill Bill posts the tenant's notifications elsewhere ({_foreign(current)}), "
                                   f"not to the bridge; {retry_hint(target.tenant_id, 'replace')}")


def register_callback(creds: TenantCredentials, target: CallbackTarget, *, replace: bool = True) -> Check:
    """Register the bridge's callback with Kill Bill; ``replace=False`` leaves another receiver's in place."""
    if target.url is None:
        return _failed(CALLBACK_CHECK, target.problem or "no callback URL")
    client = _killbill_client(creds)
    try:
        current = client.tenants.get_push_callback()
        if current and current != target.url and not replace:
            return _failed(CALLBACK_CHECK, f"Kill Bill already posts the tenant's notifications elsewhere "
                                           f"({_foreign(current)}) and keeps one callback per tenant, so it was left "
                                           f"as is; {retry_hint(target.tenant_id, 'replace')}")
        registered = client.tenants.register_push_callback(
            target.url, reason="hyperswitch-bridge", comment="push notifications to the Hyperswitch bridge").value
    except kb.KillBillError as exc:
        return _callback_failed(creds, "registering the callback", exc)
    finally:
        client.close()
    if registered != target.url:
        return _failed(CALLBACK_CHECK, "Kill Bill did not keep the callback it was given")
    replaced = f" (replacing {_foreign(current)})" if current and current != target.url else ""
    return _passed(CALLBACK_CHECK, f"registered: Kill Bill posts the tenant's notifications to "
                                   f"{masked_callback_url(registered)}{replaced}")


def register_on_add(creds: TenantCredentials, target: CallbackTarget | None, *, requested: bool) -> CallbackOutcome:
    """`tenants add`: register the callback once the mapping is stored; a failure only reports."""
    tenant_id = creds.kb_tenant_id
    if not requested:
        return CallbackOutcome(status="skipped", detail=f"not registered, as asked; {retry_hint(tenant_id)}")
    if target is None or target.url is None:
        problem = target.problem if target is not None else "no callback URL"
        return CallbackOutcome(status="skipped", detail=f"not registered: {problem}; {retry_hint(tenant_id)}")
    check = register_callback(creds, target, replace=False)
    if check.status == "pass":
        return CallbackOutcome(status="registered", detail=check.detail)
    detail = check.detail if "to replace it:" in check.detail else f"{check.detail}; {retry_hint(tenant_id)}"
    return CallbackOutcome(status="failed", detail=f"the mapping is stored, but the callback is not registered: "
                                                   f"{detail}")


def verify_tenant(creds: TenantCredentials, callback: CallbackTarget | None = None, *,
                  register: bool = False) -> VerifyReport:
    """Every check; with ``callback``, also the push callback (registered first when ``register``)."""
    checks = _hyperswitch_checks(creds) + _killbill_checks(creds)
    if callback is not None:
        if any(c.status != "pass" for c in checks if c.name.startswith("kill bill")):
            checks.append(Check(name=CALLBACK_CHECK, status="skip", detail="needs the Kill Bill tenant and secret"))
        elif register:
            checks.append(register_callback(creds, callback))
        else:
            checks.append(check_callback(creds, callback))
    return VerifyReport(kb_tenant_id=creds.kb_tenant_id, ok=all(c.ok for c in checks), checks=checks)
