"""Disputes on a Hyperswitch payment carried by several Kill Bill payments (a lump sum over several invoices):
the chargeback is split over the invoice payments, recorded once per part, and reversed part by part."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from bridge.db import migrate
from bridge.db.engine import session_scope
from bridge.db.payments import Transaction
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import Dispute, DisputePart
from bridge.invoices import lump_sums
from bridge.jobs import RetryLater
from bridge.payments.disputes import apply_dispute, chargeback_key
from bridge.payments.status import PluginStatus, TransactionType
from hyperswitch_client.profiles import WebhookDetailsParams
from killbill_client.invoice_payments import InvoicePaymentService
from tests.invoices.conftest import *  # noqa: F401,F403 (the payor fixtures)
from tests.invoices.conftest import make_payor
from tests.invoices.test_lump_sums import account_path, come_back, pay_all
from tests.invoices.test_pay_flow import pay_on_hosted_page
from tests.jobs import drain, fast_worker
from tests.plugin.conftest import MERCHANT

AMOUNTS = ("10.00", "25.50", "4.50")


def pay_lump_sum(client, payor, amounts=AMOUNTS):  # type: ignore[no-untyped-def]
    """Invoices of these amounts, oldest first, paid in one Hyperswitch payment from the account page:
    the invoice ids and the recorded lump sum."""
    invoices = [payor.invoice(amount) for amount in amounts]
    path = account_path(payor)
    come_back(client, path, pay_on_hosted_page(pay_all(client, path)))
    lump = lump_sums.latest(payor.env, str(payor.account_id))
    assert lump.state.value == "recorded"
    return invoices, lump


def kb_payment_of(env, lump, invoice_id) -> UUID:  # type: ignore[no-untyped-def]
    [allocation] = [a for a in lump_sums.allocations(env, lump.id) if a.kb_invoice_id == str(invoice_id)]
    return UUID(allocation.kb_payment_id)


def chargebacks(kb, payment_id: UUID) -> list:  # type: ignore[type-arg]
    return [t for t in kb.payments.get(payment_id).transactions if str(t.transaction_type) == "CHARGEBACK"]


def parts(env, hs_dispute_id: str) -> list[DisputePart]:  # type: ignore[no-untyped-def]
    with session_scope(env.sessions) as session:
        return list(session.scalars(select(DisputePart).where(DisputePart.hs_dispute_id == hs_dispute_id)
                                    .order_by(DisputePart.position)))


def lose(hs_state, hs_payment_id: str, amount: int | None = None) -> str:  # type: ignore[no-untyped-def]
    dispute = hs_state.open_dispute(hs_payment_id, amount=amount)
    hs_state.lose_dispute(dispute["dispute_id"])
    return dispute["dispute_id"]


class Crash(Exception):
    """The worker died: Kill Bill had answered, the bridge never wrote that down."""


@pytest.fixture
def crash_after_first_chargeback(monkeypatch):  # type: ignore[no-untyped-def]
    """Kill Bill records the first invoice chargeback, then the process dies before the bridge hears it."""
    real = InvoicePaymentService.chargeback
    calls = []

    def chargeback(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer = real(self, *args, **kwargs)
        calls.append(args)
        if len(calls) == 1:
            raise Crash("died after Kill Bill recorded the first part")
        return answer

    monkeypatch.setattr(InvoicePaymentService, "chargeback", chargeback)
    return calls


# -- through webhooks and the worker --------------------------------------------------------------------------
def test_a_lost_dispute_charges_back_each_invoice_payment_its_part_and_a_won_one_reverses_each(
        client, kb, hs, hs_state, runtime, payor, bridge_server) -> None:
    hs.profiles.update_webhook_details(MERCHANT["merchant_id"], WebhookDetailsParams(
        webhook_url=f"{bridge_server.url}/webhooks/hyperswitch", payment_statuses_enabled=["succeeded"]),
        MERCHANT["profile_id"])
    worker = fast_worker(runtime)
    invoices, lump = pay_lump_sum(client, payor)
    drain(worker, payor.kb_state)  # the payment's own webhook: already recorded

    dispute_id = lose(hs_state, lump.hs_payment_id)
    hs_state.wait_for_deliveries(timeout=10)
    drain(worker, payor.kb_state)

    total = Decimal(0)
    for invoice_id, amount in zip(invoices, AMOUNTS, strict=True):
        payment_id = kb_payment_of(payor.env, lump, invoice_id)
        [charged] = chargebacks(kb, payment_id)
        assert charged.amount == Decimal(amount) and str(charged.status) == "SUCCESS"
        assert charged.transaction_external_key == chargeback_key(dispute_id, str(payment_id))
        assert kb.invoices.get(invoice_id).balance == Decimal(amount)  # reopened by its own part
        total += charged.amount
    assert total == Decimal("40.00")  # the whole dispute, nothing more
    assert all(p.chargeback_recorded and not p.chargeback_reversed for p in parts(payor.env, dispute_id))

    hs_state.win_dispute(dispute_id)
    hs_state.wait_for_deliveries(timeout=10)
    drain(worker, payor.kb_state)

    for invoice_id in invoices:
        payment_id = kb_payment_of(payor.env, lump, invoice_id)
        assert [str(t.status) for t in chargebacks(kb, payment_id)] == ["SUCCESS", "PAYMENT_FAILURE"]
        assert kb.invoices.get(invoice_id).balance == 0
    assert all(p.chargeback_reversed for p in parts(payor.env, dispute_id))
    with session_scope(runtime.sessions) as session:
        row = session.get(Dispute, (payor.env.tenant_id, dispute_id))
        assert row.chargeback_recorded and row.chargeback_reversed


# -- the split ------------------------------------------------------------------------------------------------
def test_a_partial_dispute_fills_the_oldest_invoices_first(client, kb, hs_state, payor) -> None:
    invoices, lump = pay_lump_sum(client, payor)

    dispute_id = lose(hs_state, lump.hs_payment_id, amount=2000)
    outcome = apply_dispute(payor.env, dispute_id)

    assert outcome.state.value == "processed"
    assert [kb.invoices.get(i).balance for i in invoices] == [Decimal("10.00"), Decimal("10.00"), 0]
    first, second, third = (kb_payment_of(payor.env, lump, i) for i in invoices)
    assert [t.amount for t in chargebacks(kb, first)] == [Decimal("10.00")]
    assert [t.amount for t in chargebacks(kb, second)] == [Decimal("10.00")]
    assert chargebacks(kb, third) == []
    assert [(p.kb_invoice_id, p.amount_minor) for p in parts(payor.env, dispute_id)] == [
        (str(invoices[0]), 1000), (str(invoices[1]), 1000)]


def test_what_was_refunded_on_a_part_is_not_charged_back_again(client, kb, hs, hs_state, payor) -> None:
    invoices, lump = pay_lump_sum(client, payor)
    first = kb_payment_of(payor.env, lump, invoices[0])
    kb.invoice_payments.refund(first, Decimal("6.00"))  # through the plugin: a Hyperswitch refund of 6.00
    assert hs.refunds.list().data[0].amount == 600

    dispute_id = lose(hs_state, lump.hs_payment_id)  # the whole 40.00
    outcome = apply_dispute(payor.env, dispute_id)

    assert [t.amount for t in chargebacks(kb, first)] == [Decimal("4.00")]  # Kill Bill holds no more of it
    assert [p.amount_minor for p in parts(payor.env, dispute_id)] == [400, 2550, 450]
    assert "6.00 USD of it is held by no Kill Bill payment any more" in outcome.outcome


def test_a_lump_sum_recorded_as_external_payments_is_charged_back_the_same_way(
        client, kb, kb_state, hs, hs_state, runtime, tenant_id, bridge_server) -> None:
    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "pay_by_link": {"record_as_external_payment": True}}
    bare = make_payor(kb, kb_state, hs, runtime, tenant_id, with_card=False)
    invoices, lump = pay_lump_sum(client, bare, ("12.00", "8.00"))

    dispute_id = lose(hs_state, lump.hs_payment_id)
    apply_dispute(bare.env, dispute_id)

    assert [kb.invoices.get(i).balance for i in invoices] == [Decimal("12.00"), Decimal("8.00")]


# -- exactly once ---------------------------------------------------------------------------------------------
def test_run_twice_a_lost_dispute_adds_no_second_chargeback(client, kb, hs_state, payor) -> None:
    invoices, lump = pay_lump_sum(client, payor)
    dispute_id = lose(hs_state, lump.hs_payment_id)

    apply_dispute(payor.env, dispute_id)
    again = apply_dispute(payor.env, dispute_id)

    assert "Kill Bill already agrees" in again.outcome
    assert [len(chargebacks(kb, kb_payment_of(payor.env, lump, i))) for i in invoices] == [1, 1, 1]


def test_two_runs_side_by_side_add_one_chargeback_per_part(client, kb, hs_state, payor, monkeypatch) -> None:
    """Two events about one dispute (opened, lost) in two job threads: while the first run records its
    chargebacks, the second must not find Kill Bill without them and record its own."""
    invoices, lump = pay_lump_sum(client, payor)
    dispute_id = lose(hs_state, lump.hs_payment_id)
    real, side_by_side = InvoicePaymentService.chargeback, []

    def chargeback(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not side_by_side:  # the other run starts just before Kill Bill records the first part
            with pytest.raises(RetryLater) as refused:
                apply_dispute(payor.env, dispute_id)
            side_by_side.append(str(refused.value))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(InvoicePaymentService, "chargeback", chargeback)
    apply_dispute(payor.env, dispute_id)
    assert side_by_side == [f"dispute {dispute_id} is being applied to Kill Bill by another run"]
    assert "Kill Bill already agrees" in apply_dispute(payor.env, dispute_id).outcome  # the retry, later
    for invoice_id, amount in zip(invoices, AMOUNTS, strict=True):
        assert [t.amount for t in chargebacks(kb, kb_payment_of(payor.env, lump, invoice_id))] == [Decimal(amount)]


def test_a_job_that_died_after_the_first_part_resumes_without_a_second_chargeback(
        client, kb, hs_state, payor, crash_after_first_chargeback) -> None:
    invoices, lump = pay_lump_sum(client, payor)
    dispute_id = lose(hs_state, lump.hs_payment_id)

    with pytest.raises(Crash):
        apply_dispute(payor.env, dispute_id)
    assert [p.chargeback_recorded for p in parts(payor.env, dispute_id)] == [False, False, False]
    apply_dispute(payor.env, dispute_id)  # the job's retry
    apply_dispute(payor.env, dispute_id)  # and a replay

    assert len(crash_after_first_chargeback) == 3  # one Kill Bill chargeback per part, the first never again
    for invoice_id, amount in zip(invoices, AMOUNTS, strict=True):
        assert [t.amount for t in chargebacks(kb, kb_payment_of(payor.env, lump, invoice_id))] == [Decimal(amount)]
        assert kb.invoices.get(invoice_id).balance == Decimal(amount)
    assert all(p.chargeback_recorded for p in parts(payor.env, dispute_id))


def test_won_after_a_lost_job_died_half_way_reverses_the_part_it_left(
        client, kb, hs_state, payor, crash_after_first_chargeback) -> None:
    invoices, lump = pay_lump_sum(client, payor)
    dispute_id = lose(hs_state, lump.hs_payment_id)
    with pytest.raises(Crash):
        apply_dispute(payor.env, dispute_id)

    hs_state.win_dispute(dispute_id)
    apply_dispute(payor.env, dispute_id)
    apply_dispute(payor.env, dispute_id)

    first = kb_payment_of(payor.env, lump, invoices[0])
    assert [str(t.status) for t in chargebacks(kb, first)] == ["SUCCESS", "PAYMENT_FAILURE"]
    assert all(chargebacks(kb, kb_payment_of(payor.env, lump, i)) == [] for i in invoices[1:])
    assert [kb.invoices.get(i).balance for i in invoices] == [0, 0, 0]


# -- one part: as before --------------------------------------------------------------------------------------
def test_a_lump_sum_of_one_invoice_keeps_the_dispute_key(client, kb, hs_state, payor) -> None:
    [invoice_id], lump = pay_lump_sum(client, payor, ("30.00",))
    dispute_id = lose(hs_state, lump.hs_payment_id)

    apply_dispute(payor.env, dispute_id)

    [charged] = chargebacks(kb, kb_payment_of(payor.env, lump, invoice_id))
    assert charged.transaction_external_key == f"hs-dispute-{dispute_id}" and charged.amount == Decimal("30.00")


def test_the_migration_makes_a_chargeback_recorded_before_it_the_disputes_only_part(empty_database_url) -> None:
    engine = create_engine(empty_database_url)
    try:
        migrate.upgrade(engine, "0009")
        with Session(engine) as session, session.begin():
            session.add(Transaction(kb_tenant_id="t1", kb_account_id="a1", kb_payment_id="p1", kb_transaction_id="x1",
                                    transaction_type=TransactionType.PURCHASE, status=PluginStatus.PROCESSED,
                                    hs_payment_id="pay_1", kb_invoice_id="i1"))
            # Only the columns of revision 0009 (the model has gained some since).
            session.execute(insert(Dispute.__table__), [
                dict(kb_tenant_id="t1", hs_dispute_id=name, hs_payment_id="pay_1", kb_payment_id="p1", hs_status=status,
                     amount_minor=1234, currency="USD", chargeback_recorded=recorded, chargeback_reversed=False)
                for name, status, recorded in (("dp_1", "dispute_lost", True), ("dp_2", "dispute_opened", False))])
        migrate.upgrade(engine)
        with Session(engine) as session:
            adopted = list(session.scalars(select(DisputePart)))
        assert [(p.hs_dispute_id, p.position, p.kb_payment_id, p.kb_invoice_id, p.amount_minor, p.chargeback_key,
                 p.chargeback_recorded, p.chargeback_reversed) for p in adopted] == [
            ("dp_1", 0, "p1", "i1", 1234, "hs-dispute-dp_1", True, False)]
    finally:
        engine.dispose()
