"""creditPayment: CANCELED unless the tenant enables payouts; then one Hyperswitch payout per
kbTransactionId to the account's saved payment method, its status mapped and resolved by getPaymentInfo,
Kill Bill's completion call, webhooks, relayed notifications and the sweeper."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.payments import PaymentMethod, Transaction
from bridge.db.webhooks import EventState, InboundEvent
from bridge.jobs.catalog import build_registry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import Worker, WorkerConfig
from bridge.payments import ids, service
from bridge.payments.sweeper import sweep_tenant
from bridge.simulators.server import BackgroundServer
from bridge.tenancy import service as tenancy
from bridge.tenancy.schemas import TenantUpdate
from hyperswitch_client.profiles import WebhookDetailsParams
from tests.plugin.conftest import MERCHANT, Payor, payment_call
from tests.plugin.conftest import make_payor
from tests.plugin.test_purchase import history

MERCHANT_ID = MERCHANT["merchant_id"]


@pytest.fixture
def payor(runtime, kb, hs, tenant_id) -> Payor:  # type: ignore[no-untyped-def]
    """An account whose Kill Bill payment method is a card saved in Hyperswitch (no mandate)."""
    return make_payor(runtime, kb, hs, tenant_id, mandate=False)


@pytest.fixture
def payouts_on(runtime, tenant_id) -> None:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        tenancy.update_tenant(session, tenant_id, TenantUpdate(settings={"payouts": {"enabled": True}}),
                              runtime.keyring)
    assert runtime.tenant_env(tenant_id).settings.payouts.enabled


def credit(plugin, payor: Payor, amount: str = "12.34", **extra):  # type: ignore[no-untyped-def]
    body = payment_call(payor.account_id, amount, kbPaymentMethodId=payor.kb_payment_method_id, **extra)
    return body, plugin.ok("creditPayment", **body)


def create_calls(hs_state, payout_id: str) -> int:  # type: ignore[no-untyped-def]
    return next((p["create_calls"] for p in hs_state.payouts_overview() if p["payout_id"] == payout_id), 0)


def info_of(plugin, payor: Payor, body: dict) -> list[dict]:  # type: ignore[no-untyped-def]
    return plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=body["kbPaymentId"])


# -- switched off -------------------------------------------------------------------------------------
def test_without_payouts_a_credit_is_canceled_and_nothing_is_sent(plugin, payor, hs_state, runtime,
                                                                   tenant_id) -> None:
    assert runtime.tenant_env(tenant_id).settings.payouts.enabled is False  # the default
    body, info = credit(plugin, payor)
    assert (info["status"], info["gatewayErrorCode"]) == ("CANCELED", "CREDIT_NOT_SUPPORTED")
    assert "not enabled" in info["gatewayError"]
    assert hs_state.payouts_overview() == [] and hs_state.payouts == {}
    assert plugin.ok("creditPayment", **body)["status"] == "CANCELED"  # the stored answer


def test_the_setting_is_validated_and_documented(runtime, tenant_id) -> None:
    from bridge.errors import BadRequest
    from bridge.tenancy.schemas import TenantSettings

    schema = TenantSettings.model_json_schema()
    assert "payouts" in schema["properties"]
    assert "CREDIT_NOT_SUPPORTED" in json.dumps(schema)  # the description says what "off" means
    with session_scope(runtime.sessions) as session, pytest.raises(BadRequest, match="payouts"):
        tenancy.update_tenant(session, tenant_id, TenantUpdate(settings={"payouts": {"enabled": "sometimes"}}),
                              runtime.keyring)


# -- switched on -------------------------------------------------------------------------------------
def test_a_credit_is_paid_out_to_the_saved_payment_method(plugin, payor, hs, payouts_on, runtime) -> None:
    body, info = credit(plugin, payor, "12.34")
    payout_id = ids.payout_id(body["kbTransactionId"])
    assert info["status"] == "PROCESSED"
    assert (info["transactionType"], info["amount"], info["currency"]) == ("CREDIT", "12.34", "USD")
    assert info["kbTransactionPaymentId"] == body["kbTransactionId"]
    assert info["firstPaymentReferenceId"] == payout_id and len(payout_id) == 30
    payout = hs.payouts.retrieve(payout_id)
    assert (str(payout.status), payout.amount, payout.currency) == ("success", 1234, "USD")
    assert (payout.customer_id, payout.payout_method_id) == (payor.customer_id, payor.payment_method_id)
    assert payout.auto_fulfill is True and str(payout.payout_type) == "card"
    assert payout.metadata["kb_transaction_id"] == body["kbTransactionId"]
    assert payout.merchant_order_reference_id == body["kbPaymentId"]
    assert info["secondPaymentReferenceId"] == payout.connector_transaction_id
    assert history(runtime, body["kbTransactionId"]) == [(None, "UNDEFINED", "plugin"),
                                                         ("UNDEFINED", "PROCESSED", "plugin")]
    assert [i["status"] for i in info_of(plugin, payor, body)] == ["PROCESSED"]
    found = plugin.ok("searchPayments", searchKey=payout_id, offset=0, limit=10)["records"]
    assert [r["kbTransactionPaymentId"] for r in found] == [body["kbTransactionId"]]


def test_zero_and_three_decimal_currencies(plugin, runtime, kb, hs, tenant_id, payouts_on) -> None:
    for currency, amount, minor in (("JPY", "1500", 1500), ("KWD", "1.234", 1234)):
        payor = make_payor(runtime, kb, hs, tenant_id, currency=currency, mandate=False)
        body, info = credit(plugin, payor, amount, currency=currency)
        assert info["status"] == "PROCESSED" and info["amount"] == amount
        assert hs.payouts.retrieve(ids.payout_id(body["kbTransactionId"])).amount == minor


def test_a_pending_payout_is_settled_through_get_payment_info(plugin, payor, hs_state, payouts_on,
                                                              runtime) -> None:
    hs_state.set_payout_behaviour("pending", merchant_id=MERCHANT_ID)
    body, info = credit(plugin, payor)
    assert info["status"] == "PENDING"
    assert [i["status"] for i in info_of(plugin, payor, body)] == ["PENDING"]  # Hyperswitch still working
    hs_state.settle_payout(ids.payout_id(body["kbTransactionId"]), "success", notify=False)
    assert [i["status"] for i in info_of(plugin, payor, body)] == ["PROCESSED"]
    assert history(runtime, body["kbTransactionId"])[-1] == ("PENDING", "PROCESSED", "refresh")


def test_kill_bills_completion_call_refreshes_a_pending_credit(plugin, payor, hs_state, payouts_on) -> None:
    hs_state.set_payout_behaviour("initiated", merchant_id=MERCHANT_ID)
    body, info = credit(plugin, payor)
    assert info["status"] == "PENDING"
    hs_state.settle_payout(ids.payout_id(body["kbTransactionId"]), "failed", error_code="AC04",
                           error_message="closed account", notify=False)
    again = plugin.ok("creditPayment", **body)
    assert (again["status"], again["gatewayErrorCode"], again["gatewayError"]) == ("ERROR", "AC04", "closed account")
    assert create_calls(hs_state, ids.payout_id(body["kbTransactionId"])) == 1


@pytest.mark.parametrize(("outcome", "code"), [("failed", "payout_declined"), ("ineligible", "payout_ineligible")])
def test_a_refused_payout_is_an_error_with_the_gateway_code(plugin, payor, hs_state, payouts_on, outcome: str,
                                                            code: str) -> None:
    hs_state.set_payout_behaviour(outcome, merchant_id=MERCHANT_ID, payment_method_id=payor.payment_method_id)
    _, info = credit(plugin, payor)
    assert (info["status"], info["gatewayErrorCode"]) == ("ERROR", code)
    assert info["gatewayError"]


def test_a_payment_method_without_a_saved_hyperswitch_method_is_refused_unsent(plugin, runtime, kb, hs, tenant_id,
                                                                               hs_state, payouts_on) -> None:
    payor = make_payor(runtime, kb, hs, tenant_id, mandate=True)
    with session_scope(runtime.sessions) as session:
        session.get(PaymentMethod, (tenant_id, payor.kb_payment_method_id)).hs_payment_method_id = None
    _, info = credit(plugin, payor)
    assert (info["status"], info["gatewayErrorCode"]) == ("ERROR", "NO_PAYOUT_METHOD")
    assert hs_state.payouts_overview() == []


def test_unknown_or_foreign_payment_methods_are_4xx_and_nothing_is_stored(plugin, runtime, kb, hs, tenant_id,
                                                                          payor, hs_state, payouts_on) -> None:
    other = make_payor(runtime, kb, hs, tenant_id, mandate=False)
    for pm in (str(uuid.uuid4()), other.kb_payment_method_id):
        body = payment_call(payor.account_id, "1.00", kbPaymentMethodId=pm)
        response = plugin.call("creditPayment", **body)
        assert 400 <= response.status_code < 500 and response.json["errorType"]
    with session_scope(runtime.sessions) as session:
        assert session.scalars(select(Transaction)).all() == []
    assert hs_state.payouts_overview() == []


# -- exactly once -----------------------------------------------------------------------------------------
def test_a_repeated_call_makes_one_payout(plugin, payor, hs_state, payouts_on) -> None:
    body, first = credit(plugin, payor)
    again = plugin.ok("creditPayment", **body)
    assert first == again
    assert create_calls(hs_state, ids.payout_id(body["kbTransactionId"])) == 1


def test_concurrent_duplicates_make_exactly_one_payout(plugin, payor, hs_state, payouts_on) -> None:
    hs_state.add_fault("POST", "/payouts/create", "latency", latency_ms=300)
    body = payment_call(payor.account_id, "5.00", kbPaymentMethodId=payor.kb_payment_method_id)
    results: list[dict] = []
    barrier = threading.Barrier(5)

    def call() -> None:
        barrier.wait()
        results.append(plugin.ok("creditPayment", **body))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r["status"] for r in results] == ["PROCESSED"] * 5
    assert create_calls(hs_state, ids.payout_id(body["kbTransactionId"])) == 1
    assert len(hs_state.payouts) == 1


def test_committed_then_dropped_is_undefined_then_resolved_with_one_payout(plugin, payor, hs_state, payouts_on,
                                                                          runtime) -> None:
    hs_state.add_fault("POST", "/payouts/create", "drop_after_commit")  # every try: the answer never arrives
    body, info = credit(plugin, payor)
    payout_id = ids.payout_id(body["kbTransactionId"])
    assert info["status"] == "UNDEFINED"
    assert create_calls(hs_state, payout_id) >= 1
    hs_state.clear_faults()
    assert [i["status"] for i in info_of(plugin, payor, body)] == ["PROCESSED"]
    assert [key for key in hs_state.payouts] == [(MERCHANT_ID, payout_id)]
    assert history(runtime, body["kbTransactionId"])[-1] == ("UNDEFINED", "PROCESSED", "refresh")


def test_a_server_error_is_undefined_and_completion_sends_the_create_once(plugin, payor, hs_state,
                                                                         payouts_on) -> None:
    hs_state.add_fault("POST", "/payouts/create", "error", status=503)
    body, info = credit(plugin, payor)
    assert info["status"] == "UNDEFINED"
    payout_id = ids.payout_id(body["kbTransactionId"])
    assert create_calls(hs_state, payout_id) == 0  # refused in front of the router: never made
    hs_state.clear_faults()
    again = plugin.ok("creditPayment", **body)
    assert again["status"] == "PROCESSED"
    assert create_calls(hs_state, payout_id) == 1


def test_a_payout_hyperswitch_never_received_is_canceled_after_the_grace(plugin, payor, hs_state, runtime,
                                                                        tenant_id, payouts_on) -> None:
    hs_state.add_fault("POST", "/payouts/create", "reset")  # refused before processing, answer lost
    body, info = credit(plugin, payor)
    assert info["status"] == "UNDEFINED"
    assert [i["status"] for i in info_of(plugin, payor, body)] == ["UNDEFINED"]  # too early to say
    runtime.clock = lambda: utcnow() + service.NEVER_RECEIVED_AFTER + timedelta(seconds=1)
    runtime.reset_clients()
    infos = info_of(plugin, payor, body)
    assert (infos[0]["status"], infos[0]["gatewayErrorCode"]) == ("CANCELED", "NOT_RECEIVED")
    assert create_calls(hs_state, ids.payout_id(body["kbTransactionId"])) == 0


# -- resolved by webhooks, Kill Bill's notifications and the sweeper ------------------------------------
def test_a_payout_webhook_settles_a_pending_credit(plugin, payor, hs, hs_state, app, runtime, payouts_on) -> None:
    hs_state.set_payout_behaviour("pending", merchant_id=MERCHANT_ID)
    body, info = credit(plugin, payor)
    payout_id = ids.payout_id(body["kbTransactionId"])
    assert info["status"] == "PENDING"
    with BackgroundServer(app) as bridge:
        hs.profiles.update_webhook_details(MERCHANT_ID, WebhookDetailsParams(
            webhook_url=f"{bridge.url}/webhooks/hyperswitch"), MERCHANT["profile_id"])
        hs_state.settle_payout(payout_id, "success")
        assert hs_state.wait_for_deliveries(timeout=10)
    (delivery,) = hs_state.deliveries()
    assert (delivery["event_type"], delivery["state"]) == ("payout_success", "delivered")
    fast = RetryPolicy(max_attempts=15, base_seconds=0.01, max_seconds=0.05)
    worker = Worker(runtime.sessions, build_registry(), WorkerConfig(poll_seconds=0.01, lease_seconds=30,
                                                                     policy=fast), services=runtime)
    for _ in range(20):
        if not worker.run_once():
            break
    with session_scope(runtime.sessions) as session:
        (event,) = session.scalars(select(InboundEvent)).all()
        assert (event.event_type, event.object_id, event.state) == ("payout_success", payout_id,
                                                                    EventState.PROCESSED)
    assert history(runtime, body["kbTransactionId"])[-1] == ("PENDING", "PROCESSED", "webhook")


def test_process_notification_reconciles_a_payout_from_hyperswitch(plugin, payor, hs_state, runtime,
                                                                   payouts_on) -> None:
    hs_state.set_payout_behaviour("pending", merchant_id=MERCHANT_ID)
    body, _ = credit(plugin, payor)
    payout_id = ids.payout_id(body["kbTransactionId"])
    # A forged "success" relayed by Kill Bill changes nothing while Hyperswitch still says pending.
    forged = {"merchant_id": MERCHANT_ID, "event_id": "evt_forged_payout", "event_type": "payout_success",
              "content": {"type": "payout_details", "object": {"payout_id": payout_id, "status": "success"}},
              "timestamp": "2026-11-22T00:00:00Z"}
    answer = plugin.ok("processNotification", notification=json.dumps(forged))
    assert (answer["status"], answer["kbPaymentId"]) == (200, body["kbPaymentId"])
    assert history(runtime, body["kbTransactionId"])[-1][1] == "PENDING"
    hs_state.settle_payout(payout_id, "success", notify=False)
    plugin.ok("processNotification", notification=json.dumps(forged))
    assert history(runtime, body["kbTransactionId"])[-1] == ("PENDING", "PROCESSED", "notification")


def test_the_sweeper_resolves_a_stale_pending_credit(plugin, payor, hs_state, runtime, tenant_id,
                                                    payouts_on) -> None:
    hs_state.set_payout_behaviour("pending", merchant_id=MERCHANT_ID)
    body, _ = credit(plugin, payor)
    hs_state.settle_payout(ids.payout_id(body["kbTransactionId"]), "success", notify=False)
    runtime.clock = lambda: utcnow() + timedelta(hours=1)
    runtime.reset_clients()
    assert sweep_tenant(runtime.tenant_env(tenant_id)) == 1
    assert history(runtime, body["kbTransactionId"])[-1] == ("PENDING", "PROCESSED", "sweeper")
