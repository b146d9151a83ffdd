"""The plugin contract under test: the bridge app, a tenant mapped to a Hyperswitch simulator and a
Kill Bill simulator on loopback, and a signing client that calls ``/plugin/v1/<operation>`` the way
the Java plugin does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from bridge.db.engine import session_scope
from bridge.db.payments import PaymentMethod
from bridge.payments import ids
from bridge.plugin_api import signature
from bridge.simulators.hyperswitch import SimulatorState
from bridge.simulators.hyperswitch import create_app as hyperswitch_app
from bridge.simulators.killbill import KillBillState
from bridge.simulators.killbill import create_app as killbill_app
from bridge.simulators.payors import save_card
from bridge.simulators.server import BackgroundServer
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient
from killbill_client.models import Account
from tests.foundation.factories import tenant_payload

MERCHANT = {"merchant_id": "merchant_plugin", "api_key": "snd_plugin_api_key_0001", "profile_id": "pro_plugin",
            "publishable_key": "pk_snd_plugin", "payment_response_hash_key": "plugin_hash_key_" + "c" * 48}
KB_API_KEY, KB_API_SECRET = "plugin-tenant", "plugin-tenant-secret"
PLUGIN_SECRET = "plugin-shared-secret-7a7a7a"
APPROVE, DECLINE, INSUFFICIENT, ASYNC, THREE_DS = ("4242424242424242", "4000000000000002", "4000000000009995",
                                                   "4000000000000077", "4000003800000446")


@pytest.fixture
def hs_state() -> Iterator[SimulatorState]:
    state = SimulatorState()
    state.seed_merchant(MERCHANT)
    state.configure_webhooks(retry_schedule=[0.05, 0.1], timeout=2.0)
    yield state
    state.shutdown()


@pytest.fixture
def hs_server(hs_state: SimulatorState) -> Iterator[BackgroundServer]:
    with BackgroundServer(hyperswitch_app(hs_state)) as server:
        yield server


@pytest.fixture
def hs(hs_server: BackgroundServer) -> Iterator[HyperswitchClient]:
    """The merchant's own view of Hyperswitch, to prepare and check what the bridge did."""
    client = HyperswitchClient(hs_server.url, MERCHANT["api_key"], profile_id=MERCHANT["profile_id"])
    yield client
    client.close()


@pytest.fixture
def kb_state() -> Iterator[KillBillState]:
    state = KillBillState()
    yield state
    state.close()


@pytest.fixture
def kb_server(kb_state: KillBillState) -> Iterator[BackgroundServer]:
    with BackgroundServer(killbill_app(kb_state)) as server:
        yield server


@pytest.fixture
def kb_tenant_id(kb_server: BackgroundServer) -> str:
    with KillBillClient(kb_server.url, username="admin", password="password") as admin:
        return str(admin.tenants.create(KB_API_KEY, KB_API_SECRET).tenant_id)


@pytest.fixture
def kb(kb_server: BackgroundServer, kb_tenant_id: str) -> Iterator[KillBillClient]:
    """The tenant's own view of Kill Bill."""
    with KillBillClient(kb_server.url, username="admin", password="password", api_key=KB_API_KEY,
                        api_secret=KB_API_SECRET) as client:
        yield client


@pytest.fixture
def tenant_id(runtime, kb_tenant_id, hs_server, kb_server) -> str:  # type: ignore[no-untyped-def]
    """The Kill Bill tenant mapped in the bridge to the simulators."""
    from bridge.db.engine import session_scope
    from bridge.tenancy import service
    from bridge.tenancy.schemas import TenantCreate

    payload = tenant_payload(
        kb_tenant_id=kb_tenant_id, killbill_url=kb_server.url, kb_api_key=KB_API_KEY,
        kb_api_secret=KB_API_SECRET, kb_username="admin", kb_password="password", hs_base_url=hs_server.url,
        hs_merchant_id=MERCHANT["merchant_id"], hs_profile_id=MERCHANT["profile_id"],
        hs_api_key=MERCHANT["api_key"], hs_publishable_key=MERCHANT["publishable_key"],
        hs_webhook_secret=MERCHANT["payment_response_hash_key"], plugin_shared_secret=PLUGIN_SECRET)
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(payload), runtime.keyring)
    return kb_tenant_id


@dataclass
class PluginClient:
    """Calls ``/plugin/v1/<operation>`` like the Java forwarding plugin, signed with the shared secret."""

    http: Any
    tenant_id: str
    secret: str = PLUGIN_SECRET
    calls: list[tuple[str, int]] = field(default_factory=list)

    def raw(self, operation: str, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        sent = {"Content-Type": "application/json", signature.HEADER: signature.sign(body, self.secret)}
        sent.update(headers or {})
        response = self.http.post(f"/plugin/v1/{operation}", data=body, headers=sent)
        self.calls.append((operation, response.status_code))
        return response

    def call(self, operation: str, **params: Any):  # type: ignore[no-untyped-def]
        params.setdefault("context", {"tenantId": self.tenant_id, "userName": "test", "callOrigin": "EXTERNAL",
                                      "userType": "ADMIN"})
        return self.raw(operation, json.dumps(params, default=str).encode())

    def ok(self, operation: str, **params: Any) -> Any:
        response = self.call(operation, **params)
        assert response.status_code == 200, (operation, response.status_code, response.get_data(as_text=True))
        return response.json


@pytest.fixture
def plugin(client, tenant_id: str) -> PluginClient:  # type: ignore[no-untyped-def]
    return PluginClient(client, tenant_id)


@dataclass
class Payor:
    """A Kill Bill account with a card saved in Hyperswitch (a payment method and a mandate)."""

    account_id: str
    customer_id: str
    payment_method_id: str
    mandate_id: str | None
    kb_payment_method_id: str


def new_account(kb: KillBillClient, currency: str = "USD") -> Account:
    return kb.accounts.create(Account(name="Ada Lovelace", email="ada@example.test", currency=currency,
                                      external_key=f"ada-{uuid.uuid4().hex[:8]}"))


def payment_call(account_id: str, amount: str | Decimal, currency: str = "USD", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kbAccountId": account_id, "kbPaymentId": str(uuid.uuid4()),
                            "kbTransactionId": str(uuid.uuid4()), "amount": str(amount), "currency": currency}
    body.update(extra)
    return body


@pytest.fixture
def payor(runtime, kb, hs, tenant_id) -> Payor:  # type: ignore[no-untyped-def]
    """An account whose Kill Bill payment method holds a Hyperswitch mandate (stored directly, so payment
    tests do not depend on addPaymentMethod, which has tests of its own)."""
    return make_payor(runtime, kb, hs, tenant_id)


def make_payor(runtime, kb, hs, tenant_id, currency: str = "USD", mandate: bool = True) -> Payor:  # type: ignore[no-untyped-def]
    account = new_account(kb, currency)
    customer = ids.customer_id(account.account_id)
    pm_id, mandate_id = save_card(hs, customer, mandate=mandate, currency=currency)
    kb_pm_id = str(uuid.uuid4())
    with session_scope(runtime.sessions) as session:
        session.add(PaymentMethod(kb_tenant_id=tenant_id, kb_payment_method_id=kb_pm_id,
                                  kb_account_id=str(account.account_id), hs_customer_id=customer,
                                  hs_payment_method_id=pm_id, hs_mandate_id=mandate_id, is_default=True))
    return Payor(str(account.account_id), customer, pm_id, mandate_id, kb_pm_id)
