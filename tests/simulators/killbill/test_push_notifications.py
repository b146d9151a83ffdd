"""Push notifications (reference/killbill.md §B3): Kill Bill's payload and headers, delivered to the
registered callback, retried on the (compressed or clock-driven) schedule with the same body."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from decimal import Decimal

from bridge.simulators.killbill import KillBillState
from killbill_client import KillBillClient
from killbill_client.constants import AUTO_PAY_OFF, EXTERNAL_PAYMENT_PLUGIN
from killbill_client.models import Account, ExternalCharge, Tenant, TransactionType
from tests.simulators.killbill.support import PLUGIN_NAME, PushReceiver, StubPlugin

FIELD_ORDER = ["eventType", "accountId", "objectType", "objectId", "metaData"]


def test_registration_is_announced_to_the_new_callback(kb: KillBillClient, tenant: Tenant,
                                                       push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    kb.tenants.register_push_callback(url)
    [delivery] = receiver.wait_for(1)
    assert delivery["headers"]["Content-Type"] == "application/json; charset=UTF-8"
    assert delivery["headers"]["User-Agent"] == "KillBill/1.0"
    assert "Authorization" not in delivery["headers"]  # Kill Bill signs nothing
    body = json.loads(delivery["body"])
    assert list(body) == FIELD_ORDER
    assert (body["eventType"], body["objectType"], body["accountId"]) == ("TENANT_CONFIG_CHANGE", "TENANT_KVS", None)
    # A tenant configuration event's metaData is the bare key, not JSON (seen on a real Kill Bill, see
    # tests/killbill_server); most other events carry a JSON object in that string.
    assert body["metaData"] == "PUSH_NOTIFICATION_CB"
    assert delivery["body"].startswith('{"eventType":"TENANT_CONFIG_CHANGE","accountId":null,')


def test_account_payment_and_invoice_events(kb: KillBillClient, kb_state: KillBillState,
                                            push_receiver: tuple[PushReceiver, str], stub_plugin: StubPlugin) -> None:
    receiver, url = push_receiver
    kb.tenants.register_push_callback(url)
    account = kb.accounts.create(Account(name="Push", currency="USD"))
    kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
    stub_plugin.statuses.append("PENDING")
    items = kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("7.25"))])  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    bodies = receiver.bodies()
    by_type = {b["eventType"]: b for b in bodies}
    assert by_type["ACCOUNT_CREATION"]["objectId"] == str(account.account_id)
    assert by_type["ACCOUNT_CREATION"]["metaData"] is None
    assert by_type["INVOICE_CREATION"]["objectId"] == str(items[0].invoice_id)
    payment = json.loads(by_type["PAYMENT_SUCCESS"]["metaData"])
    assert payment["status"] == "PENDING"  # PAYMENT_SUCCESS is sent for PENDING too: read metaData.status
    assert (payment["transactionType"], payment["amount"], payment["currency"]) == ("PURCHASE", 7.25, "USD")
    assert set(payment) == {"paymentTransactionId", "amount", "currency", "status", "transactionType",
                            "effectiveDate"}
    invoice_payment = json.loads(by_type["INVOICE_PAYMENT_FAILED"]["metaData"])  # pending is not a success yet
    assert invoice_payment["invoicePaymentType"] == "ATTEMPT"
    assert invoice_payment["paymentId"] == by_type["PAYMENT_SUCCESS"]["objectId"]


def test_tag_events_name_the_definition(kb: KillBillClient, account: Account, kb_state: KillBillState,
                                        push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    kb.tenants.register_push_callback(url)
    kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])  # type: ignore[arg-type]
    kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # type: ignore[arg-type]
    kb.tags.remove_from_account(account.account_id, [AUTO_PAY_OFF])  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    tags = [b for b in receiver.bodies() if b["objectType"] == "TAG"]
    assert [t["eventType"] for t in tags] == ["TAG_CREATION", "TAG_DELETION"]
    assert all(t["metaData"] == "AUTO_PAY_OFF" for t in tags)  # the bare definition name, as Kill Bill sends it
    assert tags[0]["accountId"] == str(account.account_id)


def test_failures_are_retried_on_the_schedule_with_the_same_body(kb: KillBillClient, kb_state: KillBillState,
                                                                 push_receiver: tuple[PushReceiver, str]) -> None:
    """fast_config retries after 0.05 s, 0.1 s, 0.15 s (Kill Bill: 15m, 30m, 2h, 12h, 1d)."""
    receiver, url = push_receiver
    receiver.failures = 2
    kb.tenants.register_push_callback(url)
    received = receiver.wait_for(3)
    assert len({r["body"] for r in received}) == 1
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(received)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1
    assert kb_state.wait_idle()  # the simulator records the last answer after the receiver saw the request
    [log] = kb_state.push_deliveries()
    assert log["delivered"] and not log["dropped"]
    assert [a["status"] for a in log["attempts"]] == [503, 503, 200]


def test_the_event_is_dropped_after_the_last_retry(kb: KillBillClient, kb_state: KillBillState,
                                                   push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    receiver.failures = 100
    kb.tenants.register_push_callback(url)
    receiver.wait_for(4)
    assert kb_state.wait_idle()
    [log] = kb_state.push_deliveries()
    assert log["dropped"] and len(log["attempts"]) == 4 and log["attempts"][-1]["nextAttemptAt"] is None
    assert len(receiver.received) == 4


def test_an_unreachable_callback_is_retried_when_the_clock_moves(kb: KillBillClient, kb_state: KillBillState) -> None:
    """With Kill Bill's real schedule (15 minutes first), moving the clock makes the retry due."""
    kb_state.config.push_retries = (timedelta(minutes=15), timedelta(minutes=30))
    kb.tenants.register_push_callback("http://127.0.0.1:9/unreachable")
    assert kb_state.wait_idle()
    [log] = kb_state.push_deliveries()
    assert len(log["attempts"]) == 1 and log["attempts"][0]["status"] is None
    assert "ConnectionError" in log["attempts"][0]["error"]
    kb_state.advance_clock(timedelta(minutes=16))
    assert kb_state.wait_idle()
    assert len(kb_state.push_deliveries()[0]["attempts"]) == 2


def test_a_slow_callback_gets_several_events_at_once(kb: KillBillClient, kb_state: KillBillState,
                                                     push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    receiver.delay = 0.5
    kb.tenants.register_push_callback(url)
    for number in range(4):
        kb.accounts.create(Account(name=f"Slow {number}", currency="USD"))

    received = receiver.wait_for(5)

    # From the bus threads at once: one after the other, the fifth would arrive two seconds after the first.
    assert received[4]["at"] - received[0]["at"] < 1.5
    assert kb_state.wait_idle()
    assert all(log["delivered"] for log in kb_state.push_deliveries())


def test_without_a_callback_nothing_is_sent(kb: KillBillClient, kb_state: KillBillState, account: Account) -> None:
    kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # type: ignore[arg-type]
    kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("1"))  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    assert kb_state.push_deliveries() == []
    assert "PAYMENT_SUCCESS" in [e["eventType"] for e in kb_state.event_log()]
