"""Tenant base URLs and the bridge's public URL: https to public addresses; http to loopback only with the
development flag; internal hosts only when the deployment lists them. A tenant record cannot make the
bridge call cloud metadata, private networks or localhost."""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.db.engine import session_scope
from bridge.edges.urls import UnsafeUrl, UrlPolicy, parse_internal_hosts
from bridge.errors import ConfigError
from bridge.settings import load_settings
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate, TenantUpdate
from tests.conftest import ALLOW_HTTP_LOOPBACK
from tests.foundation.factories import SECRETS, tenant_payload

# A resolver for names this test controls (the real one is used by the API and CLI tests below).
DNS = {"hyperswitch.example": ["93.184.216.34"], "dual.example": ["93.184.216.35", "10.1.2.3"],
       "metadata.example": ["169.254.169.254"], "kb.internal": ["10.20.0.5"],
       "docs.example": ["2001:db8::1"], "mapped.example": ["::ffff:127.0.0.1"]}
PUBLIC = "https://93.184.216.34"  # a public address: no DNS needed


def policy(**options) -> UrlPolicy:  # type: ignore[no-untyped-def]
    return UrlPolicy(resolver=lambda host: [ipaddress.ip_address(a) for a in DNS.get(host, [])], **options)


STRICT = policy()
DEV = policy(allow_http_loopback=True)
NAMES, NETWORKS = parse_internal_hosts(["killbill", "10.20.0.0/16"])
DEPLOYMENT = policy(internal_names=NAMES, internal_networks=NETWORKS)


@pytest.mark.parametrize("url", ["https://93.184.216.34:8443/v1", "https://hyperswitch.example",
                                 "https://[2606:4700::1111]"])
def test_https_to_public_addresses_is_accepted(url: str) -> None:
    STRICT.check(url, what="hs_base_url")


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hyperswitch.example", "must use https"),
    ("ftp://hyperswitch.example", "https:// URL with a host"),
    ("https://user:pw@hyperswitch.example", "must not carry credentials"),
    ("https://169.254.169.254/latest/meta-data", "link-local or reserved address"),
    ("https://metadata.example", "(169.254.169.254)"),
    ("https://10.0.0.5:8080", "private"),
    ("https://192.168.1.10", "private"),
    ("https://172.16.0.1", "private"),
    ("https://100.64.0.1", "private"),
    ("https://[fd00::1]", "private"),
    ("https://0.0.0.0:8080", "reserved"),
    ("https://dual.example", "(10.1.2.3)"),  # one private answer is enough
    ("https://docs.example", "reserved address (2001:db8::1)"),
    ("http://127.0.0.1:8080", "loopback address"),
    ("https://127.0.0.1:8080", "loopback address"),  # https does not make loopback safe
    ("http://[::1]:8080", "loopback address"),
    ("https://mapped.example", "loopback address"),  # ::ffff:127.0.0.1 is 127.0.0.1
    ("https://unknown.example", "does not resolve"),
])
def test_without_the_flag_internal_and_plain_http_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        STRICT.check(url, what="killbill_url")
    assert caught.value.detail.startswith("killbill_url: ") and reason in caught.value.detail
    assert caught.value.status == 400 and caught.value.error == "unsafe_url"


def test_the_development_flag_allows_loopback_only() -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost:9080", "https://127.0.0.2", "http://[::1]:1"):
        DEV.check(url, what="hs_base_url")
    for url in ("http://10.0.0.5", "https://169.254.169.254", "http://hyperswitch.example"):
        with pytest.raises(UnsafeUrl):
            DEV.check(url, what="hs_base_url")


def test_the_deployment_names_its_internal_hosts() -> None:
    for url in ("http://killbill:8080", "https://kb.internal", "http://10.20.3.4:8080"):
        DEPLOYMENT.check(url, what="killbill_url")
    for url in ("http://10.21.0.1", "https://169.254.169.254", "http://127.0.0.1:8080"):
        with pytest.raises(UnsafeUrl):
            DEPLOYMENT.check(url, what="killbill_url")
    with pytest.raises(ValueError, match="neither a host name"):
        parse_internal_hosts(["kill bill"])


# -- where URLs are accepted: the admin API, the CLI, the service, the settings ---------------------
@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch, runtime):  # type: ignore[no-untyped-def]
    """The deployment without the development flag (the suite's default turns it on for the simulators)."""
    monkeypatch.delenv(ALLOW_HTTP_LOOPBACK)
    runtime.settings = runtime.settings.model_copy(update={"allow_http_loopback": False})
    return runtime


@pytest.mark.parametrize("field", ["killbill_url", "hs_base_url"])
@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "https://localhost:8443", "https://169.254.169.254",
                                 "https://10.1.2.3", "http://api.hyperswitch.io"])
def test_the_admin_api_refuses_unsafe_tenant_urls(strict, client, admin_headers, field: str, url: str) -> None:
    payload = tenant_payload(killbill_url=PUBLIC, hs_base_url=PUBLIC)
    payload[field] = url
    created = client.post("/admin/v1/tenants?register_callback=false", headers=admin_headers, json=payload)
    assert created.status_code == 400 and created.json["error"] == "unsafe_url", created.json
    assert created.json["detail"].startswith(f"{field}: ")
    assert client.get("/admin/v1/tenants", headers=admin_headers).json["tenants"] == []


def test_an_update_cannot_point_a_tenant_inward(strict, client, admin_headers) -> None:
    payload = tenant_payload()
    with session_scope(strict.sessions) as session:  # stored while the flag was on (the suite's simulators)
        service.create_tenant(session, TenantCreate.model_validate(payload), strict.keyring, urls=DEV)
    path = f"/admin/v1/tenants/{payload['kb_tenant_id']}"
    moved = client.patch(path, headers=admin_headers, json={"hs_base_url": "https://169.254.169.254"})
    assert moved.status_code == 400 and moved.json["error"] == "unsafe_url"
    assert client.get(path, headers=admin_headers).json["hs_base_url"] == "http://127.0.0.1:9080"
    renamed = client.patch(path, headers=admin_headers, json={"name": "Renamed"})  # other fields still change
    assert renamed.status_code == 200


def test_the_service_uses_the_deployment_policy_by_default(monkeypatch: pytest.MonkeyPatch, runtime) -> None:
    monkeypatch.delenv(ALLOW_HTTP_LOOPBACK)
    with session_scope(runtime.sessions) as session, pytest.raises(UnsafeUrl):
        service.create_tenant(session, TenantCreate.model_validate(tenant_payload()), runtime.keyring)
    monkeypatch.setenv(ALLOW_HTTP_LOOPBACK, "true")
    with session_scope(runtime.sessions) as session:
        tenant = service.create_tenant(session, TenantCreate.model_validate(tenant_payload()), runtime.keyring)
        monkeypatch.setenv("BRIDGE_ALLOWED_INTERNAL_HOSTS", "killbill")
        service.update_tenant(session, tenant.kb_tenant_id, TenantUpdate(killbill_url="http://killbill:8080"),
                              runtime.keyring)
        assert tenant.killbill_url == "http://killbill:8080"


def test_the_cli_refuses_them_too(cli_env: dict[str, str]) -> None:
    env = {**cli_env, ALLOW_HTTP_LOOPBACK: "false", "BRIDGE_TENANT_KB_API_SECRET": SECRETS["kb_api_secret"],
           "BRIDGE_TENANT_KB_PASSWORD": SECRETS["kb_password"], "BRIDGE_TENANT_HS_API_KEY": SECRETS["hs_api_key"],
           "BRIDGE_TENANT_HS_WEBHOOK_SECRET": SECRETS["hs_webhook_secret"]}
    result = CliRunner().invoke(cli, ["tenants", "add", "--tenant-id", str(uuid.uuid4()), "--name", "Acme",
                                      "--killbill-url", "http://localhost:8080", "--kb-api-key", "acme",
                                      "--kb-username", "admin", "--hs-base-url", PUBLIC,
                                      "--merchant-id", "m_1", "--profile-id", "pro_1", "--no-register-callback"],
                                env=env)
    assert result.exit_code != 0
    assert "killbill_url: localhost is a loopback address" in result.output


@pytest.mark.parametrize(("env", "accepted"), [
    ({"BRIDGE_PUBLIC_URL": "https://pay.example.com"}, True),
    ({"BRIDGE_PUBLIC_URL": "http://pay.example.com"}, False),
    ({"BRIDGE_PUBLIC_URL": "http://127.0.0.1:8787"}, False),
    ({"BRIDGE_PUBLIC_URL": "http://127.0.0.1:8787", ALLOW_HTTP_LOOPBACK: "true"}, True),
    ({"BRIDGE_PUBLIC_URL": "http://bridge-web:8787", "BRIDGE_ALLOWED_INTERNAL_HOSTS": "bridge-web"}, True),
    ({"BRIDGE_PUBLIC_URL": "https://10.0.0.8", "BRIDGE_ALLOWED_INTERNAL_HOSTS": "10.0.0.0/8"}, True),
    ({"BRIDGE_PUBLIC_URL": "https://10.0.0.8"}, False),
])
def test_the_public_url_kill_bill_posts_to_is_checked_at_start(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                               accepted: bool) -> None:
    monkeypatch.delenv(ALLOW_HTTP_LOOPBACK)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if accepted:
        assert load_settings().public_url is not None
    else:
        with pytest.raises(ConfigError, match=r"^BRIDGE_PUBLIC_URL: "):
            load_settings()
