"""Outgoing webhooks to a local receiver: envelope, signature, events per status, retries, duplicates,
reordering, delay and filters."""

from __future__ import annotations

import re
import time

import requests

from bridge.simulators.hyperswitch import SimulatorState

from .conftest import MERCHANT_A, WebhookReceiver
from .contract import HyperswitchHttp, validate_webhook
from .helpers import APPROVE, DECLINE, PROCESSING, THREE_DS, eventually, new_id, pay, save_card_payment, signature

PROFILE_PATH = f"/account/{MERCHANT_A['merchant_id']}/business_profile/{MERCHANT_A['profile_id']}"


def events_for(receiver: WebhookReceiver, object_id: str) -> list[str]:
    return [e["event_type"] for e in receiver.events()
            if e["content"]["object"].get("payment_id") == object_id
            or e["content"]["object"].get("refund_id") == object_id
            or e["content"]["object"].get("mandate_id") == object_id]


def test_envelope_headers_and_signature(hs: HyperswitchHttp, webhooked: WebhookReceiver) -> None:
    payment = pay(hs, APPROVE)

    (received,) = webhooked.wait_for(1)

    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "Hyperswitch-Backend-Server"
    assert received.headers["Via"] == "HyperSwitch"
    expected = signature(received.body, MERCHANT_A["payment_response_hash_key"])
    assert received.headers["X-Webhook-Signature-512"] == expected
    event = received.json()
    assert set(event) == {"merchant_id", "event_id", "event_type", "content", "timestamp", "processor_merchant_id"}
    assert (event["merchant_id"], event["event_type"]) == ("merchant_a", "payment_succeeded")
    assert re.fullmatch(r"evt_[A-Za-z0-9]{20}", event["event_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["timestamp"])
    assert event["content"]["type"] == "payment_details"
    assert event["content"]["object"] == hs.get(f"/payments/{payment['payment_id']}").json()
    validate_webhook(event)


def test_a_tampered_body_does_not_match_the_signature(hs: HyperswitchHttp, webhooked: WebhookReceiver) -> None:
    pay(hs, APPROVE)

    (received,) = webhooked.wait_for(1)

    tampered = received.body.replace(b'"payment_succeeded"', b'"payment_failed"')
    assert signature(tampered, MERCHANT_A["payment_response_hash_key"]) != received.headers["X-Webhook-Signature-512"]
    assert signature(received.body, "another key") != received.headers["X-Webhook-Signature-512"]


def test_events_follow_the_payment_statuses(hs: HyperswitchHttp, state: SimulatorState,
                                            webhooked: WebhookReceiver) -> None:
    declined = pay(hs, DECLINE)["payment_id"]
    asynchronous = pay(hs, PROCESSING)["payment_id"]
    state.settle_payment(asynchronous, "succeeded")
    authorized = pay(hs, APPROVE, amount=5000, capture_method="manual")["payment_id"]
    hs.post(f"/payments/{authorized}/capture", {"amount_to_capture": 1000})
    voided = pay(hs, APPROVE, capture_method="manual")["payment_id"]
    hs.post(f"/payments/{voided}/cancel", {})
    challenged = pay(hs, THREE_DS, return_url="https://shop.example/")["payment_id"]

    assert state.wait_for_deliveries(5)

    assert events_for(webhooked, declined) == ["payment_failed"]
    assert events_for(webhooked, asynchronous) == ["payment_processing", "payment_succeeded"]
    assert events_for(webhooked, authorized) == ["payment_authorized", "payment_captured"]
    assert events_for(webhooked, voided) == ["payment_authorized", "payment_cancelled"]
    assert events_for(webhooked, challenged) == ["action_required"]
    for event in webhooked.events():
        validate_webhook(event)


def test_statuses_without_an_event_send_nothing(hs: HyperswitchHttp, state: SimulatorState,
                                                webhooked: WebhookReceiver) -> None:
    created = hs.post("/payments", {"payment_id": new_id("pay_"), "amount": 100, "currency": "USD"}).json()

    assert state.wait_for_deliveries(5)
    assert created["status"] == "requires_payment_method" and webhooked.events() == []


def test_at_most_one_event_per_object_and_type(hs: HyperswitchHttp, state: SimulatorState,
                                               webhooked: WebhookReceiver) -> None:
    payment_id = pay(hs, APPROVE)["payment_id"]
    for _ in range(3):
        hs.get(f"/payments/{payment_id}", params={"force_sync": "true"})

    assert state.wait_for_deliveries(5)
    assert events_for(webhooked, payment_id) == ["payment_succeeded"]


def test_non_2xx_is_retried_with_the_same_body_and_signature(hs: HyperswitchHttp, state: SimulatorState,
                                                             webhooked: WebhookReceiver) -> None:
    webhooked.fail_next(500, 503)
    pay(hs, APPROVE)

    first, second, third = webhooked.wait_for(3)

    assert first.body == second.body == third.body
    assert first.headers["X-Webhook-Signature-512"] == third.headers["X-Webhook-Signature-512"]
    assert state.wait_for_deliveries(5)
    (delivery,) = state.deliveries(merchant_id="merchant_a")
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["state"] == "delivered"


def test_retries_stop_after_the_schedule(hs: HyperswitchHttp, state: SimulatorState,
                                         webhooked: WebhookReceiver) -> None:
    webhooked.fail_next(500, 500, 500, 500, 500)
    pay(hs, APPROVE)

    assert state.wait_for_deliveries(5)

    (delivery,) = state.deliveries(merchant_id="merchant_a")
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 4  # initial + 3 retries
    assert len(webhooked.received) == 4


def test_unreachable_receiver_counts_as_a_failed_attempt(hs: HyperswitchHttp, state: SimulatorState) -> None:
    hs.post(PROFILE_PATH, {"webhook_details": {"webhook_url": "http://127.0.0.1:9/closed"}})
    state.configure_webhooks(retry_schedule=[0.01])
    pay(hs, APPROVE)

    assert state.wait_for_deliveries(5)

    (delivery,) = state.deliveries(merchant_id="merchant_a")
    assert delivery["state"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [None, None]
    assert all(a["error"] for a in delivery["attempts"])


def test_configured_duplicates(hs: HyperswitchHttp, state: SimulatorState, webhooked: WebhookReceiver) -> None:
    config = requests.post(f"{hs.base_url}/__sim/webhooks/config", json={"duplicates": 2}, timeout=5)
    assert config.status_code == 200 and config.json()["duplicates"] == 2

    pay(hs, APPROVE)

    copies = webhooked.wait_for(3)
    assert state.wait_for_deliveries(5)
    assert len(webhooked.received) == 3
    assert len({c.json()["event_id"] for c in copies}) == 1 and len({c.body for c in copies}) == 1


def test_configured_reordering_sends_newest_first(hs: HyperswitchHttp, state: SimulatorState,
                                                  webhooked: WebhookReceiver) -> None:
    state.configure_webhooks(reorder_window=0.3)
    created = [pay(hs, APPROVE)["payment_id"] for _ in range(3)]

    received = webhooked.wait_for(3)

    order = [r.json()["content"]["object"]["payment_id"] for r in received]
    assert order == created[::-1]


def test_configured_delay(hs: HyperswitchHttp, state: SimulatorState, webhooked: WebhookReceiver) -> None:
    state.configure_webhooks(delay=0.3)
    started = time.monotonic()
    pay(hs, APPROVE)

    assert webhooked.received == []  # the first attempt waits for the delay
    (received,) = webhooked.wait_for(1)
    assert received.at - started >= 0.3


def test_delay_and_reordering_together_delay_each_event_once(hs: HyperswitchHttp, state: SimulatorState,
                                                              webhooked: WebhookReceiver) -> None:
    state.configure_webhooks(delay=0.5, reorder_window=2.0)  # a window wide enough to hold all six
    created = [pay(hs, APPROVE)["payment_id"] for _ in range(6)]

    received = webhooked.wait_for(6)

    assert [r.json()["content"]["object"]["payment_id"] for r in received] == created[::-1]
    # Each event waits the delay once: one after the other they would arrive 0.5 s apart (2.5 s in all).
    assert received[-1].at - received[0].at < 1.5


def test_no_webhook_url_means_no_delivery(hs_b: HyperswitchHttp, state: SimulatorState) -> None:
    pay(hs_b, APPROVE)

    assert state.wait_for_deliveries(5)
    assert state.deliveries(merchant_id="merchant_b") == []


def test_disabled_outgoing_webhooks(hs: HyperswitchHttp, state: SimulatorState, webhooked: WebhookReceiver) -> None:
    state.configure_webhooks(enabled=False)
    pay(hs, APPROVE)

    assert state.wait_for_deliveries(5)
    assert webhooked.received == []


def test_payment_statuses_enabled_filters_events(hs: HyperswitchHttp, state: SimulatorState,
                                                 receiver: WebhookReceiver) -> None:
    profile = hs.post(PROFILE_PATH, {"webhook_details": {"webhook_url": receiver.url,
                                                         "payment_statuses_enabled": ["succeeded"]}}).json()
    assert profile["webhook_details"]["payment_statuses_enabled"] == ["succeeded"]
    failed = pay(hs, DECLINE)["payment_id"]
    succeeded = pay(hs, APPROVE)["payment_id"]

    assert state.wait_for_deliveries(5)
    assert events_for(receiver, failed) == [] and events_for(receiver, succeeded) == ["payment_succeeded"]


def test_custom_headers_are_added(hs: HyperswitchHttp, receiver: WebhookReceiver) -> None:
    hs.post(PROFILE_PATH, {"webhook_details": {"webhook_url": receiver.url},
                           "outgoing_webhook_custom_http_headers": {"X-Shared-Secret": "s3cret"}})
    pay(hs, APPROVE)

    (received,) = receiver.wait_for(1)

    assert received.headers["X-Shared-Secret"] == "s3cret"


def test_refund_events(hs: HyperswitchHttp, state: SimulatorState, webhooked: WebhookReceiver) -> None:
    payment_id = pay(hs, APPROVE, amount=5000)["payment_id"]
    done = hs.post("/refunds", {"payment_id": payment_id, "refund_id": new_id("ref_"), "amount": 1000}).json()
    state.set_refund_behaviour("pending", merchant_id="merchant_a")
    pending = hs.post("/refunds", {"payment_id": payment_id, "refund_id": new_id("ref_"), "amount": 1000}).json()
    assert state.wait_for_deliveries(5)
    assert events_for(webhooked, pending["refund_id"]) == []

    state.settle_refund(pending["refund_id"], "failed")

    assert state.wait_for_deliveries(5)
    assert events_for(webhooked, done["refund_id"]) == ["refund_succeeded"]
    assert events_for(webhooked, pending["refund_id"]) == ["refund_failed"]
    refund_event = next(e for e in webhooked.events() if e["event_type"] == "refund_failed")
    assert refund_event["content"]["type"] == "refund_details"
    assert refund_event["content"]["object"] == hs.get(f"/refunds/{pending['refund_id']}").json()
    validate_webhook(refund_event)


def test_settled_without_notification_sends_nothing(hs: HyperswitchHttp, state: SimulatorState,
                                                    webhooked: WebhookReceiver) -> None:
    payment_id = pay(hs, PROCESSING)["payment_id"]

    state.settle_payment(payment_id, "succeeded", notify=False)

    assert state.wait_for_deliveries(5)
    assert events_for(webhooked, payment_id) == ["payment_processing"]
    assert hs.get(f"/payments/{payment_id}").json()["status"] == "succeeded"


def test_mandate_revoked_at_the_connector(hs: HyperswitchHttp, webhooked: WebhookReceiver) -> None:
    mandate_id = hs.post("/payments", save_card_payment(new_id("cus_", 24), mandate=True)).json()["mandate_id"]

    revoked = requests.post(f"{hs.base_url}/__sim/mandates/{mandate_id}/revoke", timeout=5)

    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    eventually(lambda: "mandate_revoked" in events_for(webhooked, mandate_id))
    event = next(e for e in webhooked.events() if e["event_type"] == "mandate_revoked")
    assert event["content"] == {"type": "mandate_details", "object": hs.get(f"/mandates/{mandate_id}").json()}
    validate_webhook(event)


def test_deliveries_over_the_control_api(hs: HyperswitchHttp, webhooked: WebhookReceiver) -> None:
    pay(hs, APPROVE)

    waited = requests.post(f"{hs.base_url}/__sim/webhooks/wait", json={"timeout": 5}, timeout=10)
    listed = requests.get(f"{hs.base_url}/__sim/webhooks/deliveries",
                          params={"merchant_id": "merchant_a", "event_type": "payment_succeeded"}, timeout=5)

    assert waited.json() == {"idle": True}
    (delivery,) = listed.json()
    assert delivery["url"] == webhooked.url and delivery["state"] == "delivered"
    assert delivery["attempts"][0]["status_code"] == 200
    assert delivery["body"].encode() == webhooked.received[0].body
