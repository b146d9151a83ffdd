"""Fixtures shared by the Kill Bill client and simulator tests (imported by both conftest files).

Each test gets its own simulator on a free loopback port, so tests run in parallel; every exchange the
client makes is validated against the real swagger when the test ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest

from bridge.simulators.killbill import KillBillState, SimConfig, create_app
from bridge.simulators.server import BackgroundServer
from killbill_client import KillBillClient
from killbill_client.models import Account, Tenant
from tests.simulators.killbill.support import (
    PLUGIN_NAME,
    PLUGIN_SECRET,
    PushReceiver,
    RecordingSession,
    StubPlugin,
    check_exchanges,
)

ADMIN = ("admin", "password")


def running(app) -> BackgroundServer:  # type: ignore[no-untyped-def]
    return BackgroundServer(app).start()


def stop_later(server: BackgroundServer) -> None:
    """werkzeug's shutdown waits out a 0.5 s poll; stopping in the background keeps teardown instant."""
    threading.Thread(target=server.stop, daemon=True).start()


def seconds(*values: float) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=v) for v in values)


def fast_config() -> SimConfig:
    """Kill Bill's schedules compressed from minutes/days to tenths of a second."""
    return SimConfig(plugin_timeout=1.0, push_timeout=2.0, push_retries=seconds(0.05, 0.1, 0.15),
                     janitor_pending_retries=seconds(0.1, 0.2), janitor_unknown_retries=seconds(0.1, 0.2, 0.3))


@pytest.fixture
def kb_state() -> Iterator[KillBillState]:
    state = KillBillState(fast_config())
    yield state
    state.close()


@pytest.fixture
def kb_server(kb_state: KillBillState) -> Iterator[BackgroundServer]:
    server = running(create_app(kb_state))
    yield server
    stop_later(server)


@pytest.fixture
def recorder() -> Iterator[RecordingSession]:
    session = RecordingSession()
    yield session
    session.close()
    check_exchanges(session.exchanges)


@pytest.fixture
def admin(kb_server: BackgroundServer, recorder: RecordingSession) -> KillBillClient:
    """No tenant headers: for tenant creation."""
    return KillBillClient(kb_server.url, username=ADMIN[0], password=ADMIN[1], session=recorder, retry_backoff=0.01,
                          timeout=(2.0, 10.0))


@pytest.fixture
def tenant_keys() -> tuple[str, str]:
    key = f"tenant-{uuid4().hex[:10]}"
    return key, f"secret-{key}"


@pytest.fixture
def tenant(admin: KillBillClient, tenant_keys: tuple[str, str]) -> Tenant:
    return admin.tenants.create(*tenant_keys, external_key=f"ext-{tenant_keys[0]}")


@pytest.fixture
def kb(admin: KillBillClient, tenant: Tenant, tenant_keys: tuple[str, str]) -> KillBillClient:
    """The client acting for the test's tenant."""
    return admin.for_tenant(*tenant_keys)


@pytest.fixture
def account(kb: KillBillClient) -> Account:
    return kb.accounts.create(Account(name="Ada Lovelace", email="ada@example.com", currency="USD",
                                      external_key=f"acct-{uuid4().hex[:10]}"))


@pytest.fixture
def stub_plugin(kb_state: KillBillState, tenant: Tenant) -> Iterator[StubPlugin]:
    """The sidecar stand-in, configured as the tenant's PLUGIN_NAME."""
    stub = StubPlugin()
    server = running(stub.app())
    kb_state.configure_plugin(tenant.tenant_id, PLUGIN_NAME, server.url, PLUGIN_SECRET)  # type: ignore[arg-type]
    yield stub
    stop_later(server)


@pytest.fixture
def push_receiver() -> Iterator[tuple[PushReceiver, str]]:
    receiver = PushReceiver()
    server = running(receiver.app())
    yield receiver, f"{server.url}/callback"
    stop_later(server)
