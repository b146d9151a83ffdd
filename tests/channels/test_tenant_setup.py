"""The tenant's side of the channels: the messaging provider set by operators (CLI without argv secrets, admin
API), channel settings validated at the edge, the account override, and phone numbers."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from bridge.channels import choice
from bridge.channels.phones import e164, is_e164, masked
from bridge.cli import cli
from bridge.tenancy.schemas import ChannelSettings
from tests.channels.conftest import AUTH_TOKEN
from tests.foundation.factories import SECRETS, tenant_payload

PROVIDER = {"messaging_base_url": "http://127.0.0.1:9090", "messaging_account_sid": "AC" + "ab12" * 8}


def test_the_admin_api_sets_the_provider_and_never_shows_its_token(client, admin_headers) -> None:
    payload = tenant_payload(**PROVIDER, messaging_auth_token=AUTH_TOKEN)
    created = client.post("/admin/v1/tenants?register_callback=false", headers=admin_headers, json=payload)
    assert created.status_code == 201, created.json
    assert created.json["messaging_auth_token"] == "****" + AUTH_TOKEN[-4:]
    assert created.json["messaging_base_url"] == "http://127.0.0.1:9090"
    assert created.json["settings"]["channels"] == {"default": ["email"], "sms_sender": None,
                                                    "whatsapp_sender": None}
    tenant = f"/admin/v1/tenants/{payload['kb_tenant_id']}"
    patched = client.patch(tenant, headers=admin_headers, json={
        "settings": {"channels": {"default": ["email", "sms"], "sms_sender": "Acme"}}})
    assert patched.status_code == 200 and patched.json["settings"]["channels"]["default"] == ["email", "sms"]
    cleared = client.patch(tenant, headers=admin_headers, json={"messaging_auth_token": None})
    assert cleared.status_code == 200 and cleared.json["messaging_auth_token"] is None
    assert AUTH_TOKEN not in json.dumps(client.get(tenant, headers=admin_headers).json)


@pytest.mark.parametrize("patch, where", [
    ({"settings": {"channels": {"default": ["sms", "fax"]}}}, "settings.channels.default"),
    ({"settings": {"channels": {"default": []}}}, "settings.channels.default"),
    ({"settings": {"channels": {"whatsapp_sender": "0415 555 2671"}}}, "settings.channels.whatsapp_sender"),
    ({"settings": {"channels": {"sms_sender": "Acme Cloud Billing"}}}, "settings.channels.sms_sender"),
    ({"messaging_account_sid": "AC/../../admin"}, "messaging_account_sid"),
    ({"messaging_auth_token": "   "}, "messaging_auth_token"),
    ({"messaging_base_url": "http://provider.example"}, "messaging_base_url"),
])
def test_bad_channel_setup_is_a_4xx_json_error(client, admin_headers, patch, where) -> None:
    payload = tenant_payload()
    assert client.post("/admin/v1/tenants?register_callback=false", headers=admin_headers,
                       json=payload).status_code == 201
    response = client.patch(f"/admin/v1/tenants/{payload['kb_tenant_id']}", headers=admin_headers, json=patch)
    assert 400 <= response.status_code < 500 and response.is_json, response.data
    assert where in json.dumps(response.json)


def test_the_cli_reads_the_token_from_the_environment_or_a_file_never_argv(cli_env, tmp_path) -> None:
    runner = CliRunner()
    env = {**cli_env, **{f"BRIDGE_TENANT_{k.upper()}": v for k, v in SECRETS.items()}}
    tenant_id = str(uuid.uuid4())
    added = runner.invoke(cli, [
        "tenants", "add", "--tenant-id", tenant_id, "--name", "Texting", "--killbill-url", "http://127.0.0.1:8080",
        "--kb-api-key", "key-texting", "--kb-username", "admin", "--hs-base-url", "http://127.0.0.1:9080",
        "--merchant-id", "merchant_texting", "--profile-id", "pro_texting", "--no-register-callback",
        "--messaging-base-url", PROVIDER["messaging_base_url"], "--messaging-account-sid",
        PROVIDER["messaging_account_sid"], "--json"], env={**env, "BRIDGE_TENANT_MESSAGING_AUTH_TOKEN": AUTH_TOKEN})
    assert added.exit_code == 0, added.output
    shown = json.loads(added.stdout)
    assert shown["messaging_account_sid"] == PROVIDER["messaging_account_sid"]
    assert shown["messaging_auth_token"] == "****" + AUTH_TOKEN[-4:] and AUTH_TOKEN not in added.output

    new_token = "msgtoken-rotated-0987654321fedcba"
    token_file = tmp_path / "token"
    token_file.write_text(new_token + "\n")
    settings_file = tmp_path / "channels.json"
    settings_file.write_text(json.dumps({"channels": {"default": ["whatsapp"], "whatsapp_sender": "+14155550199"}}))
    updated = runner.invoke(cli, ["tenants", "update", tenant_id, "--messaging-auth-token-file", str(token_file),
                                  "--settings-file", str(settings_file), "--json"], env=cli_env)
    assert updated.exit_code == 0, updated.output
    view = json.loads(updated.stdout)
    assert view["messaging_auth_token"] == "****" + new_token[-4:] and new_token not in updated.output
    assert view["settings"]["channels"]["default"] == ["whatsapp"]
    assert "--messaging-auth-token " not in runner.invoke(cli, ["tenants", "update", "--help"]).output


@pytest.mark.parametrize("value, channels", [
    ("sms", ("sms",)),
    (" Email, WhatsApp ", ("email", "whatsapp")),
    ("sms;sms email", ("sms", "email")),
    ("", None),
    ("pager", None),  # unknown: the tenant's default applies
    ("email,fax", None),
])
def test_the_account_override_names_known_channels_or_nothing(value, channels) -> None:
    assert choice.parse(value) == channels


def test_channel_settings_keep_order_and_drop_repeats() -> None:
    assert ChannelSettings(default=["sms", "email", "sms"]).default == ["sms", "email"]
    with pytest.raises(ValidationError):
        ChannelSettings(default=["carrier_pigeon"])  # type: ignore[list-item]


@pytest.mark.parametrize("text, region, expected", [
    ("+1 (415) 555-2671", None, "+14155552671"),
    ("415 555 2671", "US", "+14155552671"),  # written nationally: the account's country
    ("020 7946 0958", "gb", "+442079460958"),
    ("415 555 2671", None, None),  # national without a country
    ("+1 555 0100", None, None),  # not a valid number
    ("+14155552671 ext", None, None),
    ("call me", None, None),
    ("+" + "1" * 80, None, None),
])
def test_phone_numbers_in_e164(text, region, expected) -> None:
    assert e164(text, region) == expected
    assert is_e164(expected) if expected else not is_e164(text)


def test_phone_numbers_are_masked_in_logs() -> None:
    assert masked("+14155552671") == "+14*******71"
