"""Secrets at rest: encrypted in every column and dump, and re-encrypted by `bridge keys rotate`."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bridge.cli import cli
from bridge.db.engine import session_scope
from bridge.db.tenancy import SECRET_COLUMNS, Tenant
from bridge.tenancy import service
from bridge.tenancy.crypto import Keyring, SecretDecryptionError
from bridge.tenancy.schemas import TenantCreate
from tests.conftest import MASTER_KEY, on_postgres
from tests.foundation.factories import SECRETS, tenant_payload

# The messaging provider of SMS and WhatsApp: its auth token is a secret like the others.
MESSAGING_TOKEN = "msgtoken-5e4d3c2b1a0f9e8d"
MESSAGING = {"messaging_base_url": "http://127.0.0.1:9090", "messaging_account_sid": "AC0123456789abcdef",
             "messaging_auth_token": MESSAGING_TOKEN}


def _database_dump(runtime) -> str:  # type: ignore[no-untyped-def]
    url = runtime.engine.url
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as conn:
            return "\n".join(conn.iterdump())
    result = subprocess.run(["pg_dump", "--data-only", "-h", url.host, "-p", str(url.port), "-U", url.username,
                             url.database], capture_output=True, text=True, check=True, timeout=60)
    return result.stdout


def _create(runtime, keyring=None) -> Tenant:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return service.create_tenant(session, TenantCreate.model_validate(tenant_payload(**MESSAGING)),
                                     keyring or runtime.keyring)


def test_no_secret_in_plain_text_in_rows_or_dump(runtime) -> None:
    tenant = _create(runtime)
    with runtime.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM tenants")).mappings().one()
    raw = " ".join(str(value) for value in row.values())
    dump = _database_dump(runtime)
    assert tenant.kb_tenant_id in dump  # the dump is real
    for secret in [*SECRETS.values(), MESSAGING_TOKEN]:
        assert secret not in raw
        assert secret not in dump
    for column in SECRET_COLUMNS:
        assert row[column].startswith("gAAAAA")  # a Fernet token
    with session_scope(runtime.sessions) as session:
        creds = service.credentials(session.get(Tenant, tenant.kb_tenant_id), runtime.keyring)
    assert creds.hs_api_key == SECRETS["hs_api_key"]
    assert creds.hs_webhook_secret == SECRETS["hs_webhook_secret"]
    assert creds.messaging_auth_token == MESSAGING_TOKEN
    assert SECRETS["hs_api_key"] not in repr(creds) and MESSAGING_TOKEN not in repr(creds)
    with session_scope(runtime.sessions) as session:
        shown = service.view(session.get(Tenant, tenant.kb_tenant_id), runtime.keyring)
    assert shown.messaging_auth_token == "****" + MESSAGING_TOKEN[-4:]
    assert shown.messaging_account_sid == MESSAGING["messaging_account_sid"]


def test_rotation_with_two_keys(runtime, cli_env) -> None:
    old_ring = Keyring([MASTER_KEY])
    tenant = _create(runtime, old_ring)
    with runtime.engine.connect() as conn:
        before = conn.execute(text("SELECT hs_api_key_encrypted FROM tenants")).scalar_one()

    new_key = Fernet.generate_key().decode()
    result = CliRunner().invoke(cli, ["keys", "rotate"],
                                env={**cli_env, "BRIDGE_MASTER_KEYS": f"{new_key},{MASTER_KEY}"})
    assert result.exit_code == 0, result.output
    assert "re-encrypted 7 secret(s)" in result.stdout  # six credentials and the callback token

    with runtime.engine.connect() as conn:
        after = conn.execute(text("SELECT hs_api_key_encrypted FROM tenants")).scalar_one()
    assert after != before
    new_only = Keyring([new_key])
    assert new_only.decrypt(after) == SECRETS["hs_api_key"]  # the old key is no longer needed
    with session_scope(runtime.sessions) as session:
        stored = session.scalars(select(Tenant)).one()
        assert service.credentials(stored, new_only).kb_password == SECRETS["kb_password"]
        assert service.credentials(stored, new_only).messaging_auth_token == MESSAGING_TOKEN
        assert stored.kb_tenant_id == tenant.kb_tenant_id


def test_rotation_refuses_without_configured_keys(cli_env) -> None:
    env = {k: v for k, v in cli_env.items() if k != "BRIDGE_MASTER_KEYS"}
    result = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert result.exit_code == 2
    assert "BRIDGE_MASTER_KEYS: set it" in result.output


def test_unknown_key_cannot_read_secrets(runtime) -> None:
    tenant = _create(runtime)
    stranger = Keyring([Fernet.generate_key().decode()])
    with session_scope(runtime.sessions) as session:
        stored = session.get(Tenant, tenant.kb_tenant_id)
        with pytest.raises(SecretDecryptionError) as excinfo:
            service.credentials(stored, stranger)
    assert SECRETS["kb_api_secret"] not in str(excinfo.value)


def test_backend_under_test_is_the_one_configured(runtime) -> None:
    assert (runtime.engine.url.get_backend_name() == "postgresql") == on_postgres()
