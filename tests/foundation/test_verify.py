"""`bridge tenants verify` and ``POST /admin/v1/tenants/<id>/verify`` against both simulators, in-process.

A correct mapping passes every check; each kind of wrong mapping fails its own check with a clear FAIL
line (and a non-zero exit on the command line). No secret ever appears in what the operator sees.
"""

from __future__ import annotations

import json
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.simulators.hyperswitch import SimulatorState
from bridge.simulators.hyperswitch import create_app as create_hs_app
from bridge.simulators.killbill import KillBillState, SimConfig
from bridge.simulators.killbill import create_app as create_kb_app
from bridge.simulators.server import BackgroundServer
from killbill_client import KillBillClient
from tests.foundation.factories import SECRETS, tenant_payload

HS_MERCHANT, HS_PROFILE = "merchant_verify", "pro_verify"
KB_USER = "admin"
CHECKS = ["hyperswitch api key and profile", "hyperswitch webhook secret", "kill bill user and tenant",
          "kill bill api secret"]
# Wrong values used by the failure cases; they must not be echoed either.
WRONG = {
    "hs_api_key": "snd_wrong_key_6f5e4d3c2b1a0987",
    "hs_webhook_secret": "whsec-wrong-0f1e2d3c4b5a69788",
    "kb_password": "kbpassword-wrong-77aa66bb",
    "kb_api_secret": "kbsecret-wrong-3e4f5a6b",
}
LINE = re.compile(r"^(PASS|FAIL|SKIP)\s+(.+?): (.+)$")


@dataclass
class Peers:
    hs_url: str
    kb_url: str
    hs_state: SimulatorState
    kb_tenant_id: str
    kb_api_key: str
    other_tenant_id: str
    other_api_key: str
    other_api_secret: str


@pytest.fixture
def peers() -> Iterator[Peers]:
    """A Hyperswitch simulator with the tenant's merchant, a Kill Bill simulator with two tenants."""
    hs_state = SimulatorState()
    hs_state.add_merchant(HS_MERCHANT, SECRETS["hs_api_key"], HS_PROFILE, publishable_key="pk_snd_verify",
                          payment_response_hash_key=SECRETS["hs_webhook_secret"])
    kb_state = KillBillState(SimConfig(users={KB_USER: SECRETS["kb_password"]}))
    with BackgroundServer(create_hs_app(hs_state)) as hs_server, \
            BackgroundServer(create_kb_app(kb_state)) as kb_server:
        admin = KillBillClient(kb_server.url, username=KB_USER, password=SECRETS["kb_password"], timeout=(2.0, 5.0))
        key, other_key = f"acme-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
        tenant = admin.tenants.create(key, SECRETS["kb_api_secret"])
        other = admin.tenants.create(other_key, "kbsecret-of-another-tenant-1234")
        admin.close()
        yield Peers(hs_server.url, kb_server.url, hs_state, str(tenant.tenant_id), key, str(other.tenant_id),
                    other_key, "kbsecret-of-another-tenant-1234")
    hs_state.shutdown()
    kb_state.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def map_tenant(client, admin_headers: dict[str, str], peers: Peers) -> Callable[..., str]:
    """Map the Kill Bill tenant through the admin API (correctly unless told otherwise); returns its id."""

    def create(**overrides: Any) -> str:
        payload = tenant_payload(kb_tenant_id=peers.kb_tenant_id, killbill_url=peers.kb_url,
                                 kb_api_key=peers.kb_api_key, kb_username=KB_USER, hs_base_url=peers.hs_url,
                                 hs_merchant_id=HS_MERCHANT, hs_profile_id=HS_PROFILE)
        payload.update(overrides)
        response = client.post("/admin/v1/tenants", json=payload, headers=admin_headers)
        assert response.status_code == 201, response.get_json()
        return payload["kb_tenant_id"]

    return create


@pytest.fixture
def verify_cli(cli_env: dict[str, str]) -> Callable[..., Any]:
    runner = CliRunner()

    def invoke(tenant_id: str, *args: str) -> Any:
        return runner.invoke(cli, ["tenants", "verify", tenant_id, *args], env=cli_env, catch_exceptions=False)

    return invoke


def parse_table(output: str) -> dict[str, tuple[str, str]]:
    """{check name: (PASS|FAIL|SKIP, detail)}; every line of the output must be a check line."""
    checks = {}
    for line in output.splitlines():
        match = LINE.match(line)
        assert match, f"not a check line: {line!r}"
        checks[match.group(2)] = (match.group(1), match.group(3))
    return checks


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for value in [*SECRETS.values(), *WRONG.values(), "kbsecret-of-another-tenant-1234"]:
            assert value not in text, f"a secret was shown: {value}"


def run_everywhere(verify_cli, client, admin_headers, tenant_id: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The table, the --json document and the admin API's answer for one tenant."""
    table = verify_cli(tenant_id)
    as_json = verify_cli(tenant_id, "--json")
    api = client.post(f"/admin/v1/tenants/{tenant_id}/verify", headers=admin_headers)
    assert api.status_code == 200
    assert_no_secret(table.output, as_json.output, api.get_data(as_text=True))
    assert as_json.exit_code == table.exit_code
    return table, json.loads(as_json.stdout), api.get_json()


def test_a_correct_mapping_passes_every_check(map_tenant, verify_cli, client, admin_headers, peers) -> None:
    tenant_id = map_tenant()

    table, document, api = run_everywhere(verify_cli, client, admin_headers, tenant_id)

    assert table.exit_code == 0, table.output
    checks = parse_table(table.stdout)
    assert list(checks) == CHECKS
    assert {status for status, _ in checks.values()} == {"PASS"}
    assert f"profile {HS_PROFILE} of merchant {HS_MERCHANT} found" in checks[CHECKS[0]][1]
    assert peers.kb_tenant_id in checks[CHECKS[2]][1]
    assert document["ok"] is True and document["kb_tenant_id"] == tenant_id
    assert [(c["name"], c["status"]) for c in document["checks"]] == [(name, "pass") for name in CHECKS]
    assert api == document


@dataclass(frozen=True)
class Case:
    overrides: Callable[[Peers], dict[str, Any]]
    failed: str  # the check that fails
    detail: str  # a regex its detail matches
    skipped: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()


CASES = {
    "wrong hyperswitch api key": Case(
        lambda p: {"hs_api_key": WRONG["hs_api_key"]}, CHECKS[0], rf"refused the API key for merchant {HS_MERCHANT}",
        skipped=(CHECKS[1],), passed=(CHECKS[2], CHECKS[3])),
    "unknown profile": Case(
        lambda p: {"hs_profile_id": "pro_does_not_exist"}, CHECKS[0],
        r"^profile pro_does_not_exist of merchant_verify: HE_02: .*does not exist",
        skipped=(CHECKS[1],), passed=(CHECKS[2], CHECKS[3])),
    "wrong webhook secret": Case(
        lambda p: {"hs_webhook_secret": WRONG["hs_webhook_secret"]}, CHECKS[1],
        r"differs from the profile's payment_response_hash_key", passed=(CHECKS[0], CHECKS[2], CHECKS[3])),
    "hyperswitch unreachable": Case(
        lambda p: {"hs_base_url": closed_port_url()}, CHECKS[0], r"could not connect to Hyperswitch",
        skipped=(CHECKS[1],), passed=(CHECKS[2], CHECKS[3])),
    "wrong kill bill password": Case(
        lambda p: {"kb_password": WRONG["kb_password"]}, CHECKS[2], rf"refused user '{KB_USER}'",
        skipped=(CHECKS[3],), passed=(CHECKS[0], CHECKS[1])),
    "kill bill api key of another tenant": Case(
        lambda p: {"kb_api_key": p.other_api_key}, CHECKS[2], r"belongs to tenant {other_tenant_id}, not {kb_tenant_id}",
        skipped=(CHECKS[3],), passed=(CHECKS[0], CHECKS[1])),
    "unknown kill bill api key": Case(
        lambda p: {"kb_api_key": "no-such-key"}, CHECKS[2], r"no Kill Bill tenant has API key 'no-such-key'",
        skipped=(CHECKS[3],), passed=(CHECKS[0], CHECKS[1])),
    "kill bill unreachable": Case(
        lambda p: {"killbill_url": closed_port_url()}, CHECKS[2], r"^http://127\.0\.0\.1:\d+: cannot reach Kill Bill",
        skipped=(CHECKS[3],), passed=(CHECKS[0], CHECKS[1])),
    "wrong kill bill api secret": Case(
        lambda p: {"kb_api_secret": WRONG["kb_api_secret"]}, CHECKS[3], r"refused the tenant's API key and secret",
        passed=(CHECKS[0], CHECKS[1], CHECKS[2])),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_each_wrong_mapping_fails_its_own_check(case: Case, map_tenant, verify_cli, client, admin_headers,
                                                peers) -> None:
    tenant_id = map_tenant(**case.overrides(peers))

    table, document, api = run_everywhere(verify_cli, client, admin_headers, tenant_id)

    assert table.exit_code == 1, table.output
    checks = parse_table(table.stdout)
    assert list(checks) == CHECKS
    status, detail = checks[case.failed]
    assert status == "FAIL" and re.search(case.detail.format(**vars(peers)), detail), detail
    assert {name for name, (s, _) in checks.items() if s == "SKIP"} == set(case.skipped)
    assert {name for name, (s, _) in checks.items() if s == "PASS"} == set(case.passed)
    assert [line for line in table.stdout.splitlines() if line.startswith("FAIL")] == [
        f"FAIL  {case.failed}: {detail}"]
    assert document["ok"] is False
    assert {c["name"]: c["status"] for c in document["checks"]}[case.failed] == "fail"
    assert api["ok"] is False and api["checks"] == document["checks"]


def test_the_other_tenants_own_mapping_passes(map_tenant, verify_cli, peers) -> None:
    """The 'other tenant' case fails because of the mismatch, not because that key is unusable."""
    tenant_id = map_tenant(kb_tenant_id=peers.other_tenant_id, kb_api_key=peers.other_api_key,
                           kb_api_secret=peers.other_api_secret)

    result = verify_cli(tenant_id)

    assert result.exit_code == 0, result.output
    assert_no_secret(result.output)


def test_verify_of_an_unknown_tenant(verify_cli, client, admin_headers, cli_env) -> None:
    unknown = str(uuid.uuid4())
    result = CliRunner().invoke(cli, ["tenants", "verify", unknown], env=cli_env)
    assert result.exit_code == 1 and unknown in result.output and "Traceback" not in result.output

    api = client.post(f"/admin/v1/tenants/{unknown}/verify", headers=admin_headers)
    assert api.status_code == 404 and api.get_json()["error"] == "unknown_tenant"


def test_verify_needs_the_admin_token(map_tenant, client) -> None:
    tenant_id = map_tenant()
    response = client.post(f"/admin/v1/tenants/{tenant_id}/verify", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_a_second_profile_of_the_same_merchant_passes_with_its_own_secret(map_tenant, verify_cli, peers) -> None:
    """Several Kill Bill tenants as business profiles of one merchant: same key, own profile and secret."""
    peers.hs_state.add_profile(HS_MERCHANT, "pro_second", payment_response_hash_key="whsec-second-profile-5a6b7c8d")
    tenant_id = map_tenant(hs_profile_id="pro_second", hs_webhook_secret="whsec-second-profile-5a6b7c8d")

    result = verify_cli(tenant_id)

    assert result.exit_code == 0, result.output
    checks = parse_table(result.stdout)
    assert "profile pro_second of merchant merchant_verify found" in checks[CHECKS[0]][1]
    assert "whsec-second-profile-5a6b7c8d" not in result.output
