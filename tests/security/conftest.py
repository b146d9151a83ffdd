"""The security suite's world: two tenants on shared simulators, A (the plugin harness's tenant) and B
(its own Kill Bill tenant, Hyperswitch merchant and secrets), each with an account, a saved card and
payments; what B holds, as a snapshot to compare; and a guard around every test of the suite that
fails it when a known secret shows up in a log line, a response body or a database column.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bridge.db.base import Base
from bridge.db.engine import session_scope
from bridge.db.tenancy import Tenant
from bridge.logs import configure_logging
from bridge.simulators.hyperswitch import SimulatorState
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient
from tests.conftest import ADMIN_TOKEN, MASTER_KEY
from tests.foundation.factories import SECRETS, tenant_payload
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.plugin.conftest import (KB_API_KEY, KB_API_SECRET, MERCHANT, PLUGIN_SECRET, Payor, PluginClient, make_payor,
                                   payment_call)

MERCHANT_B = {"merchant_id": "merchant_tenant_b", "api_key": "snd_tenantB_apikey_5e2c91d04b7a",
              "profile_id": "pro_tenant_b", "publishable_key": "pk_snd_tenant_b",
              "payment_response_hash_key": "tenantB_hash_key_" + "9f3e" * 12}
KB_B_API_KEY, KB_B_API_SECRET = "tenant-b", "tenantB-kb-api-secret-61d0c2"
KB_B_PASSWORD = "tenantB-kb-password-a77f3e"
PLUGIN_SECRET_B = "tenantB-plugin-shared-secret-0c4d8e"

# Every secret the suite's deployment holds, by name. Short or generic values (the Kill Bill simulator's
# admin "password") are left out: they would match ordinary text.
KNOWN_SECRETS = {
    "admin token": ADMIN_TOKEN, "master key": MASTER_KEY,
    "A: Hyperswitch API key": MERCHANT["api_key"], "A: webhook hash key": MERCHANT["payment_response_hash_key"],
    "A: plugin secret": PLUGIN_SECRET, "A: Kill Bill API secret": KB_API_SECRET,
    "B: Hyperswitch API key": MERCHANT_B["api_key"], "B: webhook hash key": MERCHANT_B["payment_response_hash_key"],
    "B: plugin secret": PLUGIN_SECRET_B, "B: Kill Bill API secret": KB_B_API_SECRET,
    "B: Kill Bill password": KB_B_PASSWORD,
    **{f"tenant_payload(): {name}": value for name, value in SECRETS.items()},
}


@dataclass
class Side:
    """One tenant as an attacker or a victim sees it."""

    tenant_id: str
    merchant: dict[str, str]
    plugin_secret: str
    plugin: PluginClient
    kb: KillBillClient
    hs: HyperswitchClient
    payor: Payor
    callback_token: str
    purchase: dict[str, Any]  # a PROCESSED purchase: its call body
    authorization: dict[str, Any]  # a PROCESSED authorization, not captured


def _callback_token(runtime, tenant_id: str) -> str:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        token = service.callback_token(session.get(Tenant, tenant_id), runtime.keyring)
    assert token
    return token


def _payments(side_plugin: PluginClient, payor: Payor) -> tuple[dict[str, Any], dict[str, Any]]:
    purchase = payment_call(payor.account_id, "40.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert side_plugin.ok("purchasePayment", **purchase)["status"] == "PROCESSED"
    authorization = payment_call(payor.account_id, "15.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert side_plugin.ok("authorizePayment", **authorization)["status"] == "PROCESSED"
    return purchase, authorization


@pytest.fixture
def tenant_a(runtime, tenant_id, plugin, kb, hs, payor) -> Side:  # type: ignore[no-untyped-def]
    purchase, authorization = _payments(plugin, payor)
    return Side(tenant_id, MERCHANT, PLUGIN_SECRET, plugin, kb, hs, payor, _callback_token(runtime, tenant_id),
                purchase, authorization)


@pytest.fixture
def tenant_b(runtime, client, hs_state: SimulatorState, hs_server, kb_server) -> Iterator[Side]:  # type: ignore[no-untyped-def]
    hs_state.seed_merchant(MERCHANT_B)
    with KillBillClient(kb_server.url, username="admin", password="password") as admin:
        tenant_id = str(admin.tenants.create(KB_B_API_KEY, KB_B_API_SECRET).tenant_id)
    payload = tenant_payload(
        kb_tenant_id=tenant_id, name="Tenant B", killbill_url=kb_server.url, kb_api_key=KB_B_API_KEY,
        kb_api_secret=KB_B_API_SECRET, kb_username="admin", kb_password=KB_B_PASSWORD, hs_base_url=hs_server.url,
        hs_merchant_id=MERCHANT_B["merchant_id"], hs_profile_id=MERCHANT_B["profile_id"],
        hs_api_key=MERCHANT_B["api_key"], hs_publishable_key=MERCHANT_B["publishable_key"],
        hs_webhook_secret=MERCHANT_B["payment_response_hash_key"], plugin_shared_secret=PLUGIN_SECRET_B)
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(payload), runtime.keyring)
    # The simulator's admin user reads Kill Bill for the bridge; B's account lives in B's Kill Bill tenant.
    kb_b = KillBillClient(kb_server.url, username="admin", password="password", api_key=KB_B_API_KEY,
                          api_secret=KB_B_API_SECRET)
    hs_b = HyperswitchClient(hs_server.url, MERCHANT_B["api_key"], profile_id=MERCHANT_B["profile_id"])
    plugin_b = PluginClient(client, tenant_id, secret=PLUGIN_SECRET_B)
    payor_b = make_payor(runtime, kb_b, hs_b, tenant_id)
    purchase, authorization = _payments(plugin_b, payor_b)
    yield Side(tenant_id, MERCHANT_B, PLUGIN_SECRET_B, plugin_b, kb_b, hs_b, payor_b,
               _callback_token(runtime, tenant_id), purchase, authorization)
    kb_b.close()
    hs_b.close()


def b_ids(side: Side) -> set[str]:
    """Identifiers of B's objects that must never appear in an answer to A."""
    from bridge.payments import ids

    values = {side.payor.account_id, side.payor.kb_payment_method_id, side.payor.payment_method_id,
              side.payor.customer_id}
    for call in (side.purchase, side.authorization):
        values |= {call["kbPaymentId"], call["kbTransactionId"], ids.payment_id(call["kbTransactionId"])}
    return values


def snapshot(runtime, hs_state: SimulatorState, kb_state, side: Side) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything the bridge, Hyperswitch and Kill Bill hold for B's tenant."""
    runtime.audit.flush()
    rows: dict[str, list[str]] = {}
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "kb_tenant_id" in table.c and table.name != "hyperswitch_calls":  # the call log only grows
                rows[table.name] = sorted(repr(tuple(row)) for row in conn.execute(
                    select(table).where(table.c.kb_tenant_id == side.tenant_id)))
    merchant = side.merchant["merchant_id"]
    with hs_state.lock:
        # Without create_calls: a create refused as "already exists" reached Hyperswitch but changed nothing.
        hyperswitch = sorted(repr({k: v for k, v in row.items() if k != "create_calls"})
                             for row in hs_state.payments_overview(merchant_id=merchant))
        refunds = sorted(key[1] for key in hs_state.refunds if key[0] == merchant)
    killbill = sorted(repr((p.id, [(t.type, t.status, t.amount) for t in p.transactions]))
                      for p in kb_state.payments.values() if str(p.tenant_id) == side.tenant_id)
    return {"bridge": rows, "hyperswitch": hyperswitch, "refunds": refunds, "killbill": killbill}


# -- the leak guard -------------------------------------------------------------------------------------
@dataclass
class Leak:
    secret: str
    where: str


def find_leaks(texts: dict[str, str], secrets: dict[str, str] | None = None) -> list[Leak]:
    """Which known secrets appear in which text (reported by name: the message must not leak them)."""
    secrets = KNOWN_SECRETS if secrets is None else secrets
    return [Leak(name, where) for where, text in texts.items() for name, value in secrets.items() if value in text]


@pytest.fixture
def responses_seen() -> list[str]:
    return []


@pytest.fixture
def app(runtime, responses_seen: list[str]):  # type: ignore[no-untyped-def]
    """The bridge app, keeping every response body it sends (error bodies included)."""
    from bridge.app import create_app

    application = create_app(runtime=runtime)
    application.config["TESTING"] = True

    @application.after_request
    def keep(response):  # type: ignore[no-untyped-def]
        if not response.direct_passthrough:
            responses_seen.append(f"{response.status_code} {response.get_data(as_text=True)}")
        return response

    return application


@pytest.fixture(autouse=True)
def leak_guard(runtime, responses_seen: list[str]) -> Iterator[Callable[[], str]]:  # type: ignore[no-untyped-def]
    """Bridge logs at DEBUG, through the deployment's own handler, for the whole test; then no known secret
    may be in them, in any response the app sent, or in any column of the test's database."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    yield stream.getvalue
    for handler in [h for h in root.handlers if getattr(h, "_bridge_handler", False)]:
        root.removeHandler(handler)
    root.setLevel(level)
    texts = {"logs": stream.getvalue(), "responses": "\n".join(responses_seen), "database": dump_database(runtime)}
    leaks = find_leaks(texts)
    assert not leaks, "secrets in plain text: " + ", ".join(f"{leak.secret} in {leak.where}" for leak in leaks)


def dump_database(runtime) -> str:  # type: ignore[no-untyped-def]
    """Every row of every table, as text."""
    if runtime._audit is not None:
        runtime.audit.flush()
    lines = []
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            lines.extend(f"{table.name}: {tuple(row)!r}" for row in conn.execute(select(table)))
    return "\n".join(lines)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
