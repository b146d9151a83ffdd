"""The process-wide pieces every entry point needs, built once from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge.db import make_engine, make_session_factory
from bridge.db import migrate
from bridge.logs import register_secret
from bridge.settings import Settings
from bridge.tenancy.crypto import Keyring, keyring_from_settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        for secret in (settings.admin_token, settings.plugin_shared_secret, settings.smtp_password):
            if secret is not None:
                register_secret(secret.get_secret_value())
        engine = make_engine(settings.database_url)
        keyring = keyring_from_settings([k.get_secret_value() for k in settings.master_keys],
                                        settings.master_key_file)
        return cls(settings, engine, make_session_factory(engine), keyring)

    def migrate_if_configured(self) -> None:
        if self.settings.migrate_on_start and not migrate.is_current(self.engine):
            log.info("applying database migrations")
            migrate.upgrade(self.engine)
