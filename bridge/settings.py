"""Typed settings: ``BRIDGE_*`` environment variables over an optional TOML file.

The TOML file is ``$BRIDGE_CONFIG`` if set, else ``bridge.toml`` in the working directory if present.
``config/bridge.example.toml`` documents every setting. A wrong value, an unknown key in the file or a
``BRIDGE_*`` variable that names no setting (a misspelling would otherwise be ignored) stops the process
with one line naming it (:func:`load_settings`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AnyHttpUrl, BeforeValidator, Field, SecretStr, ValidationError, ValidationInfo,
                      field_validator, model_validator)
from pydantic_settings import (BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict,
                               TomlConfigSettingsSource)

from bridge.edges.buckets import Rate
from bridge.edges.urls import UnsafeUrl, UrlPolicy, parse_internal_hosts
from bridge.errors import ConfigError

ENV_PREFIX = "BRIDGE_"
# A rate limit written as "60/minute" (also /second, /hour): that many at once, refilled evenly.
RateSetting = Annotated[Rate, NoDecode, BeforeValidator(lambda v: Rate.parse(v) if isinstance(v, str) else v)]
CONFIG_FILE_ENV = "BRIDGE_CONFIG"
DEFAULT_CONFIG_FILE = "bridge.toml"
# The project's BRIDGE_* variables that are not settings; any other BRIDGE_* variable must name a setting.
NON_SETTING_VARIABLES = frozenset({
    CONFIG_FILE_ENV,
    "BRIDGE_DB_PASSWORD",  # docker-compose.yml, .env
    "BRIDGE_AUDIT_OSV_URL", "BRIDGE_AUDIT_REQUIRED",  # scripts/audit-dependencies
    "BRIDGE_M2_REPO",  # scripts/build-plugin, scripts/killbill-server
    "BRIDGE_PG_DIR", "BRIDGE_PG_PORT",  # scripts/test-postgres
    # scripts/killbill-server and tests/killbill_server
    "BRIDGE_KB_DIR", "BRIDGE_KB_PORT", "BRIDGE_KB_SHUTDOWN_PORT", "BRIDGE_KB_PG_PORT", "BRIDGE_KB_VERSION",
    "BRIDGE_TOMCAT_VERSION", "BRIDGE_KB_START_TIMEOUT", "BRIDGE_KB_PLUGIN_JAR", "BRIDGE_KB_KEEP",
})
NON_SETTING_PREFIXES = (
    "BRIDGE_TENANT_",  # tenant secrets of `bridge tenants add|update` (bridge/cli.py)
    "BRIDGE_TEST_",  # the test suite (tests/conftest.py, scripts/run-tests)
)


def _config_file() -> Path | None:
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_FILE_ENV}: no such file: {path}")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", case_sensitive=False,
                                      validate_default=True)

    # -- storage ----------------------------------------------------------------------------------
    database_url: str = Field("sqlite:///bridge.db", description="SQLAlchemy URL; SQLite file by default")
    auto_migrate: bool | None = Field(
        None, description="apply migrations on start; default: only on SQLite (the embedded default)")

    # -- web --------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=1, le=65535)
    # The URLs tenants (and public_url) may name; validated before public_url, which they govern.
    allow_http_loopback: bool = Field(
        False, description="development only: tenant and public URLs may be http to loopback (simulators)")
    allowed_internal_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="host names, addresses or networks (CIDR) inside the deployment that "
                                          "tenant URLs may name, over http or https (self-hosted Kill Bill)")
    public_url: AnyHttpUrl | None = Field(None, description="base of links in emails; default http://host:port")
    web_workers: int | None = Field(None, ge=1, le=64, description="gunicorn workers; default 2 × CPUs + 1")
    web_threads: int = Field(4, ge=1, le=64)
    web_timeout_seconds: int = Field(
        20, ge=5, le=28, description="gunicorn worker timeout; must stay below Kill Bill's 30 s plugin timeout")
    max_request_bytes: int = Field(1_048_576, ge=1024)
    proxy_hops: int = Field(
        0, ge=0, le=5, description="reverse proxies in front of the bridge whose X-Forwarded-For/-Proto to trust")

    # -- edges: inbound rate limits ---------------------------------------------------------------
    limit_pay_per_address: RateSetting = Field(
        Rate.parse("60/minute"), description="payor pages (/pay) per client address")
    limit_pay_per_token: RateSetting = Field(Rate.parse("30/minute"), description="payor pages per pay link token")
    limit_admin_per_address: RateSetting = Field(
        Rate.parse("600/minute"), description="admin API per client address, counted before the token is checked")
    limit_webhooks_per_address: RateSetting = Field(
        Rate.parse("6000/minute"), description="webhook endpoints per client address: a ceiling, not a quota")

    # -- secrets ----------------------------------------------------------------------------------
    master_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Fernet keys, comma-separated, newest first")
    master_key_file: Path = Field(Path(".bridge-master.key"),
                                  description="development key file, used only when master_keys is empty")
    admin_token: SecretStr | None = Field(None, description="bearer token of /admin/v1; admin API off when unset")
    plugin_shared_secret: SecretStr | None = Field(None, description="X-Bridge-Signature secret of the Java plugin")

    # -- Hyperswitch ------------------------------------------------------------------------------
    hyperswitch_connect_timeout_seconds: float = Field(3.05, gt=0, le=30)
    hyperswitch_read_timeout_seconds: float = Field(10.0, gt=0, le=25)
    hyperswitch_deadline_seconds: float = Field(
        20.0, gt=0, le=25, description="a whole Hyperswitch call, retries included; below Kill Bill's 30 s")
    hyperswitch_requests_per_second: float = Field(
        50.0, gt=0, le=10_000, description="pacing per Hyperswitch merchant (hosted limit: 80/s); tenants may override")
    hyperswitch_burst: int = Field(20, ge=1, le=10_000, description="requests sent at once after a quiet while")
    hyperswitch_breaker_failures: int = Field(
        10, ge=1, le=1000, description="failed attempts in a row (no connection, timeout, 5xx) that open the circuit")
    hyperswitch_breaker_open_seconds: float = Field(
        30.0, gt=0, le=3600, description="how long an open circuit refuses calls before one probe")

    # -- email ------------------------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120)
    templates_dir: Path | None = Field(
        None, description="per-tenant overrides of payor emails: <dir>/<kb_tenant_id>/email/<kind>.*")

    # -- jobs -------------------------------------------------------------------------------------
    worker_poll_seconds: float = Field(1.0, gt=0, le=60)
    worker_concurrency: int = Field(
        4, ge=1, le=64, description="jobs one `bridge worker` process runs at once, a thread each (they mostly "
        "wait on Kill Bill, Hyperswitch and SMTP); the database's connections must cover them")
    job_lease_seconds: int = Field(300, ge=5, le=86_400)
    job_max_attempts: int = Field(12, ge=1, le=100)
    job_backoff_base_seconds: float = Field(5.0, gt=0)
    job_backoff_max_seconds: float = Field(3600.0, gt=0)

    # -- logging ----------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("master_keys", "allowed_internal_hosts", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("allowed_internal_hosts")
    @classmethod
    def _internal_hosts(cls, value: list[str]) -> list[str]:
        parse_internal_hosts(value)
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> "Settings":
        if self.job_backoff_max_seconds < self.job_backoff_base_seconds:
            raise ValueError("job_backoff_max_seconds must be at least job_backoff_base_seconds")
        return self

    @field_validator("public_url")
    @classmethod
    def _public_url_is_safe(cls, value: AnyHttpUrl | None, info: ValidationInfo) -> AnyHttpUrl | None:
        # Kill Bill posts push notifications (token in the URL) and payors follow links to this address.
        if value is not None and "allowed_internal_hosts" in info.data:
            names, networks = parse_internal_hosts(info.data["allowed_internal_hosts"])
            policy = UrlPolicy(bool(info.data.get("allow_http_loopback")), names, networks)
            try:
                policy.check(str(value), what="public_url", resolve_names=False)
            except UnsafeUrl as exc:
                raise ValueError(exc.detail.removeprefix("public_url: ")) from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def migrate_on_start(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @property
    def base_url(self) -> str:
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        return f"http://{self.host}:{self.port}"

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def _setting_name(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "configuration"
    return ENV_PREFIX + str(loc[0]).upper()


def check_environment(environ: Mapping[str, str]) -> None:
    """:class:`ConfigError` for a ``BRIDGE_*`` variable that is neither a setting nor one of the project's
    other variables, with the closest setting's name when there is one. Case is ignored, as for settings."""
    settings = sorted(name.upper() for name in Settings.model_fields)
    for variable in sorted(environ):
        name = variable.upper()
        if (not name.startswith(ENV_PREFIX) or name.removeprefix(ENV_PREFIX) in settings
                or name in NON_SETTING_VARIABLES or name.startswith(NON_SETTING_PREFIXES)):
            continue
        # Compared without the prefix every name shares, which would make anything look close.
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), settings, n=1)
        raise ConfigError(f"{variable}: no such setting"
                          + (f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""))


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and TOML file; :class:`ConfigError` with one clear line if wrong."""
    check_environment(os.environ)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{_setting_name(first['loc'])}: {message}{extra}") from None
    except ValueError as exc:  # e.g. an unreadable TOML file
        raise ConfigError(f"configuration: {exc}") from None
