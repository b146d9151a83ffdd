"""The janitor (reference/killbill.md §A5): getPaymentInfo for PENDING/UNKNOWN transactions, on demand and on
its (compressed) schedule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from bridge.simulators.killbill import KillBillState, create_app
from bridge.simulators.server import BackgroundServer
from killbill_client import KillBillClient, PaymentUnknownError
from killbill_client.models import (
    Account,
    ExternalCharge,
    Tenant,
    TransactionStatus,
    TransactionType,
)
from tests.simulators.killbill.fixtures import fast_config, running, seconds, stop_later
from tests.simulators.killbill.support import PLUGIN_NAME, StubPlugin


@pytest.fixture
def plugin_account(kb: KillBillClient, account: Account, stub_plugin: StubPlugin) -> Account:
    kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
    return account


def test_pending_stays_until_the_plugin_says_otherwise(kb: KillBillClient, kb_state: KillBillState,
                                                       tenant: Tenant, plugin_account: Account,
                                                       stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("PENDING")
    items = kb.invoices.create_external_charges(plugin_account.account_id, [ExternalCharge(amount=Decimal("9"))])  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    [payment] = kb.invoice_payments.list_for_invoice(items[0].invoice_id)  # type: ignore[arg-type]
    txn = payment.transactions[0]  # type: ignore[index]
    assert kb_state.run_janitor() == [{"paymentId": str(payment.payment_id), "transactionId": str(txn.transaction_id),
                                       "from": "PENDING", "to": "PENDING", "changed": False}]
    stub_plugin.settle(txn.transaction_id, "PROCESSED")
    [report] = kb_state.run_janitor()
    assert (report["from"], report["to"], report["changed"]) == ("PENDING", "SUCCESS", True)
    assert kb.invoices.get(items[0].invoice_id).balance == Decimal("0")  # type: ignore[arg-type]
    assert stub_plugin.last("getPaymentInfo") == {
        "kbAccountId": str(plugin_account.account_id), "kbPaymentId": str(payment.payment_id), "properties": [],
        "context": {"tenantId": str(tenant.tenant_id), "accountId": str(plugin_account.account_id)}}
    assert kb_state.run_janitor() == []  # nothing incomplete any more
    events = [e["eventType"] for e in kb_state.event_log(tenant.tenant_id)]
    assert events[-2:] == ["PAYMENT_SUCCESS", "INVOICE_PAYMENT_SUCCESS"]


def test_unknown_is_resolved_to_a_failure_with_the_gateway_error(kb: KillBillClient, kb_state: KillBillState,
                                                                 plugin_account: Account,
                                                                 stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("UNDEFINED")
    with pytest.raises(PaymentUnknownError) as caught:
        kb.payments.create(plugin_account.account_id, TransactionType.PURCHASE, Decimal("3"))  # type: ignore[arg-type]
    payment_id = caught.value.payment_id
    txn_id = kb.payments.get(payment_id).transactions[0].transaction_id  # type: ignore[arg-type, index]
    [still] = kb_state.run_janitor()
    assert still["to"] == "UNKNOWN"  # UNDEFINED again: nothing learnt
    stub_plugin.settle(txn_id, "ERROR")
    stub_plugin.transactions[str(txn_id)].update(gatewayErrorCode="insufficient_funds", gatewayError="No money")
    [report] = kb_state.run_janitor()
    assert report["to"] == "PAYMENT_FAILURE"
    txn = kb.payments.get(payment_id).transactions[0]  # type: ignore[arg-type, index]
    assert (txn.gateway_error_code, txn.gateway_error_msg) == ("insufficient_funds", "No money")


def test_a_transaction_the_plugin_does_not_list_is_undefined(kb: KillBillClient, kb_state: KillBillState,
                                                             plugin_account: Account,
                                                             stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("PENDING")
    payment = kb.payments.create(plugin_account.account_id, TransactionType.PURCHASE, Decimal("3"))  # type: ignore[arg-type]
    stub_plugin.transactions.clear()
    [report] = kb_state.run_janitor()
    assert (report["from"], report["to"]) == ("PENDING", "PENDING")
    assert kb.payments.get(payment.payment_id).transactions[0].status == TransactionStatus.PENDING  # type: ignore[arg-type, index]


def test_due_only_follows_kill_bills_schedule_on_the_simulated_clock(
        kb: KillBillClient, kb_state: KillBillState, plugin_account: Account, stub_plugin: StubPlugin) -> None:
    """Kill Bill's PENDING schedule, 1h then 1d, walked by moving the clock: then it gives up."""
    kb_state.config.janitor_pending_retries = (timedelta(hours=1), timedelta(days=1))
    stub_plugin.statuses.append("PENDING")
    kb.payments.create(plugin_account.account_id, TransactionType.PURCHASE, Decimal("3"))  # type: ignore[arg-type]
    assert kb_state.run_janitor(due_only=True) == []
    kb_state.advance_clock(timedelta(minutes=61))
    assert len(kb_state.run_janitor(due_only=True)) == 1
    assert kb_state.run_janitor(due_only=True) == []  # next check is a day later
    kb_state.advance_clock(timedelta(hours=23))
    assert kb_state.run_janitor(due_only=True) == []
    kb_state.advance_clock(timedelta(hours=2))
    assert len(kb_state.run_janitor(due_only=True)) == 1
    kb_state.advance_clock(timedelta(days=30))
    assert kb_state.run_janitor(due_only=True) == []  # schedule exhausted
    assert len(kb_state.run_janitor()) == 1  # on demand still works


@pytest.fixture
def timed_sim() -> Iterator[tuple[KillBillState, BackgroundServer]]:
    config = fast_config()
    config.janitor_timer, config.janitor_poll_seconds = True, 0.02
    config.janitor_pending_retries = seconds(0.05, 0.05, 0.05)
    state = KillBillState(config)
    server = running(create_app(state))
    yield state, server
    stop_later(server)
    state.close()


def test_the_janitor_timer_settles_without_being_asked(timed_sim: tuple[KillBillState, BackgroundServer]) -> None:
    state, server = timed_sim
    admin = KillBillClient(server.url, username="admin", password="password")
    tenant = admin.tenants.create("timed", "timed-secret")
    kb = admin.for_tenant("timed", "timed-secret")
    stub = StubPlugin()
    plugin_server = running(stub.app())
    try:
        state.configure_plugin(tenant.tenant_id, PLUGIN_NAME, plugin_server.url, stub.secret)  # type: ignore[arg-type]
        account = kb.accounts.create(Account(name="T", currency="EUR"))
        kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
        stub.statuses.append("PENDING")
        payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("2"))  # type: ignore[arg-type]
        stub.settle(payment.transactions[0].transaction_id, "PROCESSED")  # type: ignore[index]
        deadline = time.monotonic() + 3
        while kb.payments.get(payment.payment_id).transactions[0].status != TransactionStatus.SUCCESS:  # type: ignore[arg-type, index]
            assert time.monotonic() < deadline, "the janitor timer never ran"
            time.sleep(0.02)
    finally:
        stop_later(plugin_server)
