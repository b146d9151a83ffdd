"""Tenant and tenant key-value models."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from killbill_client.models.base import AuditLog, KillBillModel


class Tenant(KillBillModel):
    tenant_id: UUID | None = None
    external_key: str | None = None
    api_key: str | None = None
    # Kill Bill never returns the secret (GET answers null).
    api_secret: str | None = None
    audit_logs: list[AuditLog] | None = None


class TenantKeyValue(KillBillModel):
    key: str | None = None
    values: list[str] = Field(default_factory=list)
    audit_logs: list[AuditLog] | None = None

    @property
    def value(self) -> str | None:
        """Single-valued keys (plugin config, push callback) hold at most one value."""
        return self.values[-1] if self.values else None
