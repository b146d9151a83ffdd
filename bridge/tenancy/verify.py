"""`bridge tenants verify`: check a tenant's credentials against the live services, one line per check."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from bridge.tenancy.service import TenantCredentials


class Check(BaseModel):
    name: str
    ok: bool
    detail: str


class VerifyReport(BaseModel):
    kb_tenant_id: str
    ok: bool
    checks: list[Check]


def verify_tenant(creds: TenantCredentials, *, timeout_seconds: float = 10.0) -> VerifyReport:
    checks = [run(creds, timeout_seconds) for run in CHECKS]
    return VerifyReport(kb_tenant_id=creds.kb_tenant_id, ok=all(c.ok for c in checks), checks=checks)


CHECKS: list[Callable[[TenantCredentials, float], Check]] = []
