"""The name payors know the biller by, on the payor pages."""

from __future__ import annotations

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.tenancy import Tenant
from bridge.tenancy.env import TenantEnv


def merchant_name(env: TenantEnv) -> str:
    """The tenant's email brand name, else its name in the bridge."""
    if env.settings.email.brand_name:
        return env.settings.email.brand_name
    with session_scope(env.sessions) as session:
        return session.scalars(select(Tenant.name).where(Tenant.kb_tenant_id == env.tenant_id)).one()
