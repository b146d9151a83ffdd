"""Toward Hyperswitch through the plugin contract: an open circuit answers CANCELED at once and sends
nothing (Kill Bill retries a plugin failure), reads fail fast, a probe closes it again; state,
transitions and refusals in /metrics and the logs. Pacing comes from the tenant's settings."""

from __future__ import annotations

import logging
import re

import pytest

from bridge.db.engine import session_scope
from bridge.db.tenancy import Tenant
from bridge.edges.breakers import Breakers
from bridge.edges.guards import Edges
from bridge.payments import ids
from hyperswitch_client import CircuitState
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.plugin.conftest import payment_call


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def breaker_clock(runtime) -> Clock:  # type: ignore[no-untyped-def]
    """The runtime's breakers on a clock the test moves: 3 failed attempts open for 30 s."""
    clock = Clock()
    edges = Edges.from_settings(runtime.settings)
    edges.breakers = Breakers(failure_threshold=3, open_seconds=30.0, clock=clock)
    runtime._edges = edges
    runtime.reset_clients()
    return clock


def purchase(plugin, payor) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    body = payment_call(payor.account_id, "12.00", kbPaymentMethodId=payor.kb_payment_method_id)
    return body, plugin.ok("purchasePayment", **body)


def test_an_open_circuit_cancels_payments_unsent_and_a_probe_closes_it(
        breaker_clock: Clock, plugin, payor, hs_state, hs_server, runtime, client,  # type: ignore[no-untyped-def]
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.edges.breakers")
    hs_state.add_fault("*", "*", "error", status=503)
    failed_body, failed = purchase(plugin, payor)
    assert failed["status"] == "UNDEFINED"  # a 5xx: it may have run (the retries opened the circuit)
    breaker = runtime.edges.breakers.for_url(hs_server.url)
    assert breaker.state is CircuitState.OPEN

    seen = sum(row["create_calls"] for row in hs_state.payments_overview())
    body, refused = purchase(plugin, payor)
    assert refused["status"] == "CANCELED" and refused["gatewayErrorCode"] == "CIRCUIT_OPEN"
    assert sum(row["create_calls"] for row in hs_state.payments_overview()) == seen  # nothing was sent
    info = plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=failed_body["kbPaymentId"])
    assert [i["status"] for i in info] == ["UNDEFINED"]  # the refresh failed fast; the stored state stands

    assert ids.payment_id(body["kbTransactionId"]) not in {p["payment_id"] for p in hs_state.payments_overview()}

    hs_state.clear_faults()
    breaker_clock.now += 30
    retry, paid = purchase(plugin, payor)  # Kill Bill retries a plugin failure as a new attempt: the probe
    assert paid["status"] == "PROCESSED" and breaker.state is CircuitState.CLOSED
    assert [p["create_calls"] for p in hs_state.payments_overview()
            if p["payment_id"] == ids.payment_id(retry["kbTransactionId"])] == [1]

    metrics = client.get("/metrics").get_data(as_text=True)
    url = re.escape(hs_server.url)
    assert re.search(rf'^bridge_hyperswitch_circuit_state\{{base_url="{url}"\}} 0\.0$', metrics, re.M)
    for old, new in (("closed", "open"), ("open", "half_open"), ("half_open", "closed")):
        assert re.search(rf'^bridge_hyperswitch_circuit_transitions_total\{{base_url="{url}",from_state="{old}",'
                         rf'to_state="{new}"\}} [1-9]', metrics, re.M), (old, new)
    assert re.search(rf'^bridge_hyperswitch_circuit_rejections_total\{{base_url="{url}",state="open"\}} [1-9]',
                     metrics, re.M)
    lines = [r.getMessage() for r in caplog.records if r.name == "bridge.edges.breakers"]
    assert any("circuit closed → open" in line for line in lines)
    assert any("refused 1 call(s) unsent" in line for line in lines)
    assert any("circuit half_open → closed" in line for line in lines)


def test_the_tenants_pacing_setting_shapes_its_client(plugin, payor, runtime, tenant_id, client,  # type: ignore[no-untyped-def]
                                                      admin_headers) -> None:
    default = runtime.tenant_env(tenant_id).hyperswitch
    assert runtime.edges.pacing.per_second == runtime.settings.hyperswitch_requests_per_second
    response = client.patch(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers,
                            json={"settings": {"pacing": {"requests_per_second": 5, "burst": 2}}})
    assert response.status_code == 200 and response.json["settings"]["pacing"] == {"requests_per_second": 5.0,
                                                                                   "burst": 2}
    paced = runtime.tenant_env(tenant_id).hyperswitch
    assert paced is not default
    pacer = paced.payments._requestor._pacer
    assert (pacer.rate.per_second, pacer.rate.burst) == (5.0, 2)
    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        assert pacer.key == runtime.edges.pacer(tenant.hs_base_url, tenant.hs_merchant_id).key  # one per merchant
    refused = client.patch(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers,
                           json={"settings": {"pacing": {"requests_per_second": 0}}})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_settings"


def test_the_pacing_wait_shows_in_metrics(plugin, payor, client) -> None:  # type: ignore[no-untyped-def]
    purchase(plugin, payor)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert re.search(r"^bridge_hyperswitch_pacing_wait_seconds_count [1-9]", metrics, re.M)
