"""The whole chain on simulators: the Kill Bill simulator calls the bridge's plugin contract as Kill Bill
does (invoice auto-pay with IPCD_INVOICE_ID), Hyperswitch answers and sends webhooks, and the bridge
reconciles and tells Kill Bill (notifyStateChanged, refresh, chargebacks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from bridge.db.base import utcnow
from bridge.jobs.catalog import build_registry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import Worker, WorkerConfig
from bridge.payments import ids, sweeper
from bridge.simulators.server import BackgroundServer
from hyperswitch_client.profiles import WebhookDetailsParams
from killbill_client.models import ExternalCharge
from tests.plugin.conftest import MERCHANT, PLUGIN_SECRET, new_account, save_card
from tests.webhooks.test_hyperswitch_webhooks import drain

PLUGIN_NAME = "hyperswitch-bridge"


@dataclass
class Chain:
    kb: object
    kb_state: object
    hs_state: object
    worker: Worker
    account_id: UUID
    mandate_id: str

    def invoice(self, amount: str) -> UUID:
        items = self.kb.invoices.create_external_charges(  # type: ignore[attr-defined]
            self.account_id, [ExternalCharge(amount=Decimal(amount), description="Monthly plan")])
        assert self.kb_state.wait_idle(timeout=30)  # Kill Bill auto-pays on its bus, after answering
        return items[0].invoice_id

    def balance(self, invoice_id: UUID) -> Decimal:
        return self.kb.invoices.get(invoice_id).balance  # type: ignore[attr-defined]

    def payments(self):  # type: ignore[no-untyped-def]
        return self.kb.payments.list_for_account(self.account_id)  # type: ignore[attr-defined]

    def last_transaction(self):  # type: ignore[no-untyped-def]
        payments = self.payments()
        return payments[-1], payments[-1].transactions[-1]


@pytest.fixture
def chain(app, runtime, kb, kb_state, hs, hs_state, tenant_id) -> Iterator[Chain]:  # type: ignore[no-untyped-def]
    with BackgroundServer(app) as bridge:
        kb_state.configure_plugin(UUID(tenant_id), PLUGIN_NAME, bridge.url, PLUGIN_SECRET)
        hs.profiles.update_webhook_details(MERCHANT["merchant_id"], WebhookDetailsParams(
            webhook_url=f"{bridge.url}/webhooks/hyperswitch",
            payment_statuses_enabled=["succeeded", "failed", "processing"]), MERCHANT["profile_id"])
        account = new_account(kb)
        _pm, mandate_id = save_card(hs, ids.customer_id(account.account_id))
        kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                               plugin_info_properties={"hsMandateId": mandate_id})
        fast = RetryPolicy(max_attempts=20, base_seconds=0.01, max_seconds=0.05)
        worker = Worker(runtime.sessions, build_registry(), WorkerConfig(poll_seconds=0.01, lease_seconds=30,
                                                                         policy=fast), services=runtime)
        yield Chain(kb, kb_state, hs_state, worker, account.account_id, mandate_id)


def test_invoice_auto_pay_through_the_contract(chain: Chain, hs_state) -> None:
    invoice_id = chain.invoice("49.90")
    assert chain.balance(invoice_id) == 0
    payment, txn = chain.last_transaction()
    assert str(txn.status) == "SUCCESS" and txn.amount == Decimal("49.90")
    purchases = chain.kb_state.plugin_calls("purchasePayment")
    properties = {p["key"]: p["value"] for p in purchases[-1]["request"]["properties"]}
    assert properties["IPCD_INVOICE_ID"] == str(invoice_id)
    hs_payment = [p for p in hs_state.payments_overview() if p["payment_id"] == ids.payment_id(txn.transaction_id)]
    assert len(hs_payment) == 1


def test_async_payment_pending_then_webhook_then_kill_bill_success(chain: Chain) -> None:
    chain.hs_state.set_mandate_behaviour(chain.mandate_id, "processing")
    invoice_id = chain.invoice("20.00")
    payment, txn = chain.last_transaction()
    assert str(txn.status) == "PENDING"
    assert chain.balance(invoice_id) == Decimal("20.00")
    chain.hs_state.settle_payment(ids.payment_id(txn.transaction_id), "succeeded")
    chain.hs_state.wait_for_deliveries(timeout=10)
    drain(chain.worker)
    _, txn = chain.last_transaction()
    assert str(txn.status) == "SUCCESS"
    assert chain.balance(invoice_id) == 0  # notifyStateChanged carried the invoice control plugin


def test_async_payment_failure_reaches_kill_bill(chain: Chain) -> None:
    chain.hs_state.set_mandate_behaviour(chain.mandate_id, "processing")
    invoice_id = chain.invoice("20.00")
    _, txn = chain.last_transaction()
    chain.hs_state.settle_payment(ids.payment_id(txn.transaction_id), "failed")
    chain.hs_state.wait_for_deliveries(timeout=10)
    drain(chain.worker)
    _, txn = chain.last_transaction()
    assert str(txn.status) == "PAYMENT_FAILURE"
    assert chain.balance(invoice_id) == Decimal("20.00")


def test_notify_state_changed_failures_are_retried(chain: Chain) -> None:
    chain.hs_state.set_mandate_behaviour(chain.mandate_id, "processing")
    chain.invoice("11.00")
    _, txn = chain.last_transaction()
    chain.kb_state.fail_next_notify_state_changed(2, status=503)
    chain.hs_state.settle_payment(ids.payment_id(txn.transaction_id), "succeeded")
    chain.hs_state.wait_for_deliveries(timeout=10)
    drain(chain.worker, rounds=200)
    _, txn = chain.last_transaction()
    assert str(txn.status) == "SUCCESS"


def test_lost_answer_unknown_then_webhook_refreshes_kill_bill_with_one_charge(chain: Chain) -> None:
    chain.hs_state.add_fault("POST", "/payments", "drop_after_commit")
    invoice_id = chain.invoice("33.00")
    _, txn = chain.last_transaction()
    assert str(txn.status) == "UNKNOWN"
    chain.hs_state.clear_faults()
    hs_id = ids.payment_id(txn.transaction_id)
    # The payment was made, so its "succeeded" webhook reaches the bridge, which makes Kill Bill refresh.
    chain.hs_state.wait_for_deliveries(timeout=10)
    drain(chain.worker)
    _, txn = chain.last_transaction()
    assert str(txn.status) == "SUCCESS"
    assert chain.balance(invoice_id) == 0
    assert len([p for p in chain.hs_state.payments_overview() if p["payment_id"] == hs_id]) == 1


def test_lost_answer_without_webhook_is_resolved_by_the_sweeper(chain: Chain, runtime, tenant_id) -> None:
    chain.hs_state.configure_webhooks(enabled=False)
    chain.hs_state.add_fault("POST", "/payments", "drop_after_commit")
    invoice_id = chain.invoice("12.00")
    _, txn = chain.last_transaction()
    assert str(txn.status) == "UNKNOWN"
    chain.hs_state.clear_faults()
    later = utcnow() + timedelta(hours=1)
    runtime.clock = lambda: later
    runtime.reset_clients()
    assert sweeper.sweep_tenant(runtime.tenant_env(tenant_id)) == 1
    drain(chain.worker)
    _, txn = chain.last_transaction()
    assert str(txn.status) == "SUCCESS" and chain.balance(invoice_id) == 0


def test_dispute_lost_is_a_chargeback_and_won_reverses_it(chain: Chain) -> None:
    invoice_id = chain.invoice("80.00")
    payment, txn = chain.last_transaction()
    hs_id = ids.payment_id(txn.transaction_id)
    dispute = chain.hs_state.open_dispute(hs_id)
    chain.hs_state.lose_dispute(dispute["dispute_id"])
    chain.hs_state.wait_for_deliveries(timeout=10)
    drain(chain.worker)
    payment, _ = chain.last_transaction()
    chargebacks = [t for t in payment.transactions if str(t.transaction_type) == "CHARGEBACK"]
    assert len(chargebacks) == 1 and chargebacks[0].amount == Decimal("80.00")
    assert chargebacks[0].transaction_external_key == f"hs-dispute-{dispute['dispute_id']}"  # one part: as ever
    assert chain.balance(invoice_id) == Decimal("80.00")  # the invoice is open again
    chain.hs_state.win_dispute(dispute["dispute_id"])
    chain.hs_state.wait_for_deliveries(timeout=10)
    drain(chain.worker)
    payment, _ = chain.last_transaction()
    assert chain.balance(invoice_id) == 0
    assert any(str(t.status) == "PAYMENT_FAILURE" for t in payment.transactions
               if str(t.transaction_type) == "CHARGEBACK")
