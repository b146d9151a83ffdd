"""`bridge tenants verify`: check a tenant's credentials against the live services, one line per check.

Each check says what it proved. A check that depends on an earlier one that failed is reported as
skipped rather than failing for the same reason twice.
"""

from __future__ import annotations

import hmac
from typing import Literal

from pydantic import BaseModel

import hyperswitch_client as hs
import killbill_client as kb
from bridge.tenancy.service import TenantCredentials
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
    client = hs.HyperswitchClient(creds.hs_base_url, creds.hs_api_key, profile_id=creds.hs_profile_id,
                                  deadline=VERIFY_TIMEOUT_SECONDS)
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


def _killbill_checks(creds: TenantCredentials) -> list[Check]:
    client = kb.KillBillClient(creds.killbill_url, username=creds.kb_username, password=creds.kb_password,
                               api_key=creds.kb_api_key, api_secret=creds.kb_api_secret,
                               timeout=VERIFY_TIMEOUT_SECONDS)
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


def verify_tenant(creds: TenantCredentials) -> VerifyReport:
    checks = _hyperswitch_checks(creds) + _killbill_checks(creds)
    return VerifyReport(kb_tenant_id=creds.kb_tenant_id, ok=all(c.ok for c in checks), checks=checks)
