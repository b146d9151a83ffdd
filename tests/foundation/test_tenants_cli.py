"""`bridge tenants …`: the mapping from the command line; secrets never on argv, never echoed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from tests.foundation.factories import SECRETS


@pytest.fixture
def bridge(cli_env: dict[str, str]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={**cli_env, **(env or {})}, input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def secret_env() -> dict[str, str]:
    return {f"BRIDGE_TENANT_{name.upper()}": value for name, value in SECRETS.items()}


def _add_args(tenant_id: str, suffix: str = "one") -> list[str]:
    return ["tenants", "add", "--tenant-id", tenant_id, "--name", f"Tenant {suffix}",
            "--killbill-url", "http://127.0.0.1:8080", "--kb-api-key", f"key-{suffix}", "--kb-username", "admin",
            "--hs-base-url", "http://127.0.0.1:9080", "--merchant-id", f"merchant_{suffix}",
            "--profile-id", f"pro_{suffix}", "--email-sender", "billing@tenant.test"]


def test_add_list_show_update_remove(bridge, secret_env) -> None:
    tenant_id = str(uuid.uuid4())
    added = bridge(*_add_args(tenant_id), "--json", env=secret_env)
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert data["kb_tenant_id"] == tenant_id
    assert data["settings"]["email"]["sender"] == "billing@tenant.test"
    for value in SECRETS.values():
        assert value not in added.output

    listed = bridge("tenants", "list")
    assert listed.exit_code == 0
    header, rule, row = listed.stdout.splitlines()
    assert header.split() == ["TENANT", "NAME", "MERCHANT", "PROFILE", "KILL", "BILL", "HYPERSWITCH"]
    assert tenant_id in row and "merchant_one" in row

    shown = bridge("tenants", "show", tenant_id)
    assert "hs_api_key" in shown.output and "****" + SECRETS["hs_api_key"][-4:] in shown.output
    assert SECRETS["hs_api_key"] not in shown.output

    updated = bridge("tenants", "update", tenant_id, "--name", "Renamed", "--brand-name", "Renamed Co", "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["name"] == "Renamed"
    assert json.loads(updated.stdout)["settings"]["email"] == {
        "sender": "billing@tenant.test", "reply_to": None, "brand_name": "Renamed Co"}

    removed = bridge("tenants", "remove", tenant_id, "--yes")
    assert removed.exit_code == 0
    assert json.loads(bridge("tenants", "list", "--json").stdout) == []


def test_secrets_from_files_and_hidden_prompt(bridge, tmp_path: Path, secret_env, monkeypatch) -> None:
    key_file = tmp_path / "hs.key"
    key_file.write_text("snd_fromfile_0123456789abcdef\n")
    tenant_id = str(uuid.uuid4())
    env = {k: v for k, v in secret_env.items() if k != "BRIDGE_TENANT_HS_API_KEY"}
    added = bridge(*_add_args(tenant_id), "--hs-api-key-file", str(key_file), "--json", env=env)
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["hs_api_key"] == "****cdef"

    # Replacing a secret interactively: the prompt hides the input.
    monkeypatch.setattr("bridge.cli._interactive", lambda: True)
    updated = bridge("tenants", "update", tenant_id, "--set-secret", "hs_webhook_secret", "--json",
                     input="new-webhook-secret-typed-in\n")
    assert updated.exit_code == 0, updated.output
    assert "new-webhook-secret-typed-in" not in updated.output
    assert json.loads(updated.stdout.split("\n", 1)[1])["hs_webhook_secret"] == "****d-in"


def test_missing_secret_without_terminal_fails_clearly(bridge, secret_env) -> None:
    env = {k: v for k, v in secret_env.items() if k != "BRIDGE_TENANT_KB_PASSWORD"}
    result = bridge(*_add_args(str(uuid.uuid4())), env=env)
    assert result.exit_code == 1
    assert result.output.strip() == ("error: missing secret kb_password: give --kb-password-file, "
                                     "set BRIDGE_TENANT_KB_PASSWORD, or run interactively")


def test_errors_are_one_line_and_non_zero(bridge, secret_env) -> None:
    tenant_id = str(uuid.uuid4())
    assert bridge(*_add_args(tenant_id), env=secret_env).exit_code == 0

    duplicate = bridge(*_add_args(tenant_id), env=secret_env)
    assert duplicate.exit_code == 1
    assert duplicate.output.strip() == f"error: tenant {tenant_id} is already mapped"

    unknown = bridge("tenants", "show", "0f0f0f0f-0000-0000-0000-000000000000")
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "error: no tenant 0f0f0f0f-0000-0000-0000-000000000000"

    bad_id = bridge(*_add_args("not-a-uuid", "two"), env=secret_env)
    assert bad_id.exit_code == 1
    assert bad_id.output.startswith("error: kb_tenant_id: Input should be a valid UUID")
    assert len(json.loads(bridge("tenants", "list", "--json").stdout)) == 1
