"""What code acting for one tenant needs: its credentials and settings, storage, clients and a clock.

Built by :meth:`bridge.runtime.Runtime.tenant_env`; clients are cached per tenant and version of its
mapping, so connections are reused across requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bridge.tenancy.schemas import TenantSettings
from bridge.tenancy.service import TenantCredentials
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient


@dataclass(frozen=True)
class TenantEnv:
    creds: TenantCredentials
    settings: TenantSettings
    sessions: sessionmaker[Session]
    hyperswitch: HyperswitchClient
    killbill: KillBillClient
    clock: Callable[[], datetime]
    public_url: str

    @property
    def tenant_id(self) -> str:
        return self.creds.kb_tenant_id

    def now(self) -> datetime:
        return self.clock()
