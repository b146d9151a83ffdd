"""Hyperswitch webhooks: verified, stored before 2xx, processed by the worker exactly once, whatever
the order, duplication, forgery or timing of deliveries."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.jobs import Job, JobState
from bridge.db.payments import PaymentMethod, PaymentMethodState, Transaction
from bridge.db.webhooks import EventState, InboundEvent
from bridge.jobs.worker import Worker
from bridge.payments import ids
from bridge.simulators.server import BackgroundServer
from hyperswitch_client import compute_signature
from hyperswitch_client.profiles import WebhookDetailsParams
from tests.jobs import drain, fast_worker
from tests.plugin.conftest import MERCHANT, payment_call

SECRET = MERCHANT["payment_response_hash_key"]


def envelope(object_: dict, event_type: str = "payment_succeeded", content_type: str = "payment_details",
             event_id: str | None = None, merchant_id: str = MERCHANT["merchant_id"]) -> bytes:
    return json.dumps({"merchant_id": merchant_id, "event_id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
                       "event_type": event_type, "content": {"type": content_type, "object": object_},
                       "timestamp": "2026-11-22T10:00:00.000Z"}).encode()


def post(client, body: bytes, secret: str = SECRET, signature: str | None = None):  # type: ignore[no-untyped-def]
    sig = signature if signature is not None else compute_signature(body, secret)
    return client.post("/webhooks/hyperswitch", data=body, content_type="application/json",
                       headers={"X-Webhook-Signature-512": sig})


def events(runtime) -> list[InboundEvent]:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


@pytest.fixture
def worker(runtime) -> Worker:  # type: ignore[no-untyped-def]
    return fast_worker(runtime, max_attempts=15)


@pytest.fixture
def bridge_server(app) -> Iterator[BackgroundServer]:  # type: ignore[no-untyped-def]
    with BackgroundServer(app) as server:
        yield server


@pytest.fixture
def deliveries_to_bridge(hs, bridge_server, hs_state):  # type: ignore[no-untyped-def]
    """Point the profile's webhooks at the bridge, for every payment and refund status."""
    hs.profiles.update_webhook_details(MERCHANT["merchant_id"], WebhookDetailsParams(
        webhook_url=f"{bridge_server.url}/webhooks/hyperswitch",
        payment_statuses_enabled=["succeeded", "failed", "processing", "requires_capture", "cancelled"]),
        MERCHANT["profile_id"])
    return hs_state


def _status(runtime, kb_transaction_id: str) -> str:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalars(select(Transaction.status).where(
            Transaction.kb_transaction_id == kb_transaction_id)).one().value


# -- receiving ------------------------------------------------------------------------------------------
def test_a_signed_webhook_is_stored_then_acknowledged_and_duplicates_are_ignored(client, runtime, tenant_id) -> None:
    body = envelope({"payment_id": "pay_foreign_000000000001", "status": "succeeded"}, event_id="evt_1")
    first = post(client, body)
    assert first.status_code == 200 and first.json["status"] == "accepted"
    again = post(client, body)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    stored = events(runtime)
    assert len(stored) == 1 and stored[0].body == body.decode() and stored[0].state is EventState.RECEIVED
    with session_scope(runtime.sessions) as session:
        assert session.scalars(select(Job.kind)).all() == ["inbound_event.process"]


@pytest.mark.parametrize("case", ["bad signature", "no signature", "other key", "tampered", "unknown merchant"])
def test_forged_webhooks_are_refused_and_nothing_is_stored(client, runtime, tenant_id, case) -> None:
    body = envelope({"payment_id": "pay_x", "status": "succeeded"})
    if case == "bad signature":
        response = post(client, body, signature="00" * 64)
    elif case == "no signature":
        response = client.post("/webhooks/hyperswitch", data=body, content_type="application/json")
    elif case == "other key":
        response = post(client, body, secret="someone-elses-key")
    elif case == "tampered":
        response = post(client, body, signature=compute_signature(body.replace(b"succeeded", b"failed"), SECRET))
    else:
        other = envelope({"payment_id": "pay_x"}, merchant_id="merchant_unknown")
        response = post(client, other)
    assert response.status_code == 401
    assert response.json["error"] == "webhook_refused"
    assert events(runtime) == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'bridge_webhooks_received_total{outcome="bad_signature",source="hyperswitch"}' in metrics \
        or 'bridge_webhooks_received_total{outcome="unknown_merchant",source="hyperswitch"}' in metrics


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"merchant_id": "m"}', b'{"content": 5}'])
def test_malformed_bodies_are_refused(client, runtime, tenant_id, raw) -> None:
    assert post(client, raw).status_code == 401
    assert events(runtime) == []


# -- processing -----------------------------------------------------------------------------------------
def test_async_payment_pending_then_webhook_makes_it_processed(plugin, payor, deliveries_to_bridge, runtime,
                                                              worker) -> None:
    deliveries_to_bridge.set_mandate_behaviour(payor.mandate_id, "processing")
    body = payment_call(payor.account_id, "15.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert plugin.ok("purchasePayment", **body)["status"] == "PENDING"
    deliveries_to_bridge.settle_payment(ids.payment_id(body["kbTransactionId"]), "succeeded")
    assert deliveries_to_bridge.wait_for_deliveries(timeout=10)
    drain(worker)
    assert _status(runtime, body["kbTransactionId"]) == "PROCESSED"
    processed = [e for e in events(runtime) if e.state is EventState.PROCESSED]
    assert processed and body["kbTransactionId"] in processed[-1].outcome


def test_the_failure_path(plugin, payor, deliveries_to_bridge, runtime, worker) -> None:
    deliveries_to_bridge.set_mandate_behaviour(payor.mandate_id, "processing")
    body = payment_call(payor.account_id, "15.00", kbPaymentMethodId=payor.kb_payment_method_id)
    plugin.ok("purchasePayment", **body)
    deliveries_to_bridge.settle_payment(ids.payment_id(body["kbTransactionId"]), "failed")
    deliveries_to_bridge.wait_for_deliveries(timeout=10)
    drain(worker)
    assert _status(runtime, body["kbTransactionId"]) == "ERROR"


def test_a_forged_success_for_a_pending_payment_changes_nothing(client, plugin, payor, hs_state, runtime,
                                                                worker) -> None:
    hs_state.set_mandate_behaviour(payor.mandate_id, "processing")
    body = payment_call(payor.account_id, "15.00", kbPaymentMethodId=payor.kb_payment_method_id)
    plugin.ok("purchasePayment", **body)
    hs_id = ids.payment_id(body["kbTransactionId"])
    # Correctly signed, but the body lies: Hyperswitch itself still says processing.
    post(client, envelope({"payment_id": hs_id, "status": "succeeded"}))
    drain(worker)
    assert _status(runtime, body["kbTransactionId"]) == "PENDING"


def test_an_event_that_beats_the_plugin_answer_is_retried_not_dropped(client, runtime, tenant_id, worker,
                                                                      payor, plugin) -> None:
    body = payment_call(payor.account_id, "4.00", kbPaymentMethodId=payor.kb_payment_method_id)
    hs_id = ids.payment_id(body["kbTransactionId"])
    post(client, envelope({"payment_id": hs_id, "status": "succeeded"}))
    worker.run_once()
    event = events(runtime)[0]
    assert event.state is EventState.FAILED and "not known to the bridge yet" in event.outcome
    with session_scope(runtime.sessions) as session:
        assert session.get(Job, event.job_id).state is JobState.PENDING  # will run again
    plugin.ok("purchasePayment", **body)
    drain(worker)
    assert events(runtime)[0].state is EventState.PROCESSED


def test_events_about_objects_kill_bill_never_had_are_recorded_and_skipped(client, runtime, tenant_id,
                                                                          worker) -> None:
    post(client, envelope({"payment_id": "pay_made_elsewhere_0001", "status": "succeeded"}))
    post(client, envelope({"refund_id": "ref_made_elsewhere_0001", "payment_id": "pay_x"},
                          "refund_succeeded", "refund_details"))
    post(client, envelope({"payout_id": "po_1"}, "payout_success", "payout_details"))
    drain(worker)
    assert [e.state for e in events(runtime)] == [EventState.SKIPPED] * 3


def test_mandate_revoked_makes_the_payment_method_unusable(client, payor, hs_state, runtime, tenant_id,
                                                          worker, plugin) -> None:
    hs_state.revoke_mandate(payor.mandate_id)
    post(client, envelope({"mandate_id": payor.mandate_id, "status": "revoked"}, "mandate_revoked",
                          "mandate_details"))
    drain(worker)
    with session_scope(runtime.sessions) as session:
        method = session.get(PaymentMethod, (tenant_id, payor.kb_payment_method_id))
        assert method.state is PaymentMethodState.UNUSABLE and method.mandate_status == "revoked"
    info = plugin.ok("purchasePayment", **payment_call(payor.account_id, "1.00",
                                                       kbPaymentMethodId=payor.kb_payment_method_id))
    assert info["status"] == "ERROR" and info["gatewayErrorCode"] == "PAYMENT_METHOD_UNUSABLE"


def test_storm_of_duplicated_and_shuffled_events_ends_as_the_ordered_stream(client, plugin, payor, hs_state,
                                                                           runtime, worker) -> None:
    """Thousands of deliveries, with duplicates and in random order, settle every transaction once."""
    hs_state.set_mandate_behaviour(payor.mandate_id, "processing")
    bodies = [payment_call(payor.account_id, "1.00", kbPaymentMethodId=payor.kb_payment_method_id)
              for _ in range(40)]
    for body in bodies:
        plugin.ok("purchasePayment", **body)
    expected = {}
    deliveries = []
    for index, body in enumerate(bodies):
        hs_id = ids.payment_id(body["kbTransactionId"])
        final = "succeeded" if index % 3 else "failed"
        hs_state.settle_payment(hs_id, final)
        expected[body["kbTransactionId"]] = "PROCESSED" if final == "succeeded" else "ERROR"
        for kind in ("payment_processing", f"payment_{final}"):
            event = envelope({"payment_id": hs_id, "status": final}, kind)
            deliveries += [event] * 13  # every event delivered many times
    random.Random(7).shuffle(deliveries)
    for event in deliveries:
        assert post(client, event).status_code == 200
    drain(worker, rounds=500)
    assert {txn: _status(runtime, txn) for txn in expected} == expected
    stored = events(runtime)
    assert len(stored) == 80 and len(deliveries) == 80 * 13
    assert all(e.state is EventState.PROCESSED for e in stored)
