"""The soak's audit is its oracle: it must agree where the two sides agree, and name every kind of disagreement."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from bridge.payments import ids
from tests.soak.audit import KbTransaction, check_inbox, check_transactions

TENANT, MERCHANT = str(uuid.uuid4()), "merchant_soak"
MERCHANTS = {TENANT: MERCHANT}


def kb_txn(status: str, amount: str = "12.34", ttype: str = "PURCHASE") -> KbTransaction:
    return KbTransaction(TENANT, str(uuid.uuid4()), str(uuid.uuid4()), ttype, status, Decimal(amount), "USD")


def hs_payment(txn: KbTransaction, status: str, received: int | None = 1234, **extra: Any) -> dict[str, Any]:
    return {"merchant_id": MERCHANT, "payment_id": ids.payment_id(txn.kb_transaction_id), "status": status,
            "amount": 1234, "amount_received": received, "create_calls": 1,
            "metadata": {"kb_tenant_id": TENANT, "kb_transaction_id": txn.kb_transaction_id}, **extra}


def hs_refund(txn: KbTransaction, status: str, amount: int = 1234) -> dict[str, Any]:
    return {"merchant_id": MERCHANT, "refund_id": ids.refund_id(txn.kb_transaction_id), "payment_id": "kbp_x",
            "status": status, "amount": amount, "currency": "USD",
            "metadata": {"kb_tenant_id": TENANT, "kb_transaction_id": txn.kb_transaction_id}}


def test_agreement_and_the_explained_leftovers() -> None:
    paid, declined, refused, never_sent, processing = (kb_txn("SUCCESS"), kb_txn("PAYMENT_FAILURE"),
                                                       kb_txn("PLUGIN_FAILURE"), kb_txn("UNKNOWN"), kb_txn("PENDING"))
    refunded = kb_txn("SUCCESS", "12.34", "REFUND")
    payments = [hs_payment(paid, "succeeded"), hs_payment(declined, "failed", None),
                hs_payment(processing, "processing", None, create_calls=3)]

    verdict = check_transactions([paid, declined, refused, never_sent, processing, refunded], MERCHANTS, payments,
                                 [hs_refund(refunded, "succeeded")])

    assert verdict.problems == []
    assert verdict.counts["agree.success"] == 2 and verdict.counts["agree.failure_no_money"] == 2
    assert verdict.counts["explained.unknown_never_reached_hyperswitch"] == 1
    assert verdict.counts["explained.pending_in_hyperswitch"] == 1
    assert verdict.counts["hs.create_retries"] == 2


def test_each_disagreement_is_named() -> None:
    unpaid, short, charged, lost_track, stale = (kb_txn("SUCCESS"), kb_txn("SUCCESS", "20.00"),
                                                 kb_txn("PLUGIN_FAILURE"), kb_txn("UNKNOWN"), kb_txn("PENDING"))
    payments = [hs_payment(unpaid, "failed", None), hs_payment(short, "succeeded"), hs_payment(charged, "succeeded"),
                hs_payment(lost_track, "succeeded"), hs_payment(stale, "succeeded")]

    verdict = check_transactions([unpaid, short, charged, lost_track, stale], MERCHANTS, payments, [])

    kinds = sorted(problem.split(":")[0] for problem in verdict.problems)
    assert kinds == ["amount_differs", "failure_but_money_moved", "pending_not_in_progress", "success_without_money",
                     "unknown_not_reconciled"]


def test_a_second_charge_for_one_transaction_and_a_charge_without_one() -> None:
    txn = kb_txn("SUCCESS")
    again = {**hs_payment(txn, "succeeded"), "payment_id": "pay_someotherid"}
    orphan = kb_txn("SUCCESS")  # Hyperswitch has it; Kill Bill does not
    verdict = check_transactions([txn], MERCHANTS, [hs_payment(txn, "succeeded"), again,
                                                    hs_payment(orphan, "succeeded")], [])

    kinds = sorted(problem.split(":")[0] for problem in verdict.problems)
    assert kinds == ["duplicate_payment", "money_without_kill_bill"]


def test_a_refund_that_failed_in_hyperswitch_is_a_failure_in_kill_bill() -> None:
    refund = kb_txn("SUCCESS", ttype="REFUND")
    verdict = check_transactions([refund], MERCHANTS, [], [hs_refund(refund, "failed")])
    assert [problem.split(":")[0] for problem in verdict.problems] == ["success_without_money"]


def delivery(event_id: str, state: str = "delivered", copy: int = 0) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": "payment_succeeded", "copy": copy, "state": state,
            "attempts": [{"status_code": None, "error": "ConnectionError: refused"}, {"status_code": 200}]}


def push(body: str, delivered: bool = True) -> dict[str, Any]:
    return {"id": 1, "tenantId": TENANT, "body": body, "delivered": delivered, "dropped": not delivered,
            "attempts": [{"status": 200 if delivered else 503}]}


def event(source: str, key: str, body: str = "{}", state: str = "processed") -> dict[str, Any]:
    return {"source": source, "kb_tenant_id": TENANT, "event_key": key, "body": body, "state": state}


def test_inbox_everything_stored_and_processed() -> None:
    verdict = check_inbox([delivery("evt_1"), delivery("evt_1", copy=1)], [push('{"a":1}')],
                          [event("hyperswitch", "evt_1"), event("killbill", "sha", '{"a":1}', "skipped")],
                          {"done": 7})

    assert verdict.problems == []
    assert verdict.counts["webhooks.events_stored"] == 1 and verdict.counts["webhooks.duplicate_copies"] == 1
    assert verdict.counts["webhooks.failed_attempts.ConnectionError"] == 2 and verdict.counts["pushes.stored"] == 1


def test_inbox_losses_and_leftovers_are_named() -> None:
    verdict = check_inbox(
        [delivery("evt_lost"), delivery("evt_refused", state="failed"), delivery("evt_failed")],
        [push('{"b":2}'), push('{"c":3}', delivered=False)],
        [event("hyperswitch", "evt_failed", state="failed"), event("killbill", "sha", '{"other":1}')],
        {"done": 3, "dead": 1, "pending": 2})

    kinds = sorted(problem.split(":")[0] for problem in verdict.problems)
    assert kinds == ["dead_jobs", "event_not_processed", "jobs_not_drained", "push_lost", "push_never_acknowledged",
                     "webhook_lost", "webhook_never_acknowledged"]
