"""End-to-end against a real Kill Bill server with the Java forwarding plugin (``-m killbill_server``).

Session-wide: Kill Bill (``scripts/killbill-server``: the war in Tomcat 9 on a throwaway PostgreSQL), the
Hyperswitch simulator on loopback, an SMTP sink, and the bridge as real processes (``bridge serve`` under
gunicorn and ``bridge worker``). Each test gets its own biller: a new Kill Bill tenant with the plugin's
per-tenant configuration uploaded, a new Hyperswitch merchant whose webhooks go to the bridge, and the
mapping between them made through the bridge's admin API, which registers the Kill Bill push callback.
Everything a scenario does, it does through Kill Bill's REST API, as a biller's own systems would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.simulators.hyperswitch import SimulatorState
from bridge.simulators.hyperswitch import create_app as hyperswitch_app
from bridge.simulators.server import BackgroundServer
from bridge.simulators.smtp import SmtpSink
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient
from tests.killbill_server.harness import PLUGIN_CONFIG_PREFIX, Biller, KillBillServer
from tests.stack import KB_ADMIN, KB_PASSWORD, PLUGIN_NAME, Sidecar


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.killbill_server)


@pytest.fixture(scope="session")
def killbill_server() -> Iterator[KillBillServer]:
    server = KillBillServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hs_state() -> Iterator[SimulatorState]:
    state = SimulatorState()
    state.configure_webhooks(retry_schedule=[0.2, 0.5, 1.0, 2.0], timeout=5.0)
    yield state
    state.shutdown()


@pytest.fixture(scope="session")
def hs_server(hs_state: SimulatorState) -> Iterator[BackgroundServer]:
    with BackgroundServer(hyperswitch_app(hs_state)) as server:
        yield server


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def sidecar(tmp_path_factory: pytest.TempPathFactory, smtp_sink: SmtpSink) -> Iterator[Sidecar]:
    work_dir = tmp_path_factory.mktemp("sidecar")
    process = Sidecar.start(work_dir, smtp_port=smtp_sink.port)
    yield process
    process.stop()


def plugin_config(sidecar: Sidecar) -> str:
    """The Java plugin's per-tenant properties: where the sidecar is, the shared secret, timeouts."""
    return "\n".join([f"{PLUGIN_CONFIG_PREFIX}url={sidecar.url}",
                      f"{PLUGIN_CONFIG_PREFIX}secret={sidecar.plugin_secret}",
                      f"{PLUGIN_CONFIG_PREFIX}connectTimeoutMs=2000",
                      f"{PLUGIN_CONFIG_PREFIX}readTimeoutMs=20000", ""])


@pytest.fixture
def biller(killbill_server: KillBillServer, hs_server: BackgroundServer, hs_state: SimulatorState,
           sidecar: Sidecar, request: pytest.FixtureRequest) -> Iterator[Biller]:
    suffix = uuid.uuid4().hex[:10]
    api_key, api_secret = f"acme-{suffix}", f"secret-{suffix}"
    with KillBillClient(killbill_server.url, username=KB_ADMIN, password=KB_PASSWORD) as admin:
        tenant = admin.tenants.create(api_key, api_secret, external_key=f"acme-{suffix}")
    assert tenant.tenant_id is not None
    kb = KillBillClient(killbill_server.url, username=KB_ADMIN, password=KB_PASSWORD, api_key=api_key,
                        api_secret=api_secret, created_by="e2e-biller")
    kb.tenants.upload_plugin_config(PLUGIN_NAME, plugin_config(sidecar))

    merchant_id, profile_id = f"merchant_{suffix}", f"pro_{suffix}"
    hs_api_key, hash_key = f"snd_{suffix}_api_key", f"hash_{suffix}_" + "k" * 40
    hs_state.add_merchant(merchant_id, hs_api_key, profile_id, publishable_key=f"pk_snd_{suffix}",
                          payment_response_hash_key=hash_key, webhook_url=f"{sidecar.url}/webhooks/hyperswitch")
    hs = HyperswitchClient(hs_server.url, hs_api_key, profile_id=profile_id)

    created = sidecar.admin("POST", "/admin/v1/tenants", json={
        "kb_tenant_id": str(tenant.tenant_id), "name": f"Acme {suffix}", "killbill_url": killbill_server.url,
        "kb_api_key": api_key, "kb_api_secret": api_secret, "kb_username": KB_ADMIN, "kb_password": KB_PASSWORD,
        "hs_base_url": hs_server.url, "hs_merchant_id": merchant_id, "hs_profile_id": profile_id,
        "hs_api_key": hs_api_key, "hs_publishable_key": f"pk_snd_{suffix}", "hs_webhook_secret": hash_key,
        "settings": {"email": {"sender": "billing@acme.example", "brand_name": "Acme"}}})
    assert created["callback"]["status"] == "registered", created["callback"]
    yield Biller(str(tenant.tenant_id), api_key, merchant_id, profile_id, kb, hs, hs_state, sidecar)
    hs.close()
    kb.close()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        print(f"\n--- Kill Bill log (tail)\n{killbill_server.log_tail()}\n--- bridge logs\n{sidecar.logs()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so a failed scenario prints both servers' logs."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
