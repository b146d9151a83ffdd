"""The ``/__sim`` control endpoints over HTTP, and ``serve``."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from bridge.simulators.killbill import KillBillState, serve
from bridge.simulators.server import BackgroundServer
from killbill_client import KillBillClient, ServerError
from killbill_client.models import Account, Tenant, TransactionStatus, TransactionType
from tests.simulators.killbill.fixtures import running, stop_later
from tests.simulators.killbill.support import PLUGIN_NAME, StubPlugin


def test_configure_a_plugin_and_read_its_call_log(kb_server: BackgroundServer, kb: KillBillClient, tenant: Tenant,
                                                  account: Account) -> None:
    stub = StubPlugin(secret="via-http")
    plugin_server = running(stub.app())
    try:
        url = f"{kb_server.url}/__sim/tenants/{tenant.tenant_id}/plugins/{PLUGIN_NAME}"
        assert requests.put(url, json={"url": plugin_server.url}, timeout=5).status_code == 400
        assert requests.put(url, json={"url": plugin_server.url, "secret": "via-http"}, timeout=5).status_code == 204
        kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
        stub.statuses.append("PENDING")
        kb.payments.create(account.account_id, TransactionType.AUTHORIZE, Decimal("3.10"))  # type: ignore[arg-type]
        calls = requests.get(f"{kb_server.url}/__sim/plugin-calls", params={"operation": "authorizePayment"},
                             timeout=5).json()
        assert [c["outcome"] for c in calls] == ["ok"]
        assert calls[0]["request"]["amount"] == "3.10" and calls[0]["response"]["status"] == "PENDING"
        assert calls[0]["httpStatus"] == 200 and calls[0]["pluginName"] == PLUGIN_NAME
        report = requests.post(f"{kb_server.url}/__sim/janitor/run", json={}, timeout=5).json()
        assert [r["to"] for r in report] == ["PENDING"]
        assert requests.delete(f"{kb_server.url}/__sim/plugin-calls", timeout=5).status_code == 204
        assert requests.get(f"{kb_server.url}/__sim/plugin-calls", timeout=5).json() == []
    finally:
        stop_later(plugin_server)


def test_clock_controls(kb_server: BackgroundServer, kb: KillBillClient, account: Account) -> None:
    url = f"{kb_server.url}/__sim/clock"
    moved = requests.post(url, json={"time": "2030-01-15T10:00:00Z"}, timeout=5).json()["currentUtcTime"]
    assert moved.startswith("2030-01-15T10:00:0")
    later = requests.post(url, json={"advanceSeconds": 86400}, timeout=5).json()["currentUtcTime"]
    assert later.startswith("2030-01-16T10:00:0")
    created = kb.accounts.create(Account(name="Future", currency="USD"))
    assert created.reference_time is not None and created.reference_time.year == 2030
    reset = requests.delete(url, timeout=5).json()["currentUtcTime"]
    assert abs(datetime.fromisoformat(reset) - datetime.now(UTC)).total_seconds() < 5


def test_fail_next_notify_state_changed_and_events(kb_server: BackgroundServer, kb: KillBillClient,
                                                   kb_state: KillBillState, tenant: Tenant, account: Account,
                                                   stub_plugin: StubPlugin) -> None:
    kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
    stub_plugin.statuses.append("PENDING")
    payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("1"))  # type: ignore[arg-type]
    txn = payment.transactions[0]  # type: ignore[index]
    assert requests.post(f"{kb_server.url}/__sim/notify-state-changed/fail-next", json={"count": 1},
                         timeout=5).status_code == 204
    with pytest.raises(ServerError) as failure:
        kb.payment_transactions.notify_state_changed(txn.transaction_id, payment.payment_id, "SUCCESS")  # type: ignore[arg-type]
    assert failure.value.status == 500
    failures = f"{kb_server.url}/__sim/notify-state-changed/fail-next"
    assert requests.get(failures, timeout=5).json() == {"remaining": 0, "fired": 1}
    done = kb.payment_transactions.notify_state_changed(txn.transaction_id, payment.payment_id, "SUCCESS")  # type: ignore[arg-type]
    assert done.transactions[0].status == TransactionStatus.SUCCESS  # type: ignore[index]
    requests.post(failures, json={"count": 2}, timeout=5)
    assert requests.get(failures, timeout=5).json() == {"remaining": 2, "fired": 1}
    events = requests.get(f"{kb_server.url}/__sim/events", params={"tenantId": str(tenant.tenant_id)},
                          timeout=5).json()
    assert [e["eventType"] for e in events if e["objectType"] == "PAYMENT"] == ["PAYMENT_SUCCESS"] * 2
    assert requests.post(f"{kb_server.url}/__sim/wait-idle", json={"timeout": 5}, timeout=10).json() == {"idle": True}
    assert requests.get(f"{kb_server.url}/__sim/push-deliveries", timeout=5).json() == []


def test_config_compresses_schedules(kb_server: BackgroundServer, kb_state: KillBillState) -> None:
    response = requests.put(f"{kb_server.url}/__sim/config", json={
        "pluginTimeout": 2.5, "pushTimeout": 1, "pushRetrySeconds": [0.5, 1],
        "janitorPendingSeconds": [1], "janitorUnknownSeconds": [2, 3]}, timeout=5)
    assert response.status_code == 204
    config = kb_state.config
    assert (config.plugin_timeout, config.push_timeout) == (2.5, 1.0)
    assert [d.total_seconds() for d in config.push_retries] == [0.5, 1.0]
    assert [d.total_seconds() for d in config.janitor_unknown_retries] == [2.0, 3.0]


def test_serve_runs_the_simulator_until_stopped() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = KillBillState()
    threading.Thread(target=serve, kwargs={"port": port, "state": state}, daemon=True).start()
    deadline = time.monotonic() + 5
    while True:
        try:
            response = requests.get(f"http://127.0.0.1:{port}/1.0/kb/tenants", params={"apiKey": "x"},
                                    auth=("admin", "password"), timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.02)
    assert response.status_code == 404 and response.json()["code"] == 20003
