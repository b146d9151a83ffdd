"""The process-wide pieces every entry point needs, built once from settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge.db import make_engine, make_session_factory
from bridge.db import migrate
from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.edges.buckets import Rate
from bridge.logs import register_secret
from bridge.settings import Settings
from bridge.tenancy.clients import AuditWriter, hyperswitch_client, killbill_client
from bridge.tenancy.crypto import Keyring, keyring_from_settings
from bridge.tenancy.env import TenantEnv
from bridge.tenancy.schemas import PacingSettings, TenantSettings
from bridge.tenancy.service import TenantCredentials, credentials, get_tenant, mapping_version
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient

if TYPE_CHECKING:
    from bridge.edges.guards import Edges

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring
    _audit: AuditWriter | None = field(default=None, repr=False)
    _edges: "Edges | None" = field(default=None, repr=False)
    clock: Callable[[], datetime] = utcnow
    _envs: dict[tuple[str, datetime], TenantEnv] = field(default_factory=dict, repr=False)
    _envs_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        for secret in (settings.admin_token, settings.plugin_shared_secret, settings.smtp_password):
            if secret is not None:
                register_secret(secret.get_secret_value())
        # Each web thread or job loop may hold two connections at once (its transaction and a short one).
        engine = make_engine(settings.database_url,
                             pool_size=max(5, 2 * max(settings.web_threads, settings.worker_concurrency)))
        keyring = keyring_from_settings([k.get_secret_value() for k in settings.master_keys],
                                        settings.master_key_file)
        return cls(settings, engine, make_session_factory(engine), keyring)

    @property
    def audit(self) -> AuditWriter:
        """The process's writer of the Hyperswitch call trail (started on first use)."""
        if self._audit is None:
            self._audit = AuditWriter(self.sessions)
        return self._audit

    @property
    def edges(self) -> "Edges":
        """The process's pacing buckets, circuit breakers and URL policy (built on first use)."""
        if self._edges is None:
            # Imported here: the edges' metrics must be created after `bridge serve` sets up
            # gunicorn's multiprocess metrics directory, and the runtime is built before that.
            from bridge.edges.guards import Edges

            self._edges = Edges.from_settings(self.settings)
        return self._edges

    def hyperswitch(self, creds: TenantCredentials, pacing: PacingSettings | None = None,
                    **options: Any) -> HyperswitchClient:
        """A client of the tenant's merchant, paced (the tenant's ``pacing`` or the deployment's) and behind
        the circuit breaker of its base URL."""
        settings = self.settings
        options.setdefault("connect_timeout", settings.hyperswitch_connect_timeout_seconds)
        options.setdefault("read_timeout", settings.hyperswitch_read_timeout_seconds)
        options.setdefault("deadline", settings.hyperswitch_deadline_seconds)
        if "pacer" not in options:
            rate = None
            if pacing is not None and (pacing.requests_per_second or pacing.burst):
                rate = Rate(pacing.requests_per_second or settings.hyperswitch_requests_per_second,
                            pacing.burst or settings.hyperswitch_burst)
            options["pacer"] = self.edges.pacer(creds.hs_base_url, creds.hs_merchant_id, rate)
        options.setdefault("breaker", self.edges.breakers.for_url(creds.hs_base_url))
        return hyperswitch_client(creds, self.audit, **options)

    def reset_clients(self) -> None:
        """Forget cached tenant environments (after a settings change); the next call rebuilds them."""
        with self._envs_lock:
            self._envs.clear()

    def killbill(self, creds: TenantCredentials, **options: Any) -> KillBillClient:
        return killbill_client(creds, **options)

    def tenant_env(self, kb_tenant_id: str) -> TenantEnv:
        """The tenant's environment; raises UnknownTenant. Rebuilt when the mapping changes: every call reads
        the mapping's version (one column), the row itself only when that version is not cached."""
        with session_scope(self.sessions) as session:
            version = mapping_version(session, kb_tenant_id)
        cached = self._envs.get((kb_tenant_id, version))
        if cached is not None:
            return cached
        with session_scope(self.sessions) as session:
            tenant = get_tenant(session, kb_tenant_id)
            key = (tenant.kb_tenant_id, tenant.updated_at)
            cached = self._envs.get(key)
            if cached is not None:
                return cached
            creds = credentials(tenant, self.keyring)
            settings = TenantSettings.model_validate(tenant.settings)
        env = TenantEnv(creds=creds, settings=settings, sessions=self.sessions, hyperswitch=self.hyperswitch(creds, settings.pacing),
                        killbill=self.killbill(creds), clock=self.clock, public_url=self.settings.base_url)
        with self._envs_lock:
            # The previous version may still serve a request in flight; it is dropped, not closed.
            for stale in [k for k in self._envs if k[0] == key[0]]:
                del self._envs[stale]
            self._envs[key] = env
        return env

    def migrate_if_configured(self) -> None:
        if self.settings.migrate_on_start and not migrate.is_current(self.engine):
            log.info("applying database migrations")
            migrate.upgrade(self.engine)
