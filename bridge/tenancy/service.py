"""Operations on the tenant mapping, shared by the command line and the admin API."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr, ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.db.tenancy import SECRET_COLUMNS, Tenant
from bridge.edges.urls import UrlPolicy
from bridge.errors import BadRequest, Conflict, NotFound
from bridge.tenancy.crypto import Keyring
from bridge.tenancy.schemas import TenantCreate, TenantSettings, TenantUpdate, TenantView, mask

# field in TenantCreate/TenantUpdate → encrypted column
_SECRET_FIELDS = {column.removesuffix("_encrypted"): column for column in SECRET_COLUMNS}
_URL_FIELDS = ("killbill_url", "hs_base_url", "messaging_base_url")


class UnknownTenant(NotFound):
    error = "unknown_tenant"


class DuplicateTenant(Conflict):
    error = "duplicate_tenant"


@dataclass(frozen=True)
class TenantCredentials:
    """A tenant's decrypted secrets, for the clients; never logged (values are registered for redaction)."""

    kb_tenant_id: str
    killbill_url: str
    kb_api_key: str
    kb_api_secret: str
    kb_username: str
    kb_password: str
    hs_base_url: str
    hs_merchant_id: str
    hs_profile_id: str
    hs_api_key: str
    hs_publishable_key: str | None
    hs_webhook_secret: str
    plugin_shared_secret: str | None
    messaging_base_url: str | None = None
    messaging_account_sid: str | None = None
    messaging_auth_token: str | None = None

    def __repr__(self) -> str:
        return f"TenantCredentials({self.kb_tenant_id!r})"


def _apply_fields(tenant: Tenant, fields: dict[str, Any], keyring: Keyring) -> None:
    for name, value in fields.items():
        if name in _SECRET_FIELDS:
            secret = value.get_secret_value() if isinstance(value, SecretStr) else value
            setattr(tenant, _SECRET_FIELDS[name], None if secret is None else keyring.encrypt(secret))
        elif name in _URL_FIELDS:
            setattr(tenant, name, None if value is None else str(value).rstrip("/"))
        else:
            setattr(tenant, name, value)


def _check_urls(fields: dict[str, Any], urls: UrlPolicy | None) -> None:
    """Tenant URLs are called with the tenant's credentials: only where the deployment allows (edges.urls).

    ``urls`` is the caller's policy (the admin API passes its runtime's); by default the deployment's.
    """
    named = {name: fields[name] for name in _URL_FIELDS if fields.get(name) is not None}
    if not named:
        return
    policy = urls or UrlPolicy.from_environment()
    for name, url in named.items():
        policy.check(str(url), what=name)


def create_tenant(session: Session, data: TenantCreate, keyring: Keyring, *, urls: UrlPolicy | None = None) -> Tenant:
    tenant_id = str(data.kb_tenant_id)
    _check_urls(data.model_dump(include=set(_URL_FIELDS)), urls)
    _refuse_duplicates(session, tenant_id, data.kb_api_key, data.hs_merchant_id, data.hs_profile_id)
    tenant = Tenant(kb_tenant_id=tenant_id, settings=data.settings.model_dump(mode="json"))
    _apply_fields(tenant, data.model_dump(exclude={"kb_tenant_id", "settings"}), keyring)
    new_callback_token(tenant, keyring)
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError:  # a concurrent create won the race
        raise DuplicateTenant(f"tenant {tenant_id} or its keys are already mapped") from None
    return tenant


def _refuse_duplicates(session: Session, tenant_id: str, kb_api_key: str, merchant_id: str, profile_id: str,
                       *, updating: bool = False) -> None:
    """Explain a clash before the unique constraints would refuse it."""
    if not updating and session.get(Tenant, tenant_id) is not None:
        raise DuplicateTenant(f"tenant {tenant_id} is already mapped")
    query = select(Tenant).where(
        Tenant.kb_tenant_id != tenant_id,
        or_(Tenant.kb_api_key == kb_api_key,
            and_(Tenant.hs_merchant_id == merchant_id, Tenant.hs_profile_id == profile_id)))
    clash = session.scalars(query).first()
    if clash is None:
        return
    if clash.kb_api_key == kb_api_key:
        raise DuplicateTenant(f"Kill Bill API key {kb_api_key!r} is already mapped to tenant {clash.kb_tenant_id}")
    raise DuplicateTenant(f"Hyperswitch merchant {merchant_id} profile {profile_id} is already mapped "
                          f"to tenant {clash.kb_tenant_id}")


def new_callback_token(tenant: Tenant, keyring: Keyring) -> str:
    """A fresh random token for the tenant's Kill Bill push callback URL (the old URL stops working)."""
    token = secrets.token_urlsafe(32)
    tenant.kb_callback_token_hash = callback_token_hash(token)
    tenant.kb_callback_token_encrypted = keyring.encrypt(token)
    return token


def callback_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def callback_token(tenant: Tenant, keyring: Keyring) -> str | None:
    token = tenant.kb_callback_token_encrypted
    return keyring.decrypt(token) if token else None


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise UnknownTenant(f"no tenant {tenant_id}")
    return tenant


def mapping_version(session: Session, tenant_id: str) -> datetime:
    """When the tenant's mapping last changed (raises UnknownTenant): what caches of it are keyed by."""
    version = session.scalar(select(Tenant.updated_at).where(Tenant.kb_tenant_id == tenant_id))
    if version is None:
        raise UnknownTenant(f"no tenant {tenant_id}")
    return version


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.name, Tenant.kb_tenant_id)))


def update_tenant(session: Session, tenant_id: str, patch: TenantUpdate, keyring: Keyring, *,
                  urls: UrlPolicy | None = None) -> Tenant:
    tenant = get_tenant(session, tenant_id)
    fields = patch.model_dump(exclude_unset=True, exclude={"settings"})
    _check_urls(fields, urls)
    _refuse_duplicates(session, tenant_id, fields.get("kb_api_key", tenant.kb_api_key),
                       fields.get("hs_merchant_id", tenant.hs_merchant_id),
                       fields.get("hs_profile_id", tenant.hs_profile_id), updating=True)
    if patch.settings is not None:
        tenant.settings = merge_settings(tenant.settings, patch.settings).model_dump(mode="json")
    _apply_fields(tenant, fields, keyring)
    session.flush()
    return tenant


def merge_settings(current: dict[str, Any], patch: dict[str, Any]) -> TenantSettings:
    merged = _deep_merge(current, patch)
    try:
        return TenantSettings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadRequest(f"settings.{where}: {first['msg']}", error="invalid_settings") from None


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def remove_tenant(session: Session, tenant_id: str) -> None:
    session.delete(get_tenant(session, tenant_id))
    session.flush()


def credentials(tenant: Tenant, keyring: Keyring) -> TenantCredentials:
    shared, messaging = tenant.plugin_shared_secret_encrypted, tenant.messaging_auth_token_encrypted
    return TenantCredentials(
        kb_tenant_id=tenant.kb_tenant_id, killbill_url=tenant.killbill_url, kb_api_key=tenant.kb_api_key,
        kb_api_secret=keyring.decrypt(tenant.kb_api_secret_encrypted), kb_username=tenant.kb_username,
        kb_password=keyring.decrypt(tenant.kb_password_encrypted), hs_base_url=tenant.hs_base_url,
        hs_merchant_id=tenant.hs_merchant_id, hs_profile_id=tenant.hs_profile_id,
        hs_api_key=keyring.decrypt(tenant.hs_api_key_encrypted), hs_publishable_key=tenant.hs_publishable_key,
        hs_webhook_secret=keyring.decrypt(tenant.hs_webhook_secret_encrypted),
        plugin_shared_secret=keyring.decrypt(shared) if shared else None,
        messaging_base_url=tenant.messaging_base_url, messaging_account_sid=tenant.messaging_account_sid,
        messaging_auth_token=keyring.decrypt(messaging) if messaging else None)


def view(tenant: Tenant, keyring: Keyring) -> TenantView:
    creds = credentials(tenant, keyring)
    return TenantView(
        kb_tenant_id=tenant.kb_tenant_id, name=tenant.name, killbill_url=tenant.killbill_url,
        kb_api_key=tenant.kb_api_key, kb_api_secret=mask(creds.kb_api_secret), kb_username=tenant.kb_username,
        kb_password=mask(creds.kb_password), hs_base_url=tenant.hs_base_url, hs_merchant_id=tenant.hs_merchant_id,
        hs_profile_id=tenant.hs_profile_id, hs_api_key=mask(creds.hs_api_key),
        hs_publishable_key=tenant.hs_publishable_key, hs_webhook_secret=mask(creds.hs_webhook_secret),
        plugin_shared_secret=mask(creds.plugin_shared_secret), messaging_base_url=tenant.messaging_base_url,
        messaging_account_sid=tenant.messaging_account_sid, messaging_auth_token=mask(creds.messaging_auth_token),
        settings=TenantSettings.model_validate(tenant.settings),
        created_at=tenant.created_at, updated_at=tenant.updated_at)


def rotate_secrets(session: Session, keyring: Keyring) -> int:
    """Re-encrypt every stored secret under the newest master key; returns how many were rewritten."""
    rewritten = 0
    for tenant in session.scalars(select(Tenant).with_for_update()):
        for column in SECRET_COLUMNS:
            token = getattr(tenant, column)
            if token:
                setattr(tenant, column, keyring.rotate(token))
                rewritten += 1
    session.flush()
    return rewritten
