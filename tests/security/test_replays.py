"""Replays: a signed plugin request outside its window is refused; the same signed request re-sent inside
it (once, or many times at once) is idempotent, never a second charge; webhooks re-sent days later are
recognised and change nothing."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.jobs import Job
from bridge.db.payments import Transaction
from bridge.db.webhooks import InboundEvent
from bridge.jobs.catalog import build_worker
from bridge.payments import ids
from bridge.plugin_api import signature
from hyperswitch_client import compute_signature
from tests.plugin.conftest import payment_call
from tests.security.conftest import Side


def signed_purchase(side: Side, *, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = payment_call(side.payor.account_id, "19.99", kbPaymentMethodId=side.payor.kb_payment_method_id,
                        context={"tenantId": side.tenant_id, "userName": "kb", "callOrigin": "INTERNAL",
                                 "userType": "SYSTEM"})
    raw = json.dumps(body).encode()
    return raw, {signature.HEADER: signature.sign(raw, side.plugin_secret, timestamp=at)}


def transactions(runtime, side: Side) -> int:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(Transaction)
                              .where(Transaction.kb_tenant_id == side.tenant_id)) or 0


def test_a_signature_outside_the_window_is_refused_and_nothing_happens(tenant_a: Side, runtime, hs_state) -> None:  # type: ignore[no-untyped-def]
    stored, created = transactions(runtime, tenant_a), len(hs_state.payments_overview())
    for skew in (-signature.DEFAULT_TOLERANCE_SECONDS - 5, signature.DEFAULT_TOLERANCE_SECONDS + 5):
        raw, headers = signed_purchase(tenant_a, at=int(time.time()) + skew)
        response = tenant_a.plugin.raw("purchasePayment", raw, headers)
        assert response.status_code == 401 and "window" in response.json["errorMessage"]
    assert transactions(runtime, tenant_a) == stored and len(hs_state.payments_overview()) == created


def test_the_same_signed_request_inside_the_window_charges_once(tenant_a: Side, runtime, hs_state) -> None:  # type: ignore[no-untyped-def]
    raw, headers = signed_purchase(tenant_a)
    first = tenant_a.plugin.raw("purchasePayment", raw, headers)
    again = tenant_a.plugin.raw("purchasePayment", raw, headers)
    assert first.status_code == again.status_code == 200 and first.json["status"] == "PROCESSED"
    assert again.json == first.json
    kb_transaction_id = json.loads(raw)["kbTransactionId"]
    assert [p["create_calls"] for p in hs_state.payments_overview()
            if p["payment_id"] == ids.payment_id(kb_transaction_id)] == [1]


def test_a_storm_of_the_same_signed_request_charges_once(tenant_a: Side, runtime, hs_state, app) -> None:  # type: ignore[no-untyped-def]
    raw, headers = signed_purchase(tenant_a)
    stored = transactions(runtime, tenant_a)

    def send(_: int) -> tuple[int, str]:
        response = app.test_client().post("/plugin/v1/purchasePayment", data=raw,
                                          headers={**headers, "Content-Type": "application/json"})
        return response.status_code, response.json["status"]

    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(send, range(16)))
    assert answers == {(200, "PROCESSED")}
    assert transactions(runtime, tenant_a) == stored + 1
    kb_transaction_id = json.loads(raw)["kbTransactionId"]
    assert [p["create_calls"] for p in hs_state.payments_overview()
            if p["payment_id"] == ids.payment_id(kb_transaction_id)] == [1]


def test_a_hyperswitch_webhook_re_sent_days_later_changes_nothing(tenant_a: Side, runtime, client) -> None:  # type: ignore[no-untyped-def]
    payment_id = ids.payment_id(tenant_a.purchase["kbTransactionId"])
    event = json.dumps({"merchant_id": tenant_a.merchant["merchant_id"], "event_id": f"evt_{uuid.uuid4().hex[:20]}",
                        "event_type": "payment_failed", "timestamp": "2026-11-22T10:00:00.000Z",
                        "content": {"type": "payment_details",
                                    "object": {"payment_id": payment_id, "status": "failed"}}}).encode()
    headers = {"X-Webhook-Signature-512": compute_signature(event, tenant_a.merchant["payment_response_hash_key"])}
    first = client.post("/webhooks/hyperswitch", data=event, content_type="application/json", headers=headers)
    assert first.status_code == 200 and first.json["status"] == "accepted"
    build_worker(runtime).run_until_idle()  # a hint: re-read from Hyperswitch, where the payment succeeded
    info = tenant_a.plugin.ok("getPaymentInfo", kbAccountId=tenant_a.payor.account_id,
                              kbPaymentId=tenant_a.purchase["kbPaymentId"])
    assert [i["status"] for i in info] == ["PROCESSED"]
    jobs = job_count(runtime)

    runtime.clock = lambda: utcnow() + timedelta(days=3)
    replayed = client.post("/webhooks/hyperswitch", data=event, content_type="application/json", headers=headers)
    assert replayed.status_code == 200 and replayed.json["status"] == "duplicate"
    assert job_count(runtime) == jobs
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1
    assert [i["status"] for i in tenant_a.plugin.ok("getPaymentInfo", kbAccountId=tenant_a.payor.account_id,
                                                    kbPaymentId=tenant_a.purchase["kbPaymentId"])] == ["PROCESSED"]


def test_a_kill_bill_push_re_sent_later_is_recognised(tenant_a: Side, runtime, client) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"eventType": "ACCOUNT_CHANGE", "objectType": "ACCOUNT", "objectId": tenant_a.payor.account_id,
                       "accountId": tenant_a.payor.account_id, "tenantId": tenant_a.tenant_id,
                       "userToken": str(uuid.uuid4()), "metaData": None}).encode()
    path = f"/webhooks/killbill/{tenant_a.callback_token}"
    assert client.post(path, data=body, content_type="application/json").json["status"] == "accepted"
    jobs = job_count(runtime)
    runtime.clock = lambda: utcnow() + timedelta(days=3)
    assert client.post(path, data=body, content_type="application/json").json["status"] == "duplicate"
    assert job_count(runtime) == jobs


def job_count(runtime) -> int:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0
